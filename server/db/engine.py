"""Engine and sessions for SQLite (the embedded default) and PostgreSQL."""

from __future__ import annotations

import contextvars
import threading
import weakref
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import ExceptionContext, make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError, OperationalError
from sqlalchemy.orm import Session, sessionmaker

SUPPORTED = "sqlite:///PATH or postgresql+psycopg://USER@HOST:PORT/DB"
# Connections a process keeps: enough for every request let in at once (server.web.app.IN_FLIGHT), the group
# writer and a few background tasks, so a burst waits at the door instead of failing for want of a connection.
POOL_SIZE = 40
POOL_TIMEOUT = 120


class DatabaseConfigError(RuntimeError):
    """The configured database cannot be used; the message says why and what is accepted."""


class StaleSnapshot(RuntimeError):
    """A SQLite transaction that began as a reader tried to write after another writer committed: what it read may
    be out of date, so the whole unit of work must run again (the web layer retries the request once)."""


def make_engine(url: str, *, check: bool = True) -> Engine:
    """Build an engine for `url`, turning every misconfiguration into one clear `DatabaseConfigError`."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseConfigError(f"invalid database URL {url!r}: expected {SUPPORTED}") from exc
    if parsed.get_backend_name() not in ("sqlite", "postgresql"):
        raise DatabaseConfigError(f"unsupported database {parsed.get_backend_name()!r}: expected {SUPPORTED}")
    kwargs: dict[str, Any] = {"pool_size": POOL_SIZE, "max_overflow": 0, "pool_timeout": POOL_TIMEOUT}
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            try:
                Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
            except OSError as exc:
                raise DatabaseConfigError(f"cannot create the folder for {parsed.database!r}: {exc.strerror}") from exc
        else:
            kwargs = {}
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


# How a SQLite session's transactions begin (an execution option of the session's bind):
IMMEDIATE = "immediate"  # take the write lock at BEGIN: commands, the group writer, a request run again
DEFERRED = "deferred"  # a reader holding a snapshot; never queues on this process's write lock
OPTIMISTIC = "optimistic"  # read from a snapshot, take the write lock only at the first write statement
MODE_OPTION = "estate_sqlite_mode"
# Set while a request runs again after a StaleSnapshot: its transactions take the write lock at BEGIN.
pessimistic: contextvars.ContextVar[bool] = contextvars.ContextVar("estate_sqlite_pessimistic", default=False)

_WRITER = "estate_sqlite_writer"
_OPTIMISTIC = "estate_sqlite_optimistic"
_WRITES = ("INSERT", "UPDATE", "DELETE", "REPLACE")
# SQLITE_BUSY, and SQLITE_BUSY_SNAPSHOT: a snapshot older than the newest commit cannot become a write.
_STALE_CODES = (5, 517)


def _configure_sqlite(engine: Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Take transaction control from pysqlite so each transaction begins as this module decides.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # Every commit reaches the disk before its answer leaves: an acknowledged write survives a power loss.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    # SQLite has one writer. Writers of this process queue for it on a lock, in order, rather than polling the
    # database lock with SQLite's sleeping busy handler, which left the unluckiest writer waiting for seconds.
    # The lock is held from a transaction's first write (or its BEGIN IMMEDIATE) until the connection goes back
    # to the pool, which is after its COMMIT or ROLLBACK has finished.
    writer = _WriterLock()
    _writer_locks[engine] = writer

    def _take_writer(connection: Any) -> None:
        if not connection.info.get(_WRITER):
            writer.acquire()
            connection.info[_WRITER] = True

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        mode = connection.get_execution_options().get(MODE_OPTION, IMMEDIATE)
        if mode == OPTIMISTIC and pessimistic.get():
            mode = IMMEDIATE
        if mode == IMMEDIATE:
            _take_writer(connection)
            connection.exec_driver_sql("BEGIN IMMEDIATE")
            return
        connection.info[_OPTIMISTIC] = mode == OPTIMISTIC
        connection.exec_driver_sql("BEGIN DEFERRED")

    @event.listens_for(engine, "before_cursor_execute")
    def _before_execute(connection: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        if connection.info.get(_OPTIMISTIC) and statement.lstrip()[:7].upper().startswith(_WRITES):
            _take_writer(connection)

    @event.listens_for(engine, "handle_error")
    def _on_error(context: ExceptionContext) -> None:
        code = getattr(context.original_exception, "sqlite_errorcode", None)
        connection = context.connection
        if code in _STALE_CODES and connection is not None and connection.info.get(_OPTIMISTIC):
            raise StaleSnapshot("the data read was changed by another writer; run the unit of work again")

    @event.listens_for(engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info.pop(_OPTIMISTIC, None)
        if record.info.pop(_WRITER, False):
            writer.release()


class _WriterLock:
    """The process's SQLite write lock, knowing which thread holds it."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.owner: int | None = None

    def acquire(self) -> None:
        self._lock.acquire()
        self.owner = threading.get_ident()

    def release(self) -> None:
        self.owner = None
        self._lock.release()


_writer_locks: weakref.WeakKeyDictionary[Engine, _WriterLock] = weakref.WeakKeyDictionary()


def holds_write_lock(engine: Engine) -> bool:
    """Whether a transaction of the calling thread holds this process's SQLite write lock on `engine`."""
    lock = _writer_locks.get(engine)
    return lock is not None and lock.owner == threading.get_ident()


def make_sessionmaker(engine: Engine, *, reader: bool = False, optimistic: bool = False) -> sessionmaker[Session]:
    """Sessions on `engine`. On SQLite a transaction takes the write lock when it begins, unless `reader`: a
    reader's transaction holds only a snapshot and never keeps a writer waiting (for reports, exports, checks);
    or `optimistic`: it reads from a snapshot and takes the write lock at its first write, and a StaleSnapshot
    then says the unit of work must run again (the web app's request sessions)."""
    mode = DEFERRED if reader else OPTIMISTIC if optimistic else IMMEDIATE
    bind = engine.execution_options(**{MODE_OPTION: mode}) if mode != IMMEDIATE else engine
    return sessionmaker(bind, expire_on_commit=False)
