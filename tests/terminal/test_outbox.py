"""The one outbox of the gate and the cabinet agent: entries once per nonce, batches that keep their key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from terminal.outbox import Outbox

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_an_entry_is_kept_once_per_nonce_and_marked_sent(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    outbox.add("n1", "sync", "{}", T0, "GH-1")
    outbox.add("n1", "sync", '{"again": 1}', T0)
    outbox.add("n2", "release", "{}", T0 + timedelta(seconds=1))
    assert [(e.nonce, e.body, e.number) for e in outbox.pending()] == [("n1", "{}", "GH-1"), ("n2", "{}", "")]
    outbox.mark_attempt(["n1"])
    outbox.mark_sent("n1", "conflict", "used_elsewhere", T0)
    assert outbox.pending_count() == 1
    (conflict,) = outbox.conflicts()
    assert (conflict.nonce, conflict.attempts, conflict.code) == ("n1", 1, "used_elsewhere")
    outbox.close()


def test_a_batch_keeps_its_entries_and_key_until_sent(tmp_path: Path) -> None:
    outbox = Outbox(tmp_path / "outbox.db")
    for n in range(3):
        outbox.add(f"n{n}", "events", "{}", T0 + timedelta(seconds=n))
    first = outbox.next_batch(limit=2)
    assert first is not None and [e.nonce for e in first[1]] == ["n0", "n1"]
    outbox.add("n3", "events", "{}", T0)
    assert outbox.next_batch(limit=2) == first  # an answer lost: the same batch again, nothing added to it
    outbox.batch_sent(first[0], "recorded", T0)
    second = outbox.next_batch(limit=2)
    assert second is not None and second[0] != first[0] and [e.nonce for e in second[1]] == ["n2", "n3"]
    outbox.batch_sent(second[0], "recorded", T0)
    assert outbox.next_batch() is None and outbox.pending_count() == 0
    assert {e.result for e in outbox.all()} == {"recorded"}
    outbox.forget_sent(T0)
    assert len(outbox.all()) == 4  # recorded at T0, not before
    outbox.forget_sent(T0 + timedelta(seconds=1))
    assert outbox.all() == []
    outbox.close()
