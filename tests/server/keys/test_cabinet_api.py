"""The key cabinet's device API: the staff roster and signing in at the cabinet, the unlocks the server authorises
for loans, loans asked for at the cabinet, and the cabinet's events closing the loop (R-KEY-5, 12, 13, 14)."""

from __future__ import annotations

import json
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.models import (
    AlarmKind,
    AuditEntry,
    BorrowerKind,
    Device,
    Estate,
    KeyAlarm,
    KeyLoan,
    KeySlot,
    KeyUnlock,
    LoanState,
    Role,
    StaffUser,
    StepHistory,
)
from server.domain import guards, registry, staff
from server.domain.actors import SYSTEM
from server.domain.errors import DomainError
from server.domain.keys import loans
from server.domain.keys.loans import Borrower
from server.web.app import create_app
from tests.conftest import keyed
from tests.server.keys.conftest import LATER, NOW, Cabinet, counts

DESK_PIN, DESK_CARD, ADMIN_CARD = "246801", "STAFF-0001", "STAFF-0002"


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


@dataclass
class Desk:
    """A cabinet of the estate, its API client, and the staff who may sign in at it."""

    client: TestClient
    clock: Clock
    cabinet: Cabinet
    device: Device
    headers: dict[str, str]

    def get(self, path: str, **headers: str) -> Any:
        return self.client.get(f"/api/v1/cabinet/{path}", headers=self.headers | headers)

    def post(self, path: str, body: dict[str, Any], key: str | None = None, headers: dict[str, str] | None = None):
        sent = (headers or self.headers) | {"Idempotency-Key": key or uuid.uuid4().hex}
        return self.client.post(f"/api/v1/cabinet/{path}", json=body, headers=sent)

    def events(self, *events: dict[str, Any]) -> Any:
        answer = self.post("events", {"events": list(events)})
        assert answer.status_code == 201, answer.text
        return answer.json()

    def borrow(self, label: str, purpose: str = "engineering", **extra: Any) -> Any:
        return self.post("loans", {"staff_id": self.cabinet.desk.id, "key": label, "purpose": purpose, **extra})


def event(name: str, board: int, slot: int | None, at: datetime, **extra: Any) -> dict[str, Any]:
    return {"event": name, "board": board, "slot": slot, "at": at.isoformat(), **extra}


def fresh(db: Session) -> Session:
    """The test's session on a new snapshot, to see what the app wrote."""
    db.rollback()
    db.expire_all()
    return db


def cabinet_entries(db: Session) -> list[tuple[str, dict[str, Any]]]:
    found = fresh(db).scalars(
        select(AuditEntry).where(AuditEntry.action.startswith("cabinet.")).order_by(AuditEntry.seq)
    )
    return [(e.action, json.loads(e.detail)) for e in found]


@pytest.fixture
def desk(
    db: Session, cabinet: Cabinet, settings: Settings, engine: Engine, make_device: Callable[..., tuple[Device, str]]
) -> Iterator[Desk]:
    """The cabinet of `cabinet`'s estate on an app whose clock the test moves (the overdue sweep left to the
    test); the desk clerk has a PIN and a card, the records admin a card."""
    guards.set_credentials(db, SYSTEM, cabinet.estate, cabinet.desk, pin=DESK_PIN, card=DESK_CARD)
    guards.set_credentials(db, SYSTEM, cabinet.estate, cabinet.admin, card=ADMIN_CARD)
    db.commit()
    device, token = make_device("cabinet", "钥匙柜 A")
    clock = Clock(NOW + timedelta(minutes=5))
    app = create_app(settings.model_copy(update={"overdue_sweep_seconds": 0}), engine, clock=clock)
    with TestClient(app) as client:
        yield Desk(client, clock, cabinet, device, {"Authorization": f"Bearer {token}"})


# --- the roster and signing in ---------------------------------------------------------------------------------------


