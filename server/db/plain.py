"""A DB-API connection for the few statements written by hand (the release lane's): SQL with `?` placeholders, run
on SQLite (sqlite3) or PostgreSQL (psycopg), with UTC times bound and read as the ORM's UTC columns store them."""

from __future__ import annotations

import contextlib
import enum
import json
from collections.abc import Callable, Iterator, Sequence
from datetime import date, datetime
from functools import cache
from typing import Any, Generic, TypeVar

from sqlalchemy import Column, Date, Engine, Table

from server.db.base import UTCDateTime, from_sqlite_time, sqlite_time

Finisher = Callable[["Plain", list[Any]], None]
T = TypeVar("T")


_LAST: set[Finisher] = set()


def runs_last(finisher: Finisher) -> Finisher:
    """Mark `finisher` to run after every other of a batch (`Plain.finish`), and so take its locks after theirs:
    the audit chain's appender, whose lock every write takes last, after the rows it changes, so that two batches
    never wait for each other."""
    _LAST.add(finisher)
    return finisher


class Later(Generic[T]):
    """A write's result that is read from a statement's answer, given by a write whose statements are still on their
    way (PostgreSQL, in the writer's pipeline): the writer reads it (`settled`) once they have answered, so the
    writes of a batch are sent one after another with no wait between them."""

    __slots__ = ("_read",)

    def __init__(self, read: Callable[[], T]) -> None:
        self._read = read


def settled(result: T | Later[T]) -> T:
    """A write's result, read if it was left for later."""
    return result._read() if isinstance(result, Later) else result


class Plain:
    """`pipeline`: the psycopg pipeline the connection is in (PostgreSQL, in the writer's batch), else None. In a
    pipeline a statement costs no round trip of its own: it is sent at once, and its result is waited for only when
    it is read (a fetch, or `rowcount`) or when the writer settles the write (`settle`)."""

    def __init__(self, connection: Any, dialect: str, pipeline: Any = None, *, together: bool = False) -> None:
        self.connection = connection
        self.dialect = dialect
        self.sqlite = dialect == "sqlite"
        self.pipeline = pipeline
        # The writer runs the batch as one (PostgreSQL, `GroupCommitWriter._commit_together`): a write may leave its
        # statements to one that makes them for every write of the batch at its end (`queue`), as a failure of any
        # of them undoes the whole batch, which then runs again a write at a time.
        self.together = together
        self.queued: list[tuple[Finisher, Any]] = []

    def queue(self, finisher: Finisher, item: Any) -> None:
        """Leave `item` for `finisher`, which the writer calls once with every item its batch queued, in order,
        just before the batch commits (or before a later write of the batch that is not plain): work that is
        cheaper once per batch than once per write, like appending to the audit chain. A write that fails takes
        its items back with it."""
        self.queued.append((finisher, item))

    def finish(self) -> None:
        """Run what was queued, each finisher once with its items, in the order they were first queued, and then
        what those finishers queued in the same way (a batch's slips queue their audit entries once numbered); the
        finishers marked `runs_last` after every other."""
        while self.queued:
            queued, self.queued = self.queued, []
            first = [(finisher, item) for finisher, item in queued if finisher not in _LAST]
            if first:
                self.queued = [(finisher, item) for finisher, item in queued if finisher in _LAST]
                queued = first
            groups: dict[Finisher, list[Any]] = {}
            for finisher, item in queued:
                groups.setdefault(finisher, []).append(item)
            for finisher, items in groups.items():
                finisher(self, items)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> Any:
        """The cursor of `sql` run with `params` (fetchone, fetchmany, rowcount, iteration)."""
        cursor = self.connection.execute(sql if self.sqlite else pyformat(sql), params)
        return cursor if self.pipeline is None else _Pipelined(cursor, self.pipeline)

    @contextlib.contextmanager
    def sent_together(self) -> Iterator[Plain]:
        """Statements sent one after another without waiting, their answers read as they are needed: on a
        PostgreSQL connection not yet in a pipeline, in one, so that reading the first answer waits one round trip
        for all of them; else this connection as it is."""
        if self.sqlite or self.pipeline is not None:
            yield self
            return
        with self.connection.pipeline() as pipeline:
            yield Plain(self.connection, self.dialect, pipeline)

    def settle(self) -> None:
        """In a pipeline, wait until every statement sent so far has answered, raising the first error among them;
        else nothing (each statement has answered already)."""
        if self.pipeline is not None:
            self.pipeline.sync()

    def executemany(self, sql: str, params: Sequence[Sequence[Any]]) -> None:
        cursor = self.connection.cursor()
        try:
            cursor.executemany(sql if self.sqlite else pyformat(sql), params)
        finally:
            cursor.close()

    def time(self, value: datetime | None) -> Any:
        """A UTC time as a parameter."""
        return sqlite_time(value) if self.sqlite else value

    def day(self, value: date) -> Any:
        """A date as a parameter (on SQLite, its ISO text, as SQLAlchemy stores a date there)."""
        return value.isoformat() if self.sqlite else value

    def read_time(self, value: Any) -> datetime | None:
        """A UTC column's value as an aware UTC datetime."""
        return from_sqlite_time(value) if self.sqlite else value

    def read_day(self, value: Any) -> date | None:
        """A date column's value as a date (SQLite gives its ISO text)."""
        return date.fromisoformat(value) if self.sqlite and isinstance(value, str) else value

    def insert(self, row: Any, **values: Any) -> int:
        """INSERT the mapped object `row` (not in any session) as the ORM would: every column of its table but the
        id, each given value first set on `row`, an unset column its default; the new row's id, also set on `row`."""
        table: Table = row.__table__
        for name, value in values.items():
            setattr(row, name, value)
        params = [self._bind(column, getattr(row, column.key)) for column in _insert_columns(table)]
        row.id = self.execute(_insert_sql(table), params).fetchone()[0]
        return int(row.id)

    def insert_all(self, rows: Sequence[Any]) -> None:
        """INSERT the mapped objects `rows` (of one table, in no session) as `insert` would, each with the id set on
        it if every one has one, and wait for no answer: on PostgreSQL one statement, the rows as one JSON array."""
        if not rows:
            return
        table: Table = rows[0].__table__
        columns = _insert_columns(table)
        if "id" in table.c and all(row.id is not None for row in rows):
            columns = (table.c.id, *columns)
        names = ", ".join(c.name for c in columns)
        if self.sqlite:
            marks = ", ".join("?" for _ in columns)
            sql = f"INSERT INTO {table.name} ({names}) VALUES ({marks})"
            self.executemany(sql, [[self._bind(c, getattr(row, c.key)) for c in columns] for row in rows])
            return
        values = [{c.name: self._bind(c, getattr(row, c.key)) for c in columns} for row in rows]
        rows_of = f"json_populate_recordset(NULL::{table.name}, ?::json)"
        values_json = json.dumps(values, ensure_ascii=False, default=_json_value)
        self.execute(f"INSERT INTO {table.name} ({names}) SELECT {names} FROM {rows_of}", (values_json,))

    def _bind(self, column: Column[Any], value: Any) -> Any:
        if value is None and column.default is not None:
            default = column.default
            value = default.arg(None) if default.is_callable else default.arg  # type: ignore[attr-defined]
        if value is None:
            return None
        if isinstance(column.type, UTCDateTime):
            return self.time(value)
        if isinstance(value, enum.Enum):
            return value.value
        if isinstance(column.type, Date):
            return self.day(value)
        return value


