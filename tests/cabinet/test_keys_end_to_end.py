"""The key loop end to end (R-KEY-5, R-KEY-12, R-KEY-14): the real server on a real port and database, the
cabinet agent in-process with its real client, the lock board simulated on a pseudo-terminal (unlock frames
counted where they arrive), the staff panel on a pseudo-terminal, and a contact reader in every slot.

A member of engineering signs in at the cabinet with a card and borrows the pump room's key: exactly one unlock
frame goes to its slot, the door opens as a commanded opening, the key leaves and the loan goes out; the serial
line drops while the key is out and the agent carries on; the loan becomes overdue and is flagged once; the key is
put back in the wrong slot (an alarm naming the right one), then in its own (the loan ends). Every event the
cabinet saw reaches the server once, in order."""

from __future__ import annotations

import json
import random
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from cabinet.agent import open_outbox
from devices.cabinet.events import BoardOffline, BoardOnline, DoorOpened
from devices.cabinet.lines import LineSimulator
from devices.cabinet.tags import ibutton_rom, tag_hex
from server.db.base import utcnow
from server.db.engine import make_sessionmaker
from server.db.models import (
    AlarmKind,
    AuditEntry,
    Estate,
    Key,
    KeyAlarm,
    KeyGroup,
    KeyKind,
    KeyLoan,
    KeyUnlock,
    LoanState,
    Role,
    SetCopy,
    StaffUser,
)
from server.domain import guards, registry
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.keys import events as key_events
from server.domain.keys import intake, layout, loans, register
from server.domain.keys.register import KeySpec
from tests.cabinet.conftest import SLOTS, AgentFactory, Cupboard, Running
from tests.conftest import wait_until

CARD = "E0001"
ROMS = {label: ibutton_rom(0x6000 + n) for n, label in enumerate(("1-1A 入户门", "水泵房", "水泵房备用"))}


def tag(label: str) -> str:
    return tag_hex(ROMS[label])


@pytest.fixture
def engineer(db: Session, estate: Estate, make_user) -> StaffUser:
    """A member of engineering with a staff card, who takes plant-room keys at the cabinet."""
    user = make_user(Role.engineering, username="zhou")
    guards.set_credentials(db, SYSTEM, estate, user, card=CARD)
    db.commit()
    return user


@pytest.fixture
def register_keys(db: Session, estate: Estate, make_user) -> dict[str, Key]:
    """Board 1 with a unit's mechanical key and the pump room's in-use (TM) and spare sets, handed over, tested
    100%, spot-checked and laid out in the manual's order (R-KEY-1…4, 7, 10)."""
    keeper = make_user(Role.records_admin, username="keeper")
    registry.ensure_unit(db, SYSTEM, estate, "1-1A")
    register.add_board(db, SYSTEM, estate, 1, SLOTS)
    now = utcnow() - timedelta(days=1)
    batch = intake.open_intake(
        db, SYSTEM, estate, contractor="机电安装", handed_by="王工", declared_keys=3, by=keeper, at=now
    )
    add = register.register_set
    add(db, SYSTEM, batch, KeyGroup.unit, [KeySpec("1-1A 入户门", tag("1-1A 入户门"))], unit_code="1-1A")
    pump = [KeySpec("水泵房", tag("水泵房"), KeyKind.tm)]
    add(db, SYSTEM, batch, KeyGroup.plant_room, pump, equipment="水泵房", copy=SetCopy.in_use)
    spare = [KeySpec("水泵房备用", tag("水泵房备用"))]
    add(db, SYSTEM, batch, KeyGroup.plant_room, spare, equipment="水泵房", copy=SetCopy.spare)
    keys = intake.intake_keys(db, batch)
    intake.record_acceptance_test(db, SYSTEM, batch, {k.id: True for k in keys}, by=keeper, at=now)
    drawn = intake.draw_spot_check(db, SYSTEM, batch, by=keeper, at=now, rng=random.Random(3))
    intake.record_spot_check(db, SYSTEM, batch, {k.id: True for k in drawn}, by=keeper, at=now)
    layout.apply_layout(db, SYSTEM, estate, now)
    db.commit()
    return {k.label: k for k in db.scalars(select(Key))}