def test_the_roster_lists_the_estates_active_staff_with_a_card_or_pin_and_answers_304_until_it_changes(
    db: Session, desk: Desk, make_user: Callable[..., StaffUser]
) -> None:
    cabinet = desk.cabinet
    make_user(Role.engineering, username="nocard")  # no credential: not on the roster
    gone = make_user(Role.engineering, username="gone")
    guards.set_credentials(db, SYSTEM, cabinet.estate, gone, pin="135790")
    staff.set_active(db, SYSTEM, gone, False)
    other = registry.create_estate(db, SYSTEM, "XS", "西山苑", "Xishan")
    elsewhere = make_user(Role.front_desk, username="elsewhere", estates=[other])
    guards.set_credentials(db, SYSTEM, other, elsewhere, card="STAFF-XS-1")
    db.commit()

    first = desk.get("roster")
    assert first.status_code == 200
    roster = first.json()
    assert roster["estate"] == "GH"
    listed = {s["username"]: s for s in roster["staff"]}
    assert set(listed) == {cabinet.desk.username, cabinet.admin.username}
    mine = listed[cabinet.desk.username]
    assert (mine["id"], mine["role"], mine["display_name"]) == (cabinet.desk.id, "front_desk", "测试front_desk")
    assert mine["pin_hash"].startswith("scrypt$") and mine["card_hash"].startswith("scrypt$")
    assert DESK_PIN not in first.text and DESK_CARD not in first.text
    assert listed[cabinet.admin.username]["pin_hash"] is None

    etag = first.headers["etag"]
    assert desk.get("roster", **{"If-None-Match": etag}).status_code == 304
    guards.set_credentials(db, SYSTEM, cabinet.estate, cabinet.admin, pin="975310")
    db.commit()
    changed = desk.get("roster", **{"If-None-Match": etag})
    assert changed.status_code == 200 and changed.headers["etag"] != etag


def test_staff_sign_in_with_a_card_or_a_username_and_pin_and_are_audited(db: Session, desk: Desk) -> None:
    cabinet = desk.cabinet
    by_card = desk.post("sign-in", {"card": ADMIN_CARD})
    assert by_card.status_code == 200
    assert by_card.json() == {
        "id": cabinet.admin.id,
        "username": cabinet.admin.username,
        "display_name": cabinet.admin.display_name,
        "role": "records_admin",
    }
    by_pin = desk.post("sign-in", {"username": cabinet.desk.username.upper(), "pin": DESK_PIN})
    assert by_pin.status_code == 200 and by_pin.json()["id"] == cabinet.desk.id

    wrongs = [
        {"card": "STAFF-9999"},
        {"username": cabinet.desk.username, "pin": "000000"},
        {"username": "nobody", "pin": DESK_PIN},
        {"username": cabinet.admin.username, "pin": DESK_PIN},  # no PIN of their own
    ]
    for wrong in wrongs:
        refused = desk.post("sign-in", wrong)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "staff_unknown", wrong
    for incomplete in ({}, {"username": cabinet.desk.username}, {"card": DESK_CARD, "pin": DESK_PIN}):
        unclear = desk.post("sign-in", incomplete)
        assert unclear.status_code == 422 and unclear.json()["error"]["code"] == "sign_in_incomplete", incomplete
    short = desk.post("sign-in", {"username": cabinet.desk.username, "pin": "2468"})  # PINs have 6–8 digits
    assert short.status_code == 422

    signed = [(action, detail["by"]) for action, detail in cabinet_entries(db) if action == "cabinet.sign_in"]
    assert signed == [("cabinet.sign_in", "card"), ("cabinet.sign_in", "pin")]


def test_wrong_tries_lock_the_cabinet_and_the_account_until_the_window_passes(
    db: Session, desk: Desk, make_device: Callable[..., tuple[Device, str]]
) -> None:
    """As at the gate (`throttle.LOCK_OUT`): five wrong PINs lock this cabinet's sign-in, and the account's at
    every cabinet, even for the right PIN; another person at another cabinet is not held up; the window ends."""
    cabinet = desk.cabinet
    _other, token = make_device("cabinet", "钥匙柜 B")
    at_b = {"Authorization": f"Bearer {token}"}
    mine = {"username": cabinet.desk.username, "pin": DESK_PIN}
    for n in range(5):
        wrong = desk.post("sign-in", {"username": cabinet.desk.username, "pin": f"{100000 + n}"})
        assert wrong.status_code == 401
    locked = desk.post("sign-in", mine)
    assert locked.status_code == 429 and locked.json()["error"]["code"] == "login_throttled"
    assert desk.post("sign-in", mine, headers=at_b).status_code == 429  # the account, at another cabinet
    assert desk.post("sign-in", {"card": ADMIN_CARD}, headers=at_b).status_code == 200
    assert desk.post("sign-in", {"card": ADMIN_CARD}).status_code == 429  # this cabinet, for anyone
    desk.clock.now += timedelta(minutes=16)
    assert desk.post("sign-in", mine).status_code == 200


