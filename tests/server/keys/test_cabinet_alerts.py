"""Alerts from the key cabinet and the loan register: overdue loans flagged once by the server's sweep and by the
command line (R-KEY-12, 14), the cabinet's alerts as the dashboard counts them, and the cabinet's events as the
records admin who keeps the keys sees them (R-KEY-1…4), and the keeper's acknowledgement of an alert (issue 21)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.contract.cabinet import CabinetEventIn
from server.db.base import utcnow
from server.db.models import AlertAcknowledgement, AuditEntry, BorrowerKind, Device, Estate, KeyLoan, Role, StaffUser
from server.domain import audit, dashboard, registry
from server.domain import cabinet as cabinet_events
from server.domain.actors import SYSTEM, Actor
from server.domain.errors import DomainError
from server.domain.keys import events, loans, unlocks
from server.domain.keys.loans import Borrower
from server.web.app import create_app, sweep_overdue
from tests.conftest import wait_until
from tests.server.keys.conftest import LATER, NOW, Cabinet


def _out_on_loan(db: Session, cabinet: Cabinet, *, now=NOW, due=LATER) -> KeyLoan:
    """The pump-room key lent to the desk clerk and taken out of the cabinet."""
    key = cabinet.key("水泵房")
    loan = loans.lend(
        db, SYSTEM, cabinet.estate, key_id=key.id, purpose="engineering", now=now, due_at=due,
        borrower=Borrower(BorrowerKind.staff, staff=cabinet.desk), by=cabinet.desk,
    )  # fmt: skip
    events.key_removed(db, cabinet.estate, key.board or 0, key.slot or 0, now + timedelta(minutes=1))
    db.commit()
    return loan


def _overdue_entries(db: Session) -> list[AuditEntry]:
    db.rollback()
    return list(db.scalars(select(AuditEntry).where(AuditEntry.action == "key_loan.overdue")))


def test_r_key_12_the_server_sweeps_overdue_loans_by_its_clock_and_flags_each_once(
    db: Session, cabinet: Cabinet, settings: Settings, engine: Engine
) -> None:
    """R-KEY-12, 14: a loan past its due time is flagged by the server's own sweep (in its lifespan, by the app's
    clock), once, as an alert in the audit log; the console's open overdue alerts list it until acknowledged."""
    loan = _out_on_loan(db, cabinet)
    late = LATER + timedelta(minutes=1)
    app = create_app(settings.model_copy(update={"overdue_sweep_seconds": 60}), engine, clock=lambda: late)
    with TestClient(app):
        wait_until(lambda: len(_overdue_entries(db)) == 1, what="the overdue sweep at start-up")
        assert sweep_overdue(app) == 0  # flagged once: the next sweep finds nothing new
    (entry,) = _overdue_entries(db)
    detail = json.loads(entry.detail)
    assert entry.entity_id == str(loan.id) and detail["alert"] is True and detail["key"] == "水泵房"
    assert [x.id for x in loans.overdue_alerts(db, cabinet.estate, late)] == [loan.id]
    loans.acknowledge_overdue(db, SYSTEM, db.get_one(KeyLoan, loan.id), by=cabinet.admin, note="已催还", now=late)
    db.commit()
    assert loans.overdue_alerts(db, cabinet.estate, late) == []


def test_a_sweep_before_the_due_time_flags_nothing_and_writes_nothing(
    db: Session, cabinet: Cabinet, settings: Settings, engine: Engine
) -> None:
    _out_on_loan(db, cabinet)
    app = create_app(settings.model_copy(update={"overdue_sweep_seconds": 0}), engine, clock=lambda: LATER)
    entries = db.scalar(select(func.count()).select_from(AuditEntry))
    assert sweep_overdue(app) == 0
    db.rollback()
    assert db.scalar(select(func.count()).select_from(AuditEntry)) == entries


def test_estate_keys_sweep_flags_overdue_loans_once_from_the_command_line(
    db: Session, cabinet: Cabinet, database_url: str, tmp_path: Path
) -> None:
    now = utcnow()
    loan = _out_on_loan(db, cabinet, now=now - timedelta(hours=3), due=now - timedelta(hours=1))
    env = os.environ | {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path)}

    def estate(*args: str) -> subprocess.CompletedProcess[str]:
        run = subprocess.run(
            [sys.executable, "-m", "estate_cli", *args], capture_output=True, text=True, env=env, timeout=120
        )
        assert run.returncode == 0, run.stderr
        return run

    first = estate("keys", "sweep")
    (line,) = [json.loads(x) for x in first.stdout.splitlines()]
    assert (line["loan"], line["key"], line["borrower"]) == (loan.id, "水泵房", cabinet.desk.display_name)
    again = estate("keys", "sweep")
    assert again.stdout == "" and "0 overdue loan(s) flagged" in again.stderr
    assert len(_overdue_entries(db)) == 1
    listed = [json.loads(x) for x in estate("keys", "overdue", "--estate", "GH").stdout.splitlines()]
    assert [x["loan"] for x in listed] == [loan.id] and listed[0]["flagged_at"] is not None


