"""Short writes prepared by requests, run for them: on SQLite by one writer thread that commits the writes of many
requests in one transaction and one fsync (group commit); on PostgreSQL each in its own short transaction.

A request does its reads, checks and rendering first, outside any write lock, and hands over only the write: a
function of a session that changes rows and returns plain data. `run` returns only once that write is durable, so
an answer never reports a change that a power loss could take back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol, TypeVar

import anyio.to_thread
from psycopg.pq import TransactionStatus
from sqlalchemy import Engine, create_engine
from sqlalchemy.orm import Session, sessionmaker

from server.db.engine import holds_write_lock, make_sessionmaker
from server.db.plain import Later, Plain, settled

T = TypeVar("T")
Work = Callable[[Session], T]
PlainWork = Callable[[Plain], T | Later[T]]
MAX_BATCH = 256
POST_WAIT = 0.05  # seconds a posted write is waited for before the caller goes on without it
IDLE_SECONDS = 2.0  # the writer thread ends after this long without work and starts again with the next write
_IN_ERROR = TransactionStatus.INERROR
log = logging.getLogger(__name__)


class Writer(Protocol):
    def run(self, work: Work[T]) -> T:
        """Run `work` and commit; from a worker thread."""
        ...

    async def submit(self, work: Work[T]) -> T:
        """The same, awaited on the event loop: no worker thread waits while the write queues."""
        ...

    async def submit_plain(self, work: PlainWork[T]) -> T:
        """`submit` for a write in plain statements (`Plain`) on the transaction's connection."""
        ...

    def post(self, work: Work[Any]) -> None:
        """Have `work` written, waiting for it only briefly where waiting could be long (SQLite, behind another
        process's writes): for a note the caller's answer does not depend on. A failure is logged."""
        ...


class DirectWriter:
    """Each write in its own short transaction, in the calling thread (PostgreSQL: many workers, row locks)."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions

    def run(self, work: Work[T]) -> T:
        with self.sessions() as session:
            result = work(session)
            session.commit()
            return result

    async def submit(self, work: Work[T]) -> T:
        return await anyio.to_thread.run_sync(self.run, work)

    def post(self, work: Work[Any]) -> None:
        """At once, in the calling thread: on PostgreSQL a short transaction waits only for the rows it changes."""
        try:
            self.run(work)
        except Exception:
            log.exception("a posted write failed")

    async def submit_plain(self, work: PlainWork[T]) -> T:
        return await anyio.to_thread.run_sync(self._run_plain, work)

    def _run_plain(self, work: PlainWork[T]) -> T:
        with self.sessions() as session:
            db = _plain(session)
            result = settled(work(db))
            db.finish()
            session.commit()
            return result


@dataclass
class _Job:
    work: Callable[[Any], Any]
    done: Callable[[], None]
    plain: bool = False  # `work` takes the batch's sqlite3 connection, not a session
    result: Any = None
    error: BaseException | None = None

    def outcome(self) -> Any:
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommitWriter:
    """One thread runs the queued writes in batches: each write in its own savepoint (a refused write undoes only
    itself), one COMMIT for the batch, then every caller of the batch gets its answer. While a batch commits, the
    next one gathers, so under load many requests share one fsync. On PostgreSQL a batch of plain writes is first
    tried together, with no savepoints and no round trip between its writes (`_commit_together`)."""

    def __init__(self, engine: Engine, max_batch: int = MAX_BATCH) -> None:
        self.engine = engine
        self.pipelines = engine.dialect.name == "postgresql"  # plain writes run pipelined (psycopg)
        # On PostgreSQL the writer's batches go out on a connection of its own, from a pool of one that does not
        # ping a connection before each batch (the app's pool does, a round trip each time). A connection the
        # database dropped fails the batch it was given to, and the pool replaces it for the next. On SQLite the
        # app's pool: a connection holds this process's write lock until it goes back to it.
        self._own = create_engine(engine.url, pool_size=1, max_overflow=0) if self.pipelines else None
        self.sessions = make_sessionmaker(self._own or engine)
        self.max_batch = max_batch
        self.batches: Counter[str] = Counter()  # committed "together" (one pipeline), or "write_by_write"
        self._pending: list[_Job] = []
        self._wake = threading.Condition()
        self._thread: threading.Thread | None = None

    def close(self) -> None:
        """Close the writer's own connection (PostgreSQL), once no more writes come."""
        if self._own is not None:
            self._own.dispose()

    def run(self, work: Work[T]) -> T:
        if holds_write_lock(self.engine):  # it would wait for itself
            raise RuntimeError("commit this thread's write before handing the next one to the writer")
        finished = threading.Event()
        job = _Job(work, finished.set)
        self._enqueue(job)
        finished.wait()
        return job.outcome()

    async def submit(self, work: Work[T]) -> T:
        return await self._await(_Job(work, _no_op))

    def post(self, work: Work[Any]) -> None:
        """Queue `work` with the next batch and wait for it at most POST_WAIT: as a plain write when the database's
        writer is free (the batch is on disk within milliseconds), without holding the caller up when another
        process keeps the writer (an import). A failure is logged."""
        finished = threading.Event()
        job = _Job(work, finished.set)

        def done() -> None:
            if job.error is not None:
                log.error("a posted write failed", exc_info=job.error)
            finished.set()

        job.done = done
        self._enqueue(job)
        finished.wait(POST_WAIT)

    async def submit_plain(self, work: PlainWork[T]) -> T:
        """`submit` for a write in plain statements on the batch's connection (the hottest writes, where the ORM's
        own work would cost more than the statements): its own savepoint, the batch's commit."""
        return await self._await(_Job(work, _no_op, plain=True))

    async def _await(self, job: _Job) -> Any:
        loop = asyncio.get_running_loop()
        finished = asyncio.Event()

        def done() -> None:
            loop.call_soon_threadsafe(finished.set)

        job.done = done
        self._enqueue(job)
        await finished.wait()
        return job.outcome()

    def _enqueue(self, job: _Job) -> None:
        with self._wake:
            self._pending.append(job)
            if self._thread is None:
                self._thread = threading.Thread(target=self._loop, name="estate-group-writer", daemon=True)
                self._thread.start()
            self._wake.notify()

    def _loop(self) -> None:
        while True:
            with self._wake:
                if not self._pending:
                    self._wake.wait(IDLE_SECONDS)
                if not self._pending:
                    self._thread = None
                    return
                batch, self._pending = self._pending[: self.max_batch], self._pending[self.max_batch :]
            self._commit(batch)

    def _commit(self, batch: list[_Job]) -> None:
        if self.pipelines and all(job.plain for job in batch) and self._commit_together(batch):
            self.batches["together"] += 1
            return
        self.batches["write_by_write"] += 1
        try:
            with self.sessions() as session, contextlib.ExitStack() as pipelined:
                queued: list[tuple[Any, Any]] = []  # what the batch's plain writes left for its end
                pipeline: Any = None
                for job in batch:
                    try:
                        if job.plain:
                            if pipeline is None and self.pipelines:
                                pipeline = pipelined.enter_context(_driver(session).pipeline())
                            job.result = _in_savepoint(session, job.work, queued, pipeline)
                        else:
                            _finish(session, queued, pipeline)  # in order, before a write that may append too
                            pipelined.close()  # the ORM reads every result (row counts) as it goes
                            pipeline = None
                            with session.begin_nested():
                                job.result = job.work(session)
                    except Exception as exc:
                        job.error = exc
                _finish(session, queued, pipeline)
                pipelined.close()
                if self.pipelines and _driver(session).info.transaction_status == _IN_ERROR:
                    raise RuntimeError("the batch's transaction failed: nothing of it is committed")
                session.commit()
        except BaseException as exc:  # the batch did not commit: no caller may hear of success
            for job in batch:
                if job.error is None:
                    job.error = exc
        finally:
            for job in batch:
                job.done()

    def _commit_together(self, batch: list[_Job]) -> bool:
        """A batch of plain writes run as one (PostgreSQL): every statement sent in one pipeline with no savepoints
        and no waits between writes, one sync and one commit. True when it committed and its callers have their
        answers; False, with nothing committed and nobody answered, when any write raised or any statement failed:
        `_commit` then runs the batch again a write at a time, each in its own savepoint, so that a failure is
        its own write's alone. A write may run twice, so it may change nothing but the database."""
        try:
            with self.sessions() as session:
                with _driver(session).pipeline() as pipeline:
                    db = _plain(session, pipeline, together=True)
                    sent = [job.work(db) for job in batch]
                    db.finish()
                    results = [settled(result) for result in sent]
                if _driver(session).info.transaction_status == _IN_ERROR:
                    return False
                session.commit()
        except Exception:
            log.debug("a batch of %d plain writes failed together; each is run alone", len(batch), exc_info=True)
            return False
        for job, result in zip(batch, results, strict=True):
            job.result = result
            job.done()
        return True