def stock(cupboard: Cupboard, keys: dict[str, Key]) -> set[int]:
    """Each registered key in its home slot, every other slot empty; the empty slots."""
    for slot in range(1, SLOTS + 1):
        cupboard.sim.take_key(1, slot)
    for label, key in keys.items():
        cupboard.sim.put_key(key.board, key.slot, ROMS[label])
    return set(range(1, SLOTS + 1)) - {k.slot for k in keys.values()}


def fresh(db: Session) -> Session:
    """`db` reading what the server has committed since (its reads hold a snapshot until the transaction ends)."""
    db.commit()
    db.expire_all()
    return db


def sweep(engine: Engine, estate: Estate, now: datetime) -> list[int]:
    """The overdue sweep as the server runs it, at `now`, in a writing session of its own: the loans it flagged."""
    with make_sessionmaker(engine)() as session, session.begin():
        return [x.id for x in loans.flag_overdue(session, SYSTEM, session.get_one(Estate, estate.id), now)]


def loan_state(db: Session, loan_id: int) -> LoanState:
    fresh(db)
    return db.get_one(KeyLoan, loan_id).state


def test_r_key_12_a_plant_room_key_borrowed_at_the_cabinet_goes_out_and_comes_back_through_the_cabinet(
    db: Session,
    engine: Engine,
    estate: Estate,
    live_server: str,
    make_device,
    engineer: StaffUser,
    register_keys: dict[str, Key],
    cupboard: Cupboard,
    panel: LineSimulator,
    make_agent: AgentFactory,
) -> None:
    pump = register_keys["水泵房"]
    empty = stock(cupboard, register_keys)
    _device, token = make_device("cabinet", "钥匙柜")
    run = make_agent(live_server, panel, device_token=token)

    # R-KEY-5: a purpose outside the register's list is refused by the server; then the real one.
    panel.type_line(CARD)
    panel.type_line("borrow 水泵房 private 2")
    panel.type_line("borrow 水泵房 engineering 2")
    wait_until(lambda: fresh(db).scalar(select(KeyLoan.id).where(KeyLoan.key_id == pump.id)), what="the loan")
    loan = db.scalars(select(KeyLoan).where(KeyLoan.key_id == pump.id)).one()
    unlock = db.scalars(select(KeyUnlock).where(KeyUnlock.loan_id == loan.id)).one()
    assert (loan.borrower_staff_id, loan.purpose.value) == (engineer.id, "engineering")
    wait_until(lambda: _opened(run, unlock.request_id), what="the commanded opening")

    # Exactly one unlock frame, to the pump-room key's own slot, and nothing else opened.
    assert cupboard.frames(pump.slot) == 1
    assert sum(cupboard.frames(s) for s in range(1, SLOTS + 1)) == 1

    cupboard.sim.take_key(1, pump.slot)  # the engineer takes the key
    wait_until(lambda: loan_state(db, loan.id) == LoanState.out, what="the loan out")

    # The serial line drops while the key is out: the agent carries on when it is back.
    cupboard.simulator.unplug()
    wait_until(lambda: _count(run, BoardOffline) == 1, what="the board offline")
    cupboard.simulator.replug()
    wait_until(lambda: _count(run, BoardOnline) == 1, what="the board back")

    # Overdue: the sweep flags the loan once, however often it runs.
    late = loan.due_at + timedelta(minutes=1)
    assert sweep(engine, estate, late) == [loan.id]
    assert sweep(engine, estate, late + timedelta(minutes=5)) == []

    # Back in the wrong slot: an alarm naming the right one; the loan stays out.
    wrong = min(empty)
    cupboard.sim.put_key(1, wrong, ROMS["水泵房"])
    wait_until(lambda: _alarm(db, AlarmKind.wrong_slot) is not None, what="the wrong-slot alarm")
    alarm = _alarm(db, AlarmKind.wrong_slot)
    assert alarm is not None and (alarm.slot, alarm.expected_slot) == (wrong, pump.slot)
    assert f"应放回 1-{pump.slot}" in key_events.alarm_text(alarm, pump)
    assert f"belongs in 1-{pump.slot}" in key_events.alarm_text(alarm, pump, "en")
    assert loan_state(db, loan.id) == LoanState.out

    # Into its own slot: the loan ends on the cabinet's event, never on a button.
    cupboard.sim.take_key(1, wrong)
    cupboard.sim.put_key(1, pump.slot, ROMS["水泵房"])
    wait_until(lambda: loan_state(db, loan.id) == LoanState.returned, what="the loan returned")
    panel.type_line("out")

    # No door opened twice, no commanded opening taken for tampering.
    assert cupboard.frames(pump.slot) == 1 and len(_opened(run, unlock.request_id)) == 1
    assert "door_opened_without_command" not in run.names()
    seen = [e.name for e in list(run.events)]
    assert seen.count("key_removed") == 2 and seen.count("key_returned") + seen.count("key_returned_to_wrong_slot") == 2

    # No event lost, none doubled: the server recorded every event the cabinet saw, once, in order.
    # The server commits an event before the agent hears its answer and clears it from the outbox, so wait for both.
    wait_until(lambda: _server_events(db) == [e.name for e in list(run.events)], what="every event at the server")
    wait_until(lambda: run.agent.outbox.pending_count() == 0, what="the outbox emptied")
    run.stop()
    outbox = open_outbox(run.agent.settings.data_dir / "outbox.db")
    assert outbox.pending_count() == 0  # and nothing left behind for a restart to send twice
    outbox.close()
    commanded = db.scalars(select(AuditEntry).where(AuditEntry.action == "cabinet.door_opened")).all()
    details = [json.loads(e.detail) for e in commanded]
    assert [(d["request_id"], d["alert"]) for d in details] == [(unlock.request_id, False)]


