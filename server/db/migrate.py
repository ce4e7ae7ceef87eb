"""Alembic migrations, applied from code on every start (and by `estate db upgrade`)."""

from __future__ import annotations

import functools
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine

from server.db.engine import DEFERRED, MODE_OPTION

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(engine: Engine | None = None) -> Config:
    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS))
    if engine is not None:
        cfg.attributes["engine"] = engine
    return cfg


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Migrate the database to `revision`. A database already at the newest revision is left as it is after one
    query: the migration scripts are read once per process, not at every start of an app on that database."""
    if revision == "head" and current_revision(engine) == _newest():
        return
    command.upgrade(alembic_config(engine), revision)


def current_revision(engine: Engine) -> str | None:
    """The database's revision, read without taking SQLite's writer (a command started beside a running server,
    like an import, would otherwise keep the server's writes waiting while it reads it)."""
    with engine.connect().execution_options(**{MODE_OPTION: DEFERRED}) as conn:
        return MigrationContext.configure(conn).get_current_revision()


def head_revision() -> str | None:
    return ScriptDirectory.from_config(alembic_config()).get_current_head()


@functools.cache
def _newest() -> str | None:
    return head_revision()