# --- unlocks ---------------------------------------------------------------------------------------------------------


def test_r_key_12_a_loan_registered_in_the_console_gets_one_unlock_for_its_staff(
    db: Session, desk: Desk, make_user: Callable[..., StaffUser]
) -> None:
    """R-KEY-12: the loan registered at the desk authorises one unlock of its key's home slot, for the borrower,
    who registered it and who accompanies; it waits at every cabinet of the estate until it is used, the loan
    cancelled, or it expires (24 h, or the due time if sooner)."""
    cabinet = desk.cabinet
    engineer = make_user(Role.engineering, username="laozhou")
    key = cabinet.key("水泵房")
    loan = loans.lend(
        db, SYSTEM, cabinet.estate, key_id=key.id, purpose="engineering", now=NOW, due_at=LATER,
        borrower=Borrower(BorrowerKind.staff, staff=engineer), by=cabinet.desk,
    )  # fmt: skip
    db.commit()
    answer = desk.get("unlocks")
    assert answer.status_code == 200
    (unlock,) = answer.json()["unlocks"]
    assert (unlock["board"], unlock["slot"], unlock["loan_id"], unlock["key_label"]) == (
        key.board,
        key.slot,
        loan.id,
        "水泵房",
    )
    assert unlock["staff_ids"] == sorted([engineer.id, cabinet.desk.id])
    assert datetime.fromisoformat(unlock["expires_at"]) == LATER
    assert unlock["request_id"] and fresh(db).scalar(select(func.count()).select_from(KeyUnlock)) == 1

    etag = answer.headers["etag"]
    assert desk.get("unlocks", **{"If-None-Match": etag}).status_code == 304
    desk.clock.now = LATER + timedelta(minutes=6)  # past its expiry (and the clock skew)
    assert desk.get("unlocks").json()["unlocks"] == []
    desk.clock.now = NOW + timedelta(minutes=5)
    loans.cancel(db, SYSTEM, db.get_one(KeyLoan, loan.id), by=cabinet.desk, now=NOW)
    db.commit()
    assert desk.get("unlocks").json()["unlocks"] == []


# --- loans asked for at the cabinet ----------------------------------------------------------------------------------


def test_r_key_12_staff_signed_in_at_the_cabinet_borrow_a_key_with_its_one_unlock(db: Session, desk: Desk) -> None:
    """R-KEY-5, 12: the member of staff signed in borrows a key by label or by tag, for a listed purpose; the loan
    is theirs, registered by them, and its unlock is for this cabinet and them."""
    cabinet = desk.cabinet
    answer = desk.borrow("水泵房", note="换水泵轴承")
    assert answer.status_code == 201, answer.text
    out = answer.json()
    key = cabinet.key("水泵房")
    assert out["state"] == "requested"
    assert datetime.fromisoformat(out["due_at"]) == desk.clock.now + timedelta(hours=4)  # the default loan
    unlock = out["unlock"]
    assert (unlock["board"], unlock["slot"], unlock["key_label"], unlock["staff_ids"]) == (
        key.board,
        key.slot,
        "水泵房",
        [cabinet.desk.id],
    )
    assert desk.get("unlocks").json()["unlocks"] == [unlock]
    loan = fresh(db).get_one(KeyLoan, out["loan_id"])
    assert (loan.borrower_kind, loan.borrower_staff_id, loan.registered_by_id, loan.purpose) == (
        BorrowerKind.staff,
        cabinet.desk.id,
        cabinet.desk.id,
        "engineering",
    )
    step = db.scalar(select(StepHistory).where(StepHistory.record_id == loan.id, StepHistory.process == "key_loan"))
    assert step is not None and (step.note, step.device_id) == ("换水泵轴承", desk.device.id)
    unlock_row = db.scalar(select(KeyUnlock).where(KeyUnlock.loan_id == loan.id))
    assert unlock_row is not None and unlock_row.device_id == desk.device.id

    due = (NOW + timedelta(hours=1)).isoformat()
    by_tag = desk.borrow(" 0e-01 ", purpose="sales_viewing", due_at=due)  # the public door key's tag, R-KEY-13
    assert by_tag.status_code == 201, by_tag.text
    assert by_tag.json()["unlock"]["key_label"] == "5栋1单元1层"
    viewing = fresh(db).get_one(KeyLoan, by_tag.json()["loan_id"])
    assert viewing.accompanied_by_id == cabinet.desk.id


