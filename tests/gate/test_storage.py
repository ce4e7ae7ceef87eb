"""A damaged gate.db must not stop the gate nor strand a queued decision: the cache and the outbox live in separate
files, each checked on start; a damaged cache is rebuilt from the server, a damaged outbox is salvaged row by row
(and from its raw bytes) into a fresh one, and what could not be read is counted. Real SQLite files, damaged by
overwriting pages with garbage, by truncation, or replaced by something that is not a database."""

from __future__ import annotations

import random
import sqlite3
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from gate.runtime import GateConfig, GateRuntime
from gate.storage import CACHE_FILE, OLD_FILE, OUTBOX_FILE, open_storage
from gate.store import REFERENCE_SCHEMA, LocalUse, uses_schema
from gate.verifier import KEYS
from server.contract.schemas import GateEvent, KeysOut
from server.db.models import GateSyncEvent, ReleaseSlip, SlipRelease, StaffUser
from terminal.outbox import Outbox

from .conftest import GUARD_PIN, RestartableServer, build_gate
from .test_offline import decide, signed_in

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)
PAGE = 4096
# The outbox table as gates in the field have it (written by every version so far): their files must still open.
FIELD_OUTBOX_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    seq INTEGER PRIMARY KEY AUTOINCREMENT,
    nonce TEXT NOT NULL UNIQUE,
    route TEXT NOT NULL,
    body TEXT NOT NULL,
    number TEXT NOT NULL,
    at TEXT NOT NULL,
    attempts INTEGER NOT NULL DEFAULT 0,
    sent_at TEXT,
    result TEXT,
    code TEXT
);
CREATE INDEX IF NOT EXISTS outbox_pending ON outbox (sent_at, seq);
"""


def queued_events(outbox: Outbox, count: int) -> dict[str, str]:
    """`count` offline events (turned-away scans with long texts, so they fill many pages); nonce → body."""
    bodies = {}
    for n in range(count):
        event = GateEvent(
            nonce=uuid.uuid4().hex, kind="reject", text=f"RS1:{n:04d}-" + "X" * 400, at=T0 + timedelta(seconds=n)
        )
        outbox.add(event.nonce, "sync", event.model_dump_json(), event.at)
        bodies[event.nonce] = event.model_dump_json()
    return bodies


def filled_outbox(data_dir: Path, count: int = 300) -> dict[str, str]:
    storage = open_storage(data_dir)
    bodies = queued_events(storage.outbox, count)
    storage.store.record_use(LocalUse("GH-20261130-0001", "released", T0, "张保安"))
    storage.close()  # the last connection folds the WAL into the file
    assert not (data_dir / f"{OUTBOX_FILE}-wal").exists()
    return bodies


def overwrite_pages(path: Path, pages: list[int], seed: int = 7) -> None:
    garbage = random.Random(seed)
    with path.open("r+b") as f:
        for page in pages:
            f.seek((page - 1) * PAGE)
            f.write(garbage.randbytes(PAGE))


def page_count(path: Path) -> int:
    return path.stat().st_size // PAGE


def kept(data_dir: Path) -> dict[str, str]:
    storage = open_storage(data_dir)
    try:
        return {e.nonce: e.body for e in storage.outbox.all()}
    finally:
        storage.close()


def test_an_outbox_with_garbage_pages_keeps_every_readable_decision_and_counts_the_rest(tmp_path: Path) -> None:
    bodies = filled_outbox(tmp_path)
    outbox = tmp_path / OUTBOX_FILE
    middle = page_count(outbox) // 2
    overwrite_pages(outbox, [middle, middle + 1])

    storage = open_storage(tmp_path)
    (recovery,) = storage.recoveries
    salvaged = {e.nonce: e.body for e in storage.outbox.all()}
    assert recovery.file == "outbox" and recovery.moved_to.exists() and recovery.problem
    assert salvaged.items() <= bodies.items()  # every entry kept is exactly what the gate wrote
    missing = len(bodies) - len(salvaged)
    assert 0 < missing < 40  # two pages' worth of rows, no more
    assert recovery.salvaged == len(salvaged) and recovery.lost == missing == storage.lost
    assert storage.outbox.pending_count() == len(salvaged)
    assert storage.store.local_use("GH-20261130-0001") is not None
    storage.close()
    assert sqlite3.connect(outbox).execute("PRAGMA integrity_check").fetchone() == ("ok",)
    assert kept(tmp_path) == salvaged  # the fresh file is sound: no second recovery on the next start


def test_an_outbox_whose_header_page_is_garbage_is_recovered_from_its_bytes(tmp_path: Path) -> None:
    bodies = filled_outbox(tmp_path)
    overwrite_pages(tmp_path / OUTBOX_FILE, [1])  # SQLite can no longer open it at all

    storage = open_storage(tmp_path)
    (recovery,) = storage.recoveries
    assert "not a database" in recovery.problem
    assert {e.nonce: e.body for e in storage.outbox.all()} == bodies
    assert [e.at for e in storage.outbox.pending()] == sorted(e.at for e in storage.outbox.pending())
    assert recovery.salvaged == len(bodies) and recovery.lost is None  # nothing says how many there were
    storage.close()


def test_a_truncated_outbox_keeps_the_rows_before_the_cut(tmp_path: Path) -> None:
    bodies = filled_outbox(tmp_path)
    outbox = tmp_path / OUTBOX_FILE
    with outbox.open("r+b") as f:
        f.truncate(page_count(outbox) * PAGE * 6 // 10 // PAGE * PAGE)

    storage = open_storage(tmp_path)
    (recovery,) = storage.recoveries
    salvaged = {e.nonce: e.body for e in storage.outbox.all()}
    assert salvaged.items() <= bodies.items() and len(salvaged) > len(bodies) // 3
    assert recovery.lost == len(bodies) - len(salvaged) > 0
    storage.close()


def test_a_file_that_is_not_a_database_is_moved_aside_and_the_gate_starts_empty(tmp_path: Path) -> None:
    (tmp_path / OUTBOX_FILE).write_text("这不是数据库 / not a database\n" * 100, encoding="utf-8")
    storage = open_storage(tmp_path)
    (recovery,) = storage.recoveries
    assert recovery.lost is None and recovery.salvaged == 0
    assert recovery.moved_to.read_text(encoding="utf-8").startswith("这不是数据库")  # kept for a technician
    assert storage.outbox.pending_count() == 0
    queued_events(storage.outbox, 1)
    assert storage.outbox.pending_count() == 1
    storage.close()


def test_a_damaged_cache_is_moved_aside_and_the_outbox_left_alone(tmp_path: Path) -> None:
    storage = open_storage(tmp_path)
    storage.store.save_reference(KEYS, KeysOut(estate="GH", keys=[]), '"k1"', T0)
    bodies = queued_events(storage.outbox, 3)
    storage.close()
    overwrite_pages(tmp_path / CACHE_FILE, [1, 2])

    storage = open_storage(tmp_path)
    (recovery,) = storage.recoveries
    assert recovery.file == "cache" and recovery.moved_to.exists() and storage.lost == 0
    assert storage.store.reference(KEYS) is None  # empty until the next sync fills it again
    assert {e.nonce: e.body for e in storage.outbox.all()} == bodies
    storage.close()


def old_layout(path: Path, bodies: dict[str, str], sent: set[str]) -> None:
    """A gate.db as earlier versions wrote it: reference data, the gate's uses and the outbox in one file."""
    conn = sqlite3.connect(path)
    conn.executescript(REFERENCE_SCHEMA + uses_schema() + FIELD_OUTBOX_SCHEMA)
    with conn:
        conn.execute(
            "INSERT INTO reference VALUES (?, ?, ?, ?)",
            (KEYS, '"k1"', KeysOut(estate="GH", keys=[]).model_dump_json(), T0.isoformat()),
        )
        conn.execute("INSERT INTO local_uses VALUES ('GH-20261130-0001', 'released', ?, '张保安')", (T0.isoformat(),))
        for nonce, body in bodies.items():
            conn.execute(
                "INSERT INTO outbox (nonce, route, body, number, at, sent_at, result) "
                "VALUES (?, 'sync', ?, '', ?, ?, ?)",
                (
                    nonce,
                    body,
                    T0.isoformat(),
                    T0.isoformat() if nonce in sent else None,
                    "recorded" if nonce in sent else None,
                ),
            )
    conn.close()


