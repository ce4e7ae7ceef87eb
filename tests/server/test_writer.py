"""The group writer's batch: each write in its own savepoint, one commit for all; a plain write's queued work (its
audit entry) is done at the batch's end in order, and goes with the write if the write fails."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.db.engine import make_sessionmaker
from server.db.models import AuditEntry, AuditHead
from server.db.plain import Later, Plain
from server.db.writer import GroupCommitWriter, _Job
from server.domain import audit
from server.domain.actors import SYSTEM


def _done() -> None:
    pass


def test_a_batch_appends_the_audit_entries_of_its_writes_in_order_and_drops_a_failed_ones(engine: Engine) -> None:
    def plain(action: str, fail: bool = False) -> _Job:
        def work(db: Plain) -> str:
            audit.record_plain(db, SYSTEM, action, "test", action, estate_id=None, n=1)
            if fail:
                raise RuntimeError("refused after queuing its entry")
            return action

        return _Job(work, _done, plain=True)

    def session_write(session: Session) -> str:
        audit.record(session, SYSTEM, "test.c", "test", "test.c")
        return "test.c"

    batch = [plain("test.a"), plain("test.b", fail=True), _Job(session_write, _done), plain("test.d")]
    GroupCommitWriter(engine)._commit(batch)

    assert [job.result for job in batch] == ["test.a", None, "test.c", "test.d"]
    assert isinstance(batch[1].error, RuntimeError)
    with make_sessionmaker(engine)() as session:
        entries = session.scalars(select(AuditEntry).where(AuditEntry.entity == "test").order_by(AuditEntry.seq))
        assert [e.action for e in entries] == ["test.a", "test.c", "test.d"]
        assert audit.verify(session).ok  # hashes, links and the head as a session's appends leave them
        head = audit.head(session)
        last = session.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc()).limit(1)).one()
        assert head is not None and (head.seq, head.hash) == (last.seq, last.hash)


def test_a_batch_whose_end_fails_answers_every_write_with_the_failure(engine: Engine) -> None:
    """No write of a batch that did not commit is reported done, and none of it is kept."""

    def broken_finisher(db: Plain, items: list[object]) -> None:
        raise RuntimeError("the batch's end failed")

    def work(db: Plain) -> str:
        db.execute("UPDATE audit_head SET seq = seq WHERE id = 1")
        db.queue(broken_finisher, "x")
        return "written"

    batch = [_Job(work, _done, plain=True), _Job(work, _done, plain=True)]
    GroupCommitWriter(engine)._commit(batch)
    assert all(isinstance(job.error, RuntimeError) for job in batch)
    with pytest.raises(RuntimeError):
        batch[0].outcome()


def test_a_write_fails_alone_when_a_statement_it_never_read_fails(engine: Engine) -> None:
    """On PostgreSQL a batch's plain writes are pipelined: a statement goes out without waiting for its answer. Each
    write is settled before the next begins, so a statement that fails unread (here a duplicate key, after a row
    the same write added) fails that write alone: all of it is undone, the writes around it commit, and a row
    count read in the pipeline is the real one."""

    def add(*ids: int) -> Callable[[Plain], int]:
        def work(db: Plain) -> int:
            counted = db.execute("UPDATE audit_head SET seq = seq + 1 WHERE hash = 'test'").rowcount
            for row in ids:  # no answer read after this
                db.execute("INSERT INTO audit_head (id, seq, hash) VALUES (?, 0, 'test')", (row,))
            return counted

        return work

    batch = [_Job(add(100), _done, plain=True), _Job(add(101, 100), _done, plain=True), _Job(add(102), _done, True)]
    writer = GroupCommitWriter(engine)
    writer._commit(batch)
    assert writer.batches == {"write_by_write": 1}  # on PostgreSQL, after the batch failed together

    assert batch[0].result == 0 and batch[2].result == 1  # the rows of the batch so far, as each write saw them
    assert batch[1].error is not None and batch[1].result is None
    assert "duplicate" in str(batch[1].error).lower() or "unique" in str(batch[1].error).lower()
    with make_sessionmaker(engine)() as session:
        rows = session.execute(
            select(AuditHead.id, AuditHead.seq).where(AuditHead.hash == "test").order_by(AuditHead.id)
        )
        assert [tuple(row) for row in rows] == [(100, 1), (102, 0)]  # 101 went with its failed write


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_plain_writes_commit_together_and_read_their_answers_once_all_are_sent(engine: Engine) -> None:
    """On PostgreSQL a batch of plain writes goes out as one: no savepoints, no wait between writes. A write whose
    result is a statement's answer leaves it for later (`Later`), read when every write of the batch is sent; an
    audit entry queued on a condition (`when`) is appended only if the condition then holds. (SQLite runs each
    write of a batch in its own savepoint: there is no pipeline to send it in.)"""

    def add(row: int, entry: bool) -> Callable[[Plain], Later[int]]:
        def work(db: Plain) -> Later[int]:
            cursor = db.execute(
                "INSERT INTO audit_head (id, seq, hash) VALUES (?, ?, 'test') RETURNING seq", (row, row)
            )
            audit.record_plain(db, SYSTEM, f"test.{row}", "test", row, estate_id=None, when=lambda: entry)
            return Later(lambda: int(cursor.fetchone()[0]) * 10)

        return work

    batch = [_Job(add(200, True), _done, plain=True), _Job(add(201, False), _done, plain=True)]
    writer = GroupCommitWriter(engine)
    writer._commit(batch)

    assert writer.batches == {"together": 1}
    assert [job.outcome() for job in batch] == [2000, 2010]
    with make_sessionmaker(engine)() as session:
        assert session.scalars(select(AuditHead.id).where(AuditHead.hash == "test").order_by(AuditHead.id)).all() == [
            200,
            201,
        ]
        entries = session.scalars(select(AuditEntry.action).where(AuditEntry.entity == "test")).all()
        assert entries == ["test.200"]
        assert audit.verify(session).ok


@pytest.mark.parametrize("database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True)
def test_a_connection_the_database_dropped_is_replaced_and_its_batch_written(engine: Engine) -> None:
    """On PostgreSQL the writer keeps a connection of its own and does not ping it before each batch: when the
    database has dropped it (a restart, a terminated backend), the batch given to it fails together, and runs again
    a write at a time on a new connection: nothing is lost and no caller hears of the drop."""

    def pid(db: Plain) -> int:
        return int(db.execute("SELECT pg_backend_pid()").fetchone()[0])

    def add(row: int) -> Callable[[Plain], int]:
        def work(db: Plain) -> int:
            db.execute("INSERT INTO audit_head (id, seq, hash) VALUES (?, 0, 'test')", (row,))
            return row

        return work

    writer = GroupCommitWriter(engine)
    try:
        first = _Job(pid, _done, plain=True)
        writer._commit([first])
        with engine.connect() as admin:
            admin.exec_driver_sql(f"SELECT pg_terminate_backend({first.outcome()})")
        dropped = [_Job(add(300), _done, plain=True), _Job(add(301), _done, plain=True), _Job(pid, _done, plain=True)]
        writer._commit(dropped)
        assert [job.outcome() for job in dropped[:2]] == [300, 301] and dropped[2].outcome() != first.outcome()
        assert writer.batches == {"together": 1, "write_by_write": 1}
    finally:
        writer.close()
    with make_sessionmaker(engine)() as session:
        assert session.scalars(select(AuditHead.id).where(AuditHead.hash == "test").order_by(AuditHead.id)).all() == [
            300,
            301,
        ]
