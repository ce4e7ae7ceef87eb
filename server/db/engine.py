"""Engine and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

SUPPORTED = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"


class DatabaseConfigError(RuntimeError):
    """The configured database cannot be used; the message says why and what is accepted."""


def make_engine(url: str, *, check: bool = True) -> Engine:
    """Build an engine for `url`, turning every misconfiguration into one clear `DatabaseConfigError`."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseConfigError(f"invalid database URL {url!r}: expected {SUPPORTED}") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseConfigError(f"unsupported database {parsed.get_backend_name()!r}: expected {SUPPORTED}")
    kwargs: dict[str, Any] = {}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseConfigError(f"cannot create the folder for {parsed.database!r}: {exc.strerror}") from exc
        kwargs["connect_args"] = {"check_same_thread": False, "timeout": 30}
    else:
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(parsed, **kwargs)
    except (NoSuchModuleError, ArgumentError, ImportError) as exc:
        raise DatabaseConfigError(f"cannot use database URL {parsed.render_as_string()!r}: {exc}") from exc
    if parsed.get_backend_name() == "sqlite":
        _configure_sqlite(engine)
    if check:
        try:
            with engine.connect():
                pass
        except OperationalError as exc:
            reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
            raise DatabaseConfigError(f"cannot open database {parsed.render_as_string()!r}: {reason}") from exc
    return engine


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so every transaction starts as BEGIN IMMEDIATE: SQLite has one
        # writer, and taking the lock up front avoids a stale-snapshot failure half-way through a write.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    # SQLite has one writer. Writers of this process queue for it on a lock, in order, rather than polling the
    # database lock with SQLite's sleeping busy handler, which left the unluckiest writer waiting for seconds.
    # The lock is taken when a write transaction begins and let go when the connection goes back to the pool,
    # which is after its COMMIT or ROLLBACK has finished.
    writer = threading.Lock()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        if connection.get_execution_options().get(DEFERRED_OPTION, False):
            connection.exec_driver_sql("BEGIN DEFERRED")
            return
        if not connection.info.get(_WRITER):
            writer.acquire()
            connection.info[_WRITER] = True
        connection.exec_driver_sql("BEGIN IMMEDIATE")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        if record.info.pop(_WRITER, False):
            writer.release()


DEFERRED_OPTION = "estate_sqlite_deferred"
_WRITER = "estate_sqlite_writer"


def make_sessionmaker(engine: Engine, *, reader: bool = False) -> sessionmaker[Session]:
    """Sessions on `engine`. On SQLite a transaction takes the write lock when it begins, unless `reader`: a
    reader's transaction holds only a snapshot and never keeps a writer waiting (for reports, exports, checks)."""
    bind = engine.execution_options(**{DEFERRED_OPTION: True}) if reader else engine
    return sessionmaker(bind, expire_on_commit=False)
