"""Staff at the cabinet and the unlocks the server authorised (R-KEY-5, R-KEY-12), end to end in-process: the
agent's real client against the stand-in server on a real port, the boards on a pseudo-terminal (unlock frames
counted where they arrive), the panel on a pseudo-terminal."""

from __future__ import annotations

import json
import logging
import sqlite3
import subprocess
import sys
from collections import Counter
from contextlib import closing
from datetime import UTC, datetime, timedelta

from cabinet.agent import open_outbox, to_wire
from devices.cabinet.events import BoardOffline, BoardOnline, CabinetEvent, DoorOpened, KeyRemoved
from devices.cabinet.lines import LineSimulator
from tests.cabinet.conftest import CLERK, ENGINEER, PUMP_ROOM, AgentFactory, Cupboard, LiveDouble, Running
from tests.conftest import wait_until


def opened(run: Running, request_id: str) -> list[CabinetEvent]:
    return [e for e in list(run.events) if isinstance(e, DoorOpened) and e.request_id == request_id]


def wait_opened(run: Running, request_id: str) -> None:
    wait_until(lambda: opened(run, request_id), what=f"the door opened for {request_id}")


def staff_events(server: LiveDouble, name: str) -> list[dict[str, object]]:
    return [e for e in list(server.estate.events) if e["event"] == name]


def wait_staff_events(server: LiveDouble, name: str, count: int) -> None:
    wait_until(lambda: len(staff_events(server, name)) >= count, what=f"{count} {name} at the server")


def test_a_card_at_the_panel_opens_the_unlocks_waiting_for_that_person_once(
    server: LiveDouble, cupboard: Cupboard, panel: LineSimulator, make_agent: AgentFactory, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="cabinet")
    mine = server.estate.authorise(ENGINEER.id, 1, 3, "1-1A 入户门")
    theirs = server.estate.authorise(CLERK.id, 1, 4, "1-1B 入户门")
    expired = server.estate.authorise(ENGINEER.id, 1, 6, "1-2A 入户门", expires_in=timedelta(seconds=-1))
    run = make_agent(server.url, panel)

    panel.type_line(ENGINEER.card)
    wait_opened(run, mine.request_id)
    panel.type_line("out")
    panel.type_line(ENGINEER.card)  # the same person again: nothing is left to open for them
    panel.type_line("out")
    wait_staff_events(server, "staff_signed_out", 2)  # the panel's lines are handled in order

    assert (cupboard.frames(3), cupboard.frames(4), cupboard.frames(6)) == (1, 0, 0)
    assert opened(run, theirs.request_id) == [] and opened(run, expired.request_id) == []
    assert "door_opened_without_command" not in run.names()  # an opening the server commanded is no tamper alert
    assert [e["reason"] for e in staff_events(server, "staff_signed_in")] == ["engineer (staff 7) by card"] * 2
    messages = [r.getMessage() for r in caplog.records]
    assert sum(f"unlock {mine.request_id}" in m and "accepted by the board" in m for m in messages) == 1
    assert any(f"unlock {expired.request_id}" in m and "expired" in m for m in messages)
    assert any("signed in: 周工程 (engineer, staff 7) by card" in m for m in messages)


def test_a_wrong_card_or_pin_signs_nobody_in_and_opens_nothing(
    server: LiveDouble, cupboard: Cupboard, panel: LineSimulator, make_agent: AgentFactory, caplog
) -> None:
    caplog.set_level(logging.INFO, logger="cabinet")
    waiting = server.estate.authorise(ENGINEER.id, 1, 3, "1-1A 入户门")
    run = make_agent(server.url, panel)
    for line in ("NOT-A-CARD", "pin engineer 999999", "pin engineer 12", "borrow 水泵房（在用） engineering 1"):
        panel.type_line(line)
    panel.type_line("out")
    wait_until(lambda: any("nobody is signed in" in r.getMessage() for r in caplog.records), what="the last line")
    assert run.agent.control.signed_in is None and cupboard.frames(3) == 0 and not opened(run, waiting.request_id)
    messages = [r.getMessage() for r in caplog.records]
    assert sum("sign-in by card refused" in m for m in messages) == 1
    assert sum("sign-in by pin refused" in m for m in messages) == 1
    assert any("6–8 digit PIN" in m for m in messages) and any("sign in first" in m for m in messages)
    assert not any("999999" in m or "NOT-A-CARD" in m for m in messages)  # typed secrets never reach the log
    assert server.estate.calls["POST /api/v1/cabinet/loans"] == 0


