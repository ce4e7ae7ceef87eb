"""A command started beside a running server on the same SQLite file (an import from the command line) checks the
database's revision first: it must read it without taking the file's one writer, or a server's write would wait
for it."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import Engine

from server.db.engine import make_engine
from server.db.migrate import _newest, current_revision

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_the_revision_is_read_while_another_process_holds_the_writer(engine: Engine) -> None:
    path = engine.url.database
    assert path
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")  # as a server's write in progress holds it
    try:
        # Taking the writer would wait out the busy timeout (30 s), then fail with "database is locked".
        assert current_revision(make_engine(f"sqlite:///{path}")) == _newest()
    finally:
        holder.execute("ROLLBACK")
        holder.close()