def test_the_old_single_file_is_split_on_first_start_without_losing_a_decision(tmp_path: Path) -> None:
    source = open_storage(tmp_path / "source")
    bodies = queued_events(source.outbox, 5)
    source.close()
    sent = set(list(bodies)[:2])
    old_layout(tmp_path / OLD_FILE, bodies, sent)

    storage = open_storage(tmp_path, now=T0)
    assert storage.recoveries == []
    assert {e.nonce: e.body for e in storage.outbox.all()} == bodies
    assert {e.nonce for e in storage.outbox.pending()} == set(bodies) - sent  # what was uploaded stays uploaded
    assert storage.store.etag(KEYS) == '"k1"'  # the reference data came along: the gate can check offline at once
    assert storage.store.local_use("GH-20261130-0001") is not None
    storage.close()
    assert not (tmp_path / OLD_FILE).exists() and (tmp_path / f"{OLD_FILE}.migrated-20261130T010000Z").exists()
    assert kept(tmp_path) == bodies  # the next start finds the new layout and changes nothing


def test_a_damaged_old_single_file_gives_up_its_decisions_but_not_its_reference_data(tmp_path: Path) -> None:
    source = open_storage(tmp_path / "source")
    bodies = queued_events(source.outbox, 5)
    source.close()
    old_layout(tmp_path / OLD_FILE, bodies, set())
    overwrite_pages(tmp_path / OLD_FILE, [1])

    storage = open_storage(tmp_path)
    (recovery,) = storage.recoveries
    assert recovery.file == OLD_FILE and recovery.salvaged == 5
    assert {e.nonce: e.body for e in storage.outbox.all()} == bodies
    assert storage.store.reference(KEYS) is None  # untrusted: downloaded again
    storage.close()