def test_a_repeated_idempotency_key_is_answered_once(db: Session, desk: Desk) -> None:
    body = {"staff_id": desk.cabinet.desk.id, "key": "水泵房", "purpose": "engineering"}
    first = desk.post("loans", body, key="loan-at-cabinet-0001")
    again = desk.post("loans", body, key="loan-at-cabinet-0001")
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    assert fresh(db).scalar(select(func.count()).select_from(KeyLoan)) == 1
    assert db.scalar(select(func.count()).select_from(KeyUnlock)) == 1
    reused = desk.post("loans", body | {"key": "水泵房备用"}, key="loan-at-cabinet-0001")
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"
    assert desk.post("loans", body).json()["error"]["code"] == "key_out"  # a new key: a new request, judged again


def test_bad_loans_at_the_cabinet_are_refused_clearly_and_change_nothing(
    db: Session, desk: Desk, make_user: Callable[..., StaffUser]
) -> None:
    """R-KEY-5: a purpose outside the list; a key already out; an unknown key; a member of staff who cannot sign
    in here or may not register loans: each a clear 4xx, and no row written."""
    cabinet = desk.cabinet
    assert desk.borrow("水泵房").status_code == 201
    cleaner = make_user(Role.environment, username="cleaner")
    guards.set_credentials(db, SYSTEM, cabinet.estate, cleaner, pin="864200")
    stranger = make_user(Role.engineering, username="nocredential")
    db.commit()
    before = counts(fresh(db))
    unlocks_before = db.scalar(select(func.count()).select_from(KeyUnlock))
    cases = [
        ({"key": "水泵房备用", "purpose": "private"}, 400, "bad_purpose"),
        ({"key": "水泵房备用", "purpose": ""}, 422, "malformed"),
        ({"key": "水泵房"}, 409, "key_out"),
        ({"key": "NO-SUCH-KEY"}, 404, "unknown_key"),
        ({"key": "水泵房备用", "due_at": (NOW - timedelta(hours=1)).isoformat()}, 400, "missing_due"),
        ({"key": "5-3A 整改", "purpose": "rectification"}, 400, "missing_receipt"),  # R-KEY-9
        ({"key": "5-8B 入户门", "purpose": "viewing"}, 400, "unaccompanied"),  # R-KEY-13: the owner's viewing
        ({"key": "水泵房备用", "staff_id": stranger.id}, 403, "staff_unknown"),
        ({"key": "水泵房备用", "staff_id": 2**40}, 403, "staff_unknown"),
        ({"key": "水泵房备用", "staff_id": cleaner.id}, 403, "forbidden"),  # may not register loans
    ]
    for changes, status, code in cases:
        body = {"staff_id": cabinet.desk.id, "key": "水泵房备用", "purpose": "engineering"} | changes
        refused = desk.post("loans", body)
        assert (refused.status_code, refused.json()["error"]["code"]) == (status, code), (changes, refused.text)
    assert counts(fresh(db)) == before
    assert db.scalar(select(func.count()).select_from(KeyUnlock)) == unlocks_before