def _no_op() -> None:
    pass


def _driver(session: Session) -> Any:
    """The DB-API connection of the session's transaction."""
    return session.connection().connection.driver_connection


def _plain(session: Session, pipeline: Any = None, *, together: bool = False) -> Plain:
    return Plain(_driver(session), session.connection().dialect.name, pipeline, together=together)


def _in_savepoint(session: Session, work: PlainWork[T], queued: list[tuple[Any, Any]], pipeline: Any = None) -> T:
    """`work` on the session's DB-API connection (inside the batch's transaction), undone alone if it raises; what
    it queued for the batch's end joins `queued` only if it succeeded. In a pipeline (PostgreSQL) the write's
    statements go out together and the write is settled before the next begins: every one of its statements has
    answered, so an error is its own and undoes only it."""
    session.flush()
    db = _plain(session, pipeline)
    db.execute("SAVEPOINT plain_write")
    try:
        result = settled(work(db))
        db.execute("RELEASE SAVEPOINT plain_write")
        db.settle()
    except BaseException:
        if pipeline is not None:
            with contextlib.suppress(Exception):  # the pipeline ends its aborted stretch
                pipeline.sync()
        db.execute("ROLLBACK TO SAVEPOINT plain_write")
        db.execute("RELEASE SAVEPOINT plain_write")
        db.settle()
        raise
    queued.extend(db.queued)
    return result


def _finish(session: Session, queued: list[tuple[Any, Any]], pipeline: Any = None) -> None:
    if queued:
        db = _plain(session, pipeline)
        db.queued, queued[:] = list(queued), []
        db.finish()


def make_writer(engine: Engine) -> Writer:
    """The group-committing writer on SQLite (one process owns the file), plain short transactions elsewhere."""
    if engine.dialect.name == "sqlite":
        return GroupCommitWriter(engine)
    return DirectWriter(make_sessionmaker(engine))