def test_a_fresh_outbox_completed_before_a_power_cut_is_put_in_place(tmp_path: Path) -> None:
    bodies = filled_outbox(tmp_path, 4)
    (tmp_path / OUTBOX_FILE).rename(tmp_path / f"{OUTBOX_FILE}.ready")  # as if stopped just before the rename
    assert kept(tmp_path) == bodies


def test_after_a_damaged_outbox_the_gate_starts_and_uploads_each_decision_once(
    restartable_server: RestartableServer,
    make_device: Callable[..., tuple],
    guard: StaffUser,
    slip_maker: Callable[..., ReleaseSlip],
    db: Session,
    tmp_path: Path,
) -> None:
    slips = [slip_maker() for _ in range(4)]
    _device, token = make_device("gate", "东门")
    data_dir = tmp_path / "gate"
    gate = signed_in(build_gate(data_dir, restartable_server.url, token, "东门"))
    restartable_server.stop()
    decide(gate, slips[0].token)
    restartable_server.start()
    assert gate.link.upload() == 1  # the first release reaches the server; the gate keeps its entry as sent
    restartable_server.stop()
    for slip in slips[1:]:
        decide(gate, slip.token)  # three more wait in the outbox
    assert gate.link.queue_length() == 3
    gate.client.close()
    gate.link.store.close()
    gate.link.outbox.close()
    overwrite_pages(data_dir / OUTBOX_FILE, [1])
    overwrite_pages(data_dir / CACHE_FILE, [1])
    restartable_server.start()

    config = GateConfig(
        server=restartable_server.url, device_token=token, data_dir=data_dir, camera="images:///nowhere"
    )
    runtime = GateRuntime(config)  # starts in spite of both files
    try:
        assert {r.file for r in runtime.storage.recoveries} == {"outbox", "cache"}
        assert runtime.link.queue_length() == 4  # what was sent is not known any more: offered again
        runtime.link.refresh_reference()
        assert runtime.link.upload() == 4
        assert runtime.link.queue_length() == 0
        results = {e.number: e.result for e in runtime.outbox.all()}
        assert results == {slips[0].number: "duplicate", **{s.number: "recorded" for s in slips[1:]}}
        for key in GUARD_PIN:
            runtime.flow.signin_key(key)
        runtime.flow.signin_submit()
        assert runtime.flow.state == "ready"  # the roster is back in the rebuilt cache
    finally:
        runtime.stop()
    db.expire_all()
    assert db.scalar(select(func.count()).select_from(SlipRelease)) == 4  # each decision recorded once
    assert db.scalar(select(func.count()).select_from(GateSyncEvent)) == 4
