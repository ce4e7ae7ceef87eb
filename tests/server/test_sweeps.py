"""One server worker at a time runs a sweep (WORKFLOWS.md: a periodic sweep safe with several workers)."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.db.engine import make_sessionmaker
from server.domain import sweeps

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
HOLD = timedelta(minutes=2)


def test_a_lease_is_held_until_it_lapses_or_is_released(db: Session) -> None:
    assert sweeps.take_lease(db, "key_overdue", "worker-1", NOW, HOLD)
    assert not sweeps.take_lease(db, "key_overdue", "worker-2", NOW + timedelta(minutes=1), HOLD)
    assert sweeps.take_lease(db, "key_overdue", "worker-1", NOW + timedelta(minutes=1), HOLD)  # renewed
    assert sweeps.take_lease(db, "other_sweep", "worker-2", NOW, HOLD)  # leases are per sweep
    assert sweeps.take_lease(db, "key_overdue", "worker-2", NOW + timedelta(minutes=4), HOLD)  # lapsed
    sweeps.release_lease(db, "key_overdue", "worker-2")
    assert sweeps.take_lease(db, "key_overdue", "worker-3", NOW + timedelta(minutes=4), HOLD)


def test_of_many_workers_at_once_exactly_one_takes_the_lease(engine: Engine) -> None:
    factory = make_sessionmaker(engine)
    won: list[str] = []
    errors: list[BaseException] = []
    start = threading.Barrier(6)

    def worker(name: str) -> None:
        try:
            start.wait()
            with factory() as session, session.begin():
                if sweeps.take_lease(session, "key_overdue", name, NOW, HOLD):
                    won.append(name)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(f"worker-{n}",)) for n in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    assert len(won) == 1
