"""The group writer's batch: each write in its own savepoint, one commit for all; a plain write's queued work (its
audit entry) is done at the batch's end in order, and goes with the write if the write fails."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.db.engine import make_sessionmaker
from server.db.models import AuditEntry
from server.db.plain import Plain
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