def figure(db: Session, cabinet: Cabinet, now: datetime, key: str) -> int:
    """A figure of the records admin's dashboard (server.domain.dashboard), as its key section counts it."""
    found = dashboard.dashboard(db, cabinet.estate, Role.records_admin, now).figure(key)
    assert found is not None
    return found.count


def _event(name: str, board: int, slot: int | None, **extra: str) -> CabinetEventIn:
    return CabinetEventIn(event=name, board=board, slot=slot, at=NOW + timedelta(minutes=5), **extra)


def test_the_records_admin_sees_the_cabinets_events_and_the_dashboard_counts_what_the_server_judged_alerts(
    db: Session,
    cabinet: Cabinet,
    make_user: Callable[..., StaffUser],
    make_device: Callable[..., tuple[Device, str]],
) -> None:
    """R-KEY-1…4: the records admin keeps the cabinet and sees its events and the register's alarms (keys.view),
    not the rest of the audit log; finance and the security captain do not. The dashboard counts the alerts as the
    server judged them: a commanded opening is none, an opening nobody authorised is one."""
    device, _token = make_device("cabinet", "钥匙柜 A")
    cabinet_device = db.get_one(Device, device.id)
    key = cabinet.key("水泵房")
    loan = loans.lend(
        db, SYSTEM, cabinet.estate, key_id=key.id, purpose="engineering", now=NOW, due_at=LATER,
        borrower=Borrower(BorrowerKind.staff, staff=cabinet.desk), by=cabinet.desk,
    )  # fmt: skip
    unlock = unlocks.of_loan(db, loan)
    assert unlock is not None
    actor = Actor("device", device.id, device.name, device_id=device.id)
    home = (key.board or 0, key.slot)
    batch = [
        _event("door_opened", *home, request_id=unlock.request_id),
        _event("key_removed", *home),
        _event("door_opened", 1, 2, request_id="never-given-1"),
        _event("key_returned", 1, 12, tag="0F01"),
    ]
    assert cabinet_events.record_events(db, actor, cabinet_device, batch) == 2
    db.commit()
    assert figure(db, cabinet, NOW + timedelta(hours=1), "cabinet_alerts") == 2

    admin = cabinet.admin
    shown = [e.action for e in db.scalars(cabinet_events.event_log(admin, cabinet.estate))]
    assert {"cabinet.door_opened", "cabinet.key_removed", "cabinet.key_returned", "key_alarm.wrong_slot"} <= set(shown)
    assert {"key_loan.register", "key_unlock.authorise", "key_loan.remove"} <= set(shown)
    assert not [a for a in shown if a.startswith(("staff.", "guard.", "estate.", "device."))]
    alerts = [e.action for e in db.scalars(cabinet_events.event_log(admin, cabinet.estate, alerts_only=True))]
    assert sorted(alerts) == ["cabinet.door_opened", "cabinet.key_returned", "key_alarm.wrong_slot"]
    for role in (Role.finance, Role.security_captain):
        with pytest.raises(DomainError) as refused:
            cabinet_events.event_log(make_user(role), cabinet.estate)
        assert refused.value.status == 403


def test_r_key_12_overdue_loans_and_open_key_alarms_show_on_the_dashboard_of_those_who_keep_keys(
    db: Session, cabinet: Cabinet, settings: Settings, engine: Engine, make_user: Callable[..., StaffUser], login
) -> None:
    """Overdue loans raise an alert on the console until acknowledged; a key in the wrong slot is an open alarm.
    Both are figures on the home page for roles that see keys, and not for the others."""
    loan = _out_on_loan(db, cabinet)
    key = cabinet.key("水泵房")
    events.key_returned(db, cabinet.estate, 1, 12, key.tag, LATER - timedelta(minutes=30))  # the wrong slot
    db.commit()
    late = LATER + timedelta(minutes=1)
    assert (
        figure(db, cabinet, NOW, "keys_overdue"),
        figure(db, cabinet, late, "keys_overdue"),
    ) == (0, 1)
    assert figure(db, cabinet, late, "key_alarms") == 1

    keeper = make_user(Role.records_admin, username="keeper")
    make_user(Role.finance, username="money")
    with TestClient(create_app(settings, engine, clock=lambda: late)) as client:
        login(client, "keeper", "correct-horse-1")
        page = client.get("/console/").text
        assert 'id="figure-keys-keys_overdue"' in page and 'id="figure-keys-key_alarms"' in page
        overdue = page.split('id="figure-keys-keys_overdue"', 1)[1]
        assert '<span class="value">1</span>' in overdue.split("</a>", 1)[0]
    with TestClient(create_app(settings, engine, clock=lambda: late)) as client:
        login(client, "money", "correct-horse-1")
        assert 'id="figure-keys-keys_overdue"' not in client.get("/console/").text

    loans.acknowledge_overdue(db, SYSTEM, db.get_one(KeyLoan, loan.id), by=keeper, note="已电话催还", now=late)
    db.commit()
    assert figure(db, cabinet, late, "keys_overdue") == 0