class _Pipelined:
    """A cursor in a pipeline: a fetch waits for its own result (psycopg does so), and so does `rowcount`, which
    psycopg gives as -1 until the result has arrived."""

    def __init__(self, cursor: Any, pipeline: Any) -> None:
        self._cursor = cursor
        self._pipeline = pipeline

    @property
    def rowcount(self) -> int:
        if self._cursor.pgresult is None:
            self._pipeline.sync()
        return int(self._cursor.rowcount)

    def fetchone(self) -> Any:
        return self._cursor.fetchone()

    def fetchall(self) -> list[Any]:
        return list(self._cursor.fetchall())

    def fetchmany(self, size: int = 0) -> list[Any]:
        return list(self._cursor.fetchmany(size))

    def __iter__(self) -> Any:
        return iter(self._cursor)


def _json_value(value: Any) -> str:
    """A time, a day or bytes in JSON as PostgreSQL reads them into their columns (bytea from its hex form)."""
    if isinstance(value, date):  # a datetime too
        return value.isoformat()
    if isinstance(value, bytes | bytearray | memoryview):
        return "\\x" + bytes(value).hex()
    raise TypeError(f"{type(value).__name__} is not a column value plain statements write")


@cache
def _insert_columns(table: Table) -> tuple[Column[Any], ...]:
    return tuple(c for c in table.columns if c.key != "id")


@cache
def _insert_sql(table: Table) -> str:
    columns = _insert_columns(table)
    return (
        f"INSERT INTO {table.name} ({', '.join(c.name for c in columns)})"
        f" VALUES ({', '.join('?' for _ in columns)}) RETURNING id"
    )


@cache
def pyformat(sql: str) -> str:
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