def test_r_key_14_an_outside_worker_asking_for_a_mechanical_key_is_refused_and_nothing_changes(
    db: Session, estate: Estate, register_keys: dict[str, Key], make_user
) -> None:
    """Outside workers take only TM electronic keys, always with a return deadline: no loan, no unlock."""
    desk = make_user(Role.front_desk)
    worker = loans.Borrower(loans.BorrowerKind.outside_worker, name="李师傅", company="城建维修", phone="13800000000",
                            id_tail="1234")  # fmt: skip
    with pytest.raises(DomainError) as refused:
        loans.lend(
            db, SYSTEM, estate, key_id=register_keys["水泵房备用"].id, purpose="engineering", borrower=worker,
            by=desk, now=utcnow(), due_at=utcnow() + timedelta(hours=2),
        )  # fmt: skip
    assert refused.value.code == "outside_worker_tm_only"
    db.rollback()
    assert db.scalar(select(KeyLoan.id)) is None and db.scalar(select(KeyUnlock.id)) is None


def _opened(run: Running, request_id: str) -> list[DoorOpened]:
    return [e for e in list(run.events) if isinstance(e, DoorOpened) and e.request_id == request_id]


def _count(run: Running, kind: type) -> int:
    return sum(isinstance(e, kind) for e in list(run.events))


def _alarm(db: Session, kind: AlarmKind) -> KeyAlarm | None:
    return fresh(db).scalars(select(KeyAlarm).where(KeyAlarm.kind == kind)).first()


def _server_events(db: Session) -> list[str]:
    """The cabinet's events the server recorded, in the order it took them (staff sign-ins aside)."""
    actions = (
        fresh(db)
        .scalars(select(AuditEntry.action).where(AuditEntry.action.like("cabinet.%")).order_by(AuditEntry.seq))
        .all()
    )
    names = [a.removeprefix("cabinet.") for a in actions]
    return [n for n in names if not n.startswith("staff_") and n not in ("sign_in",)]