def test_r_key_14_an_outside_worker_asking_for_a_mechanical_key_is_refused_with_no_unlock(
    db: Session, desk: Desk
) -> None:
    """R-KEY-14: outside workers take only TM electronic keys: the mechanical spare plant-room key is refused and
    no unlock is authorised; the TM key is lent with its deadline and its unlock."""
    cabinet = desk.cabinet
    worker = Borrower(
        BorrowerKind.outside_worker, name="刘师傅", company="奥的斯电梯", phone="13900000000", id_tail="123X"
    )
    lend = {"purpose": "engineering", "borrower": worker, "by": cabinet.desk, "now": NOW, "due_at": LATER}
    before = counts(db)
    with pytest.raises(DomainError) as refused:
        loans.lend(db, SYSTEM, cabinet.estate, key_id=cabinet.key("水泵房备用").id, **lend)
    assert refused.value.code == "outside_worker_tm_only"
    db.rollback()
    assert counts(db) == before and db.scalar(select(func.count()).select_from(KeyUnlock)) == 0
    loans.lend(db, SYSTEM, cabinet.estate, key_id=cabinet.key("水泵房").id, **lend)
    db.commit()
    (unlock,) = desk.get("unlocks").json()["unlocks"]
    assert unlock["key_label"] == "水泵房" and unlock["staff_ids"] == [cabinet.desk.id]


# --- events close the loop -------------------------------------------------------------------------------------------


def test_r_key_12_a_commanded_opening_is_no_alert_and_the_key_goes_out_and_back(db: Session, desk: Desk) -> None:
    """R-KEY-12: the opening that carries the unlock's request id is commanded (no tamper alert) and uses the
    unlock; removal puts the loan out; back in the wrong slot raises an alarm naming the right one and the loan
    stays out; back in its home slot, the loan ends."""
    cabinet = desk.cabinet
    key = cabinet.key("水泵房")
    home = (key.board or 0, key.slot or 0)
    out = desk.borrow("水泵房").json()
    rid, at = out["unlock"]["request_id"], NOW + timedelta(minutes=6)
    taken = desk.events(
        event("door_opened", *home, at, request_id=rid),
        event("key_removed", *home, at + timedelta(seconds=3), tag="0F01"),
        event("door_closed", *home, at + timedelta(seconds=9)),
    )
    assert taken == {"recorded": 3, "alerts": 0}
    loan = fresh(db).get_one(KeyLoan, out["loan_id"])
    assert loan.state == LoanState.out and loan.out_at == at + timedelta(seconds=3)
    unlock = db.scalar(select(KeyUnlock).where(KeyUnlock.request_id == rid))
    assert unlock is not None and unlock.opened_at == at and unlock.opened_by_device_id == desk.device.id
    assert desk.get("unlocks").json()["unlocks"] == []
    opened = [d for a, d in cabinet_entries(db) if a == "cabinet.door_opened"]
    assert opened[0]["commanded"] is True and opened[0]["alert"] is False and opened[0]["loan"] == loan.id

    later = at + timedelta(hours=1)
    wrong = desk.events(event("key_returned_to_wrong_slot", 1, 12, later, tag="0F01", reason="belongs in 1-8"))
    assert wrong == {"recorded": 1, "alerts": 1}
    alarm = fresh(db).scalar(select(KeyAlarm).where(KeyAlarm.kind == AlarmKind.wrong_slot))
    assert alarm is not None and (alarm.board, alarm.slot, alarm.expected_board, alarm.expected_slot) == (1, 12, *home)
    entry = cabinet_entries(db)[-1][1]
    assert (
        entry["alert"] is True
        and entry["alarm"] == "wrong_slot"
        and f"belongs in {home[0]}-{home[1]}" in (entry["message_en"])
    )
    assert db.get_one(KeyLoan, loan.id).state == LoanState.out

    back = desk.events(
        event("key_removed", 1, 12, later + timedelta(minutes=1)),
        event("key_returned", *home, later + timedelta(minutes=2), tag="0f01"),
    )
    assert back == {"recorded": 2, "alerts": 0}
    loan = fresh(db).get_one(KeyLoan, loan.id)
    assert loan.state == LoanState.returned and loan.returned_at == later + timedelta(minutes=2)
    assert db.get_one(KeyAlarm, alarm.id).cleared_at is not None


