"""The cabinet agent's outbox file: an earlier agent's events are kept, a damaged file does not stop the agent."""

from __future__ import annotations

import json
import sqlite3
from datetime import UTC, datetime
from pathlib import Path

from cabinet.agent import EventForwarder, open_outbox, to_wire
from devices.backoff import Backoff
from devices.cabinet.events import BoardOffline, DoorHeldOpen, KeyRemoved
from server.contract.cabinet import CabinetEventsIn

T0 = datetime(2026, 11, 30, 1, 0, tzinfo=UTC)


def test_events_an_earlier_agent_kept_move_in_and_a_formed_batch_keeps_its_key(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    with sqlite3.connect(path) as conn:  # the table earlier agents wrote
        conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, body TEXT NOT NULL, batch TEXT)")
        for n, batch in ((1, "b-lost-answer"), (2, "b-lost-answer"), (3, None)):
            body = json.dumps(to_wire(KeyRemoved(board=1, slot=n, tag=f"{n:04x}", at=T0)))
            conn.execute("INSERT INTO events (body, batch) VALUES (?, ?)", (body, batch))
    conn.close()
    outbox = open_outbox(path)
    assert outbox.pending_count() == 3
    batch = outbox.next_batch()
    assert batch is not None
    key, entries = batch
    assert key == "b-lost-answer" and [json.loads(e.body)["slot"] for e in entries] == [1, 2]
    outbox.batch_sent(key, "recorded", T0)
    key, entries = outbox.next_batch() or ("", [])
    assert key != "b-lost-answer" and [json.loads(e.body)["slot"] for e in entries] == [3]
    outbox.close()
    with sqlite3.connect(path) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master WHERE name = 'events'").fetchone()[0] == 0
    conn.close()


def test_a_damaged_outbox_is_moved_aside_and_rebuilt(tmp_path: Path) -> None:
    path = tmp_path / "outbox.db"
    path.write_bytes(b"not a database at all" * 100)
    outbox = open_outbox(path, now=T0)
    assert outbox.pending_count() == 0
    outbox.add("n1", "cabinet_events", json.dumps(to_wire(DoorHeldOpen(board=1, slot=2, open_s=90))), T0)
    assert outbox.pending_count() == 1
    outbox.close()
    assert (tmp_path / "outbox.db.corrupt-20261130T010000Z").exists()


def test_a_board_offline_with_a_long_reason_reaches_the_outbox_shortened(tmp_path: Path) -> None:
    """Nothing the cabinet sees is lost: a reason past the contract's 200 characters (a /dev/serial/by-id path, a
    babbling line's bytes) or with control characters is shortened, never a reason to drop the event."""
    by_id = "/dev/serial/by-id/usb-FTDI_FT232R_USB_UART_A10KZ3X9-if00-port0"
    reason = f"line {by_id} failed: garbage {'ff 00 55 ' * 60}\x07 (线路中断)"
    outbox = open_outbox(tmp_path / "outbox.db")
    forwarder = EventForwarder(outbox, lambda events, key: None, Backoff(initial=30, maximum=60))  # type: ignore[arg-type, return-value]
    forwarder.accept(BoardOffline(board=3, reason=reason, at=T0))
    assert outbox.pending_count() == 1
    batch = outbox.next_batch()
    assert batch is not None
    body = json.loads(batch[1][0].body)
    assert body["event"] == "board_offline" and body["board"] == 3
    assert len(body["reason"]) == 200 and body["reason"].startswith(f"line {by_id} failed")
    CabinetEventsIn.model_validate({"events": [body]})  # the server takes it as it is
    outbox.close()


def test_an_event_the_contract_refuses_still_goes_with_what_it_was() -> None:
    wire = to_wire(BoardOffline(board=300, reason="a bus address past the contract's range", at=T0))
    CabinetEventsIn.model_validate({"events": [wire]})
    assert wire["event"] == "board_offline" and wire["board"] == 255
    assert "'board': 300" in wire["reason"] and "a bus address past" in wire["reason"]