def test_a_loan_asked_for_at_the_cabinet_opens_its_key_once(
    server: LiveDouble, cupboard: Cupboard, panel: LineSimulator, make_agent: AgentFactory, caplog
) -> None:
    """R-KEY-5: the purpose goes to the server, which refuses one outside the register's list."""
    caplog.set_level(logging.INFO, logger="cabinet")
    run = make_agent(server.url, panel)
    before = datetime.now(UTC)
    panel.type_line(f"pin engineer {ENGINEER.pin}")
    panel.type_line(f"borrow {PUMP_ROOM.label} private 2")
    panel.type_line(f"borrow {PUMP_ROOM.label} engineering 2")
    wait_until(lambda: server.estate.unlocks, what="the loan")
    unlock = server.estate.unlocks[0]
    wait_opened(run, unlock.request_id)
    panel.type_line("out")
    panel.type_line(f"pin engineer {ENGINEER.pin}")  # its unlock is also in the server's list now: not sent again
    panel.type_line("out")
    wait_staff_events(server, "staff_signed_out", 2)

    assert cupboard.frames(PUMP_ROOM.slot) == 1 and unlock.slot == PUMP_ROOM.slot
    assert server.estate.calls["POST /api/v1/cabinet/loans"] == 2
    [loan] = server.estate.loans
    assert (loan.staff_id, loan.key, loan.purpose) == (ENGINEER.id, PUMP_ROOM.label, "engineering")
    assert loan.due_at is not None and timedelta(hours=2) <= loan.due_at - before < timedelta(hours=2, minutes=1)
    messages = [r.getMessage() for r in caplog.records]
    assert any("borrow refused" in m and "bad_purpose" in m for m in messages)
    assert any(f"loan {unlock.loan_id} of key '{PUMP_ROOM.label}' registered" in m for m in messages)


def test_nobody_stays_signed_in_at_an_idle_panel(
    server: LiveDouble, panel: LineSimulator, make_agent: AgentFactory
) -> None:
    run = make_agent(server.url, panel, idle_sign_out=0.3)
    panel.type_line(ENGINEER.card)
    wait_staff_events(server, "staff_signed_out", 1)
    assert run.agent.control.signed_in is None
    assert staff_events(server, "staff_signed_out")[0]["reason"] == "engineer (staff 7): nothing typed for 0.3 s"


def test_offline_sign_in_from_the_roster_kept_on_disk_after_a_restart(
    server: LiveDouble, cupboard: Cupboard, panel: LineSimulator, make_agent: AgentFactory, caplog
) -> None:
    """The server goes away and the agent restarts: the roster and unlocks it synced are on disk, a PIN or card is
    checked against the scrypt hashes, an unlock carried out before the restart is not sent again, one not yet
    carried out opens, and every event waits in the outbox until the server is back."""
    caplog.set_level(logging.INFO, logger="cabinet")
    engineer_first = server.estate.authorise(ENGINEER.id, 1, 2, "1-1A 信报箱")
    for_clerk = server.estate.authorise(CLERK.id, 1, 9, "2-1B 入户门")
    online = make_agent(server.url, panel)
    panel.type_line(f"pin engineer {ENGINEER.pin}")
    wait_opened(online, engineer_first.request_id)
    panel.type_line("out")
    wait_staff_events(server, "staff_signed_out", 1)
    online.stop()
    server.stop()

    offline = make_agent(server.url, panel)
    assert offline.agent.control.link.online is False
    panel.type_line("pin engineer 999999")
    panel.type_line(f"pin engineer {ENGINEER.pin}")
    panel.type_line(CLERK.card)  # signs the engineer out, the clerk in
    wait_opened(offline, for_clerk.request_id)
    panel.type_line("out")
    wait_until(lambda: offline.agent.control.signed_in is None, what="the clerk's sign-out")

    assert cupboard.frames(2) == 1 and cupboard.frames(9) == 1
    messages = [r.getMessage() for r in caplog.records]
    assert any("refused while the server is away: not on the synced staff roster" in m for m in messages)
    assert any("signed in: 周工程 (engineer, staff 7) by pin (offline" in m for m in messages)
    kept = [json.loads(entry.body) for entry in offline.agent.outbox.pending()]
    assert [(e["event"], e["reason"]) for e in kept if e["event"].startswith("staff_")] == [
        ("staff_signed_in", "engineer (staff 7) by pin, offline"),
        ("staff_signed_out", "engineer (staff 7): 刘管理员 signed in"),
        ("staff_signed_in", "records (staff 8) by card, offline"),
        ("staff_signed_out", "records (staff 8): signed out at the panel"),
    ]

    server.start()  # back: what waited is uploaded, once
    wait_until(lambda: offline.agent.outbox.pending_count() == 0, what="the outbox emptied")
    uploaded = [e for e in server.estate.events if e["event"] == "door_opened"]
    assert Counter(e["request_id"] for e in uploaded) == {engineer_first.request_id: 1, for_clerk.request_id: 1}