def test_an_opening_nobody_authorised_is_an_alert(db: Session, desk: Desk) -> None:
    """A request id the server never gave, or one given for another slot, is not a command: an alert, and the
    real unlock stays waiting; the driver's own `door_opened_without_command` stays an alert; a plain
    `door_opened` beside it is not counted twice."""
    out = desk.borrow("水泵房").json()
    rid = out["unlock"]["request_id"]
    spare = desk.cabinet.key("水泵房备用")
    at = NOW + timedelta(minutes=6)
    answer = desk.events(
        event("door_opened", spare.board or 0, spare.slot, at, request_id="forged-request-1"),
        event("door_opened", spare.board or 0, spare.slot, at, request_id=rid),
        event("door_opened", 1, 3, at),
        event("door_opened_without_command", 1, 3, at),
    )
    assert answer == {"recorded": 4, "alerts": 3}
    judged = [(d.get("refused"), d["alert"]) for a, d in cabinet_entries(db)]
    assert judged == [("never_authorised", True), ("other_slot", True), (None, False), (None, True)]
    assert [u["request_id"] for u in desk.get("unlocks").json()["unlocks"]] == [rid]


def test_events_the_register_cannot_place_are_recorded_as_alerts_and_the_batch_goes_on(db: Session, desk: Desk) -> None:
    """A board the register does not have, a slot outside the board, a tag that is not one, an unregistered tag:
    each recorded as an alert with its reason, never dropped, never a server error; the rest of the batch acts."""
    out = desk.borrow("水泵房").json()
    key = desk.cabinet.key("水泵房")
    at = NOW + timedelta(minutes=6)
    answer = desk.events(
        event("key_removed", 9, 1, at),
        event("key_returned", 1, 99, at, tag="0F02"),
        event("key_returned", 1, 11, at, tag="not a tag"),
        event("unknown_tag", 1, 11, at, tag="ABCD"),
        event("key_removed", 1, None, at),
        event("key_removed", key.board or 0, key.slot, at),
    )
    assert answer == {"recorded": 6, "alerts": 5}
    refused = [d.get("refused") or d.get("alarm") for _a, d in cabinet_entries(db)]
    assert refused == ["unknown_board", "slot_outside_board", "bad_tag", "unknown_tag", "no_slot", None]
    assert fresh(db).get_one(KeyLoan, out["loan_id"]).state == LoanState.out
    # nothing of the register was made up for a place it does not have
    slots = {(s.board, s.slot) for s in db.scalars(select(KeySlot))}
    assert slots == {(1, 11), (key.board, key.slot)}
    unknown = db.scalar(select(KeySlot).where(KeySlot.board == 1, KeySlot.slot == 11))
    assert unknown is not None and unknown.tag == "ABCD"  # what the cabinet saw there, with its alarm


def test_a_key_returned_where_only_presence_is_read_is_taken_to_be_the_slots_own(db: Session, desk: Desk) -> None:
    """A cabinet with presence sensors and no tag reader: the key back in its slot is that slot's key."""
    out = desk.borrow("水泵房").json()
    key = desk.cabinet.key("水泵房")
    at = NOW + timedelta(minutes=6)
    desk.events(event("key_removed", key.board or 0, key.slot, at))
    assert desk.events(event("key_returned", key.board or 0, key.slot, at + timedelta(hours=1))) == {
        "recorded": 1,
        "alerts": 0,
    }
    assert fresh(db).get_one(KeyLoan, out["loan_id"]).state == LoanState.returned


def test_an_estate_without_a_register_keeps_the_cabinets_own_judgement(
    db: Session, estate: Estate, make_device: Callable[..., tuple[Device, str]], client: TestClient
) -> None:
    """No boards registered: key events are recorded as the cabinet reported them, alerts as the contract lists."""
    _device, token = make_device("cabinet", "钥匙柜")
    at = NOW.isoformat()
    events = [{"event": "key_removed", "board": 1, "slot": 4, "at": at, "tag": "01ab"},
              {"event": "key_returned_to_wrong_slot", "board": 1, "slot": 5, "at": at, "tag": "01ab"}]  # fmt: skip
    answer = client.post(
        "/api/v1/cabinet/events", json={"events": events}, headers=keyed({"Authorization": f"Bearer {token}"})
    )
    assert answer.status_code == 201 and answer.json() == {"recorded": 2, "alerts": 1}
