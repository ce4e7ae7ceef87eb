"""A DB-API connection for the few statements written by hand (the release lane's): SQL with `?` placeholders, run
on SQLite (sqlite3) or PostgreSQL (psycopg), with UTC times bound and read as the ORM's UTC columns store them."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import cache
from typing import Any

from sqlalchemy import Engine

from server.db.base import from_sqlite_time, sqlite_time

Finisher = Callable[["Plain", list[Any]], None]


class Plain:
    def __init__(self, connection: Any, dialect: str) -> None:
        self.connection = connection
        self.dialect = dialect
        self.sqlite = dialect == "sqlite"
        self.queued: list[tuple[Finisher, Any]] = []

    def queue(self, finisher: Finisher, item: Any) -> None:
        """Leave `item` for `finisher`, which the writer calls once with every item its batch queued, in order,
        just before the batch commits (or before a later write of the batch that is not plain): work that is
        cheaper once per batch than once per write, like appending to the audit chain. A write that fails takes
        its items back with it."""
        self.queued.append((finisher, item))

    def finish(self) -> None:
        """Run what was queued, each finisher once with its items, in the order they were first queued."""
        queued, self.queued = self.queued, []
        groups: dict[Finisher, list[Any]] = {}
        for finisher, item in queued:
            groups.setdefault(finisher, []).append(item)
        for finisher, items in groups.items():
            finisher(self, items)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The cursor of `sql` run with `params` (fetchone, fetchmany, rowcount, iteration)."""
        return self.connection.execute(sql if self.sqlite else _pyformat(sql), params)

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.executemany(sql if self.sqlite else _pyformat(sql), params)
        finally:
            cursor.close()

    def time(self, value: datetime | None) -> Any:
        """A UTC time as a parameter."""
        return sqlite_time(value) if self.sqlite else value

    def read_time(self, value: Any) -> datetime | None:
        """A UTC column's value as an aware UTC datetime."""
        return from_sqlite_time(value) if self.sqlite else value


@cache
def _pyformat(sql: str) -> str:
    return sql.replace("%", "%%").replace("?", "%s")


def connect_reader(engine: Engine) -> Plain:
    """A connection of its own (outside the engine's pool) that only reads, each statement in its own snapshot."""
    cargs, cparams = engine.dialect.create_connect_args(engine.url)
    connection = engine.dialect.connect(*cargs, **cparams)
    dialect = engine.dialect.name
    if dialect == "sqlite":
        connection.isolation_level = None
        connection.execute("PRAGMA query_only=ON")
        connection.execute("PRAGMA busy_timeout=30000")
    else:
        connection.autocommit = True
        connection.execute("SET default_transaction_read_only = on")
    return Plain(connection, dialect)