def _recorded(db: Session, estate_id: int, action: str, **detail: object) -> int:
    audit.record(db, SYSTEM, action, "cabinet_slot", "1:1-2", estate_id=estate_id, **detail)
    db.flush()
    seq = db.scalar(select(func.max(AuditEntry.seq)))
    assert seq is not None
    return seq


def _acknowledgements(db: Session) -> tuple[int, int]:
    found = (
        db.scalar(select(func.count()).select_from(AlertAcknowledgement)) or 0,
        db.scalar(select(func.count()).select_from(AuditEntry)) or 0,
    )
    db.commit()
    return found


def test_r_key_12_the_keeper_of_the_keys_acknowledges_a_cabinet_alert_once_with_a_note(
    db: Session, estate: Estate, make_user: Callable[..., StaffUser]
) -> None:
    """R-KEY-12, issue 21: the records admin (keys.manage) acknowledges a cabinet alert of the estate with a note of
    what was found; it is recorded (who, when, the note) with an audit entry that is no cabinet event, and the
    alert leaves the open alerts. A non-alert entry, another estate's alert, a second acknowledgement, a role
    without keys.manage and an empty or too long note are each refused with a clear message, changing nothing."""
    keeper, desk = make_user(Role.records_admin), make_user(Role.front_desk)
    other = registry.create_estate(db, SYSTEM, "XS", "西山苑", "Xishan")
    alert = _recorded(db, estate.id, "cabinet.door_opened_without_command", alert=True)
    plain = _recorded(db, estate.id, "cabinet.door_closed", alert=False)
    key_alarm = _recorded(db, estate.id, "key_alarm.wrong_slot", alert=True)  # an alarm, not a cabinet event
    elsewhere = _recorded(db, other.id, "cabinet.door_opened_without_command", alert=True)
    db.commit()
    open_alerts = select(func.count()).select_from(AuditEntry).where(cabinet_events.open_alert_condition(estate.id))
    assert db.scalar(open_alerts) == 1

    def refused(seq: int, by: StaffUser, note: str = "门已关好，无钥匙被取") -> DomainError:
        before = _acknowledgements(db)
        with pytest.raises(DomainError) as caught:
            cabinet_events.acknowledge_alert(db, SYSTEM, estate, seq, by=by, note=note, now=NOW)
        db.rollback()
        assert _acknowledgements(db) == before
        return caught.value

    not_alert = refused(plain, keeper)
    assert (not_alert.code, not_alert.status) == ("not_an_alert", 400) and "不是钥匙柜告警" in not_alert.zh
    assert refused(key_alarm, keeper).code == "not_an_alert"
    assert refused(elsewhere, keeper).status == 404  # another estate's entry is none of this one's
    assert refused(10**6, keeper).status == 404
    assert refused(alert, desk).status == 403  # the desk lends keys but does not keep the cabinet
    assert refused(alert, keeper, note="   ").code == "missing_fields"
    assert refused(alert, keeper, note="长" * 201).code == "too_long"
    assert "请写明" in refused(alert, keeper, note="").zh

    ack = cabinet_events.acknowledge_alert(db, SYSTEM, estate, alert, by=keeper, note=" 门已关好，无钥匙被取 ", now=NOW)
    db.commit()
    assert (ack.entry_seq, ack.by_id, ack.by_name, ack.at, ack.note) == (
        alert, keeper.id, keeper.display_name, NOW, "门已关好，无钥匙被取"
    )  # fmt: skip
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry is not None and entry.action == "cabinet_alert.acknowledge" and entry.entity_id == str(alert)
    assert not entry.action.startswith(cabinet_events.ACTION_PREFIX)
    assert json.loads(entry.detail)["alert_action"] == "cabinet.door_opened_without_command"
    assert db.scalar(open_alerts) == 0
    second = refused(alert, keeper)
    assert (second.status, second.code) == (409, "already_acknowledged") and keeper.display_name in second.zh