def test_an_unlock_a_crash_left_sending_is_never_sent_again(
    server: LiveDouble, cupboard: Cupboard, panel: LineSimulator, make_agent: AgentFactory, tmp_path, caplog
) -> None:
    """The agent died between writing an unlock's request id and learning what became of its frame: the frame may
    have gone out, so after the restart the unlock is reported unconfirmed and never sent again."""
    caplog.set_level(logging.INFO, logger="cabinet")
    unlock = server.estate.authorise(ENGINEER.id, 1, 11, "3-1A 入户门")
    crash = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from devices.cabinet.ledger import SqliteLedger\n"
        "ledger = SqliteLedger(Path(sys.argv[1]))\n"
        "assert ledger.claim(sys.argv[2], (1, 11)) is None\n"
        "os._exit(9)  # killed before the frame's answer came\n"
    )
    died = subprocess.run(
        [sys.executable, "-c", crash, str(tmp_path / "agent" / "unlocks.db"), unlock.request_id], check=False
    )
    assert died.returncode == 9

    run = make_agent(server.url, panel)
    panel.type_line(ENGINEER.card)
    panel.type_line("out")
    wait_staff_events(server, "staff_signed_out", 1)
    assert cupboard.frames(11) == 0 and not opened(run, unlock.request_id)
    known = run.agent.ledger.known(unlock.request_id)
    assert known is not None and known.outcome.value == "unconfirmed" and "possibly sent" in known.detail
    assert any(
        f"unlock {unlock.request_id} of board 1 slot 11 was being sent" in r.getMessage() for r in caplog.records
    )


def ledger_state(run: Running, request_id: str) -> str | None:
    with closing(sqlite3.connect(run.agent.ledger.path)) as conn:
        row = conn.execute("SELECT state FROM unlocks WHERE request_id = ?", (request_id,)).fetchone()
    return None if row is None else str(row[0])


def test_the_serial_line_dropped_during_a_loan(
    server: LiveDouble, cupboard: Cupboard, panel: LineSimulator, make_agent: AgentFactory
) -> None:
    """The adapter is unplugged while a key is out on loan: the agent carries on when it is back (the driver opens
    the line again), no door opens twice, an unlock that could not go out goes out once the line is back, and
    every event the cabinet saw reaches the server exactly once."""
    slot = 7
    first = server.estate.authorise(ENGINEER.id, 1, slot, "2-1A 入户门")
    run = make_agent(server.url, panel)
    panel.type_line(ENGINEER.card)
    wait_opened(run, first.request_id)

    cupboard.simulator.unplug()
    wait_until(lambda: any(isinstance(e, BoardOffline) for e in list(run.events)), what="the board offline")
    cupboard.sim.take_key(1, slot)  # the borrower takes the key while the line is down
    second = server.estate.authorise(ENGINEER.id, 1, 8, "2-1A 信报箱")
    panel.type_line(ENGINEER.card)  # signs in again: the new unlock cannot go out yet
    wait_until(lambda: ledger_state(run, second.request_id) == "not_sent", what="the unlock tried, not sent")
    cupboard.simulator.replug()
    wait_opened(run, second.request_id)
    wait_until(lambda: any(isinstance(e, KeyRemoved) and e.slot == slot for e in list(run.events)), what="removal")
    panel.type_line(ENGINEER.card)
    panel.type_line("out")
    wait_staff_events(server, "staff_signed_out", 1)  # a card tapped again keeps its holder signed in

    assert cupboard.frames(slot) == 1 and cupboard.frames(8) == 1
    seen = list(run.events)
    assert sum(isinstance(e, BoardOffline) for e in seen) == sum(isinstance(e, BoardOnline) for e in seen) == 1
    assert len(opened(run, first.request_id)) == len(opened(run, second.request_id)) == 1
    # No event lost, none doubled: every event the cabinet saw is at the server or still in the outbox, once, in order.
    run.stop()
    outbox = open_outbox(run.agent.settings.data_dir / "outbox.db")
    waiting = [json.loads(entry.body) for entry in outbox.pending()]
    outbox.close()
    delivered = [*server.estate.events, *waiting]
    got = [(e["event"], e["slot"], e["request_id"], e["at"]) for e in delivered if not e["event"].startswith("staff_")]
    assert got == [(e["event"], e["slot"], e["request_id"], e["at"]) for e in map(to_wire, run.events)]
