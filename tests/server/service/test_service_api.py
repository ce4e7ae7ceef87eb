"""The service desk's kiosk API (issue 17, item 6): the catalogue with listed prices and the services offered, the
visit slots on the working-day calendar, repair requests, cleaning bookings and feedback for an identified resident
(each a keyed, idempotent write), the resident's own requests, and withdrawing one not yet taken up."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.models import (
    CallOutcome,
    CallReason,
    CallTask,
    Channel,
    DeviceKind,
    Estate,
    FeedbackForm,
    OrderState,
    PriceItem,
    Role,
    ServiceKind,
    ServiceOrder,
    StaffUser,
)
from server.domain import devices, registry, staff, workflow
from server.domain.actors import SYSTEM
from server.domain.service.processes import REPAIR
from server.web.app import create_app
from tests.conftest import OWNER_PIN, Household, make_household
from tests.server.service.service_world import NOW, Clock, counts, price_list, quick_hashing

SLOT_9 = "2026-11-25T01:00:00Z"  # Wednesday 09:00–11:00 in Shanghai
SLOT_14 = "2026-11-25T06:00:00Z"
SATURDAY_9 = "2026-11-28T01:00:00Z"


@dataclass
class Kiosk:
    client: TestClient
    clock: Clock
    estate: Estate
    household: Household
    engineer: StaffUser

    def post(self, path: str, body: dict[str, Any], key: str | None = None) -> Any:
        return self.client.post(
            f"/api/v1/service{path}", json=body, headers={"Idempotency-Key": key or uuid.uuid4().hex}
        )

    def get(self, path: str, **params: Any) -> Any:
        return self.client.get(f"/api/v1/service{path}", params=params)


__all__ = ["quick_hashing"]  # the fixture, used by name


@pytest.fixture
def kiosk(
    quick_hashing: None,
    db: Session,
    estate: Estate,
    household: Household,
    engine: Engine,
    tmp_path: Any,
    database_url: str,
) -> Iterator[Kiosk]:
    price_list(db, estate)
    device = devices.enrol(db, SYSTEM, estate, DeviceKind.kiosk, "大堂自助机")
    token = devices.issue_token(db, SYSTEM, device)
    engineer = staff.create_user(
        db, SYSTEM, username="eng_1", display_name="工程部", role=Role.engineering, password="correct-horse-1",
        estates=[estate],
    )  # fmt: skip
    db.commit()
    clock = Clock(NOW)
    settings = Settings(
        data_dir=tmp_path / "data", database_url=database_url, overdue_sweep_seconds=0, service_sweep_seconds=0,
        cleaning_slot_capacity=1,
    )  # fmt: skip
    app = create_app(settings, engine, clock=clock)
    with TestClient(app, headers={"Authorization": f"Bearer {token}"}) as client:
        yield Kiosk(client, clock, estate, household, engineer)


CARD = {"identity": {"card": "CARD0001"}}


def repair(**extra: Any) -> dict[str, Any]:
    return {"unit": "5-8B", **CARD, "item": "tap-leak", "description": "厨房水龙头漏水", **extra}


def test_catalogue_lists_listed_prices_and_offers_only_kinds_with_active_items(kiosk: Kiosk, db: Session) -> None:
    answer = kiosk.get("/catalogue").json()
    assert answer["offered"] == ["repair", "cleaning", "feedback"]
    plumbing = next(c for c in answer["repair"] if c["code"] == "plumbing")
    assert plumbing["name"] == "水管洁具"
    assert [(i["code"], i["price_fen"], i["paid"]) for i in plumbing["items"]] == [
        ("tap-leak", 3000, True),
        ("drain", 5000, True),
    ]
    assert {c["code"] for c in answer["feedback"]} == {"suggestion", "complaint", "praise", "question"}
    db.execute(PriceItem.__table__.update().where(PriceItem.kind == ServiceKind.cleaning).values(active=False))
    db.commit()
    answer = kiosk.get("/catalogue").json()
    assert answer["offered"] == ["repair", "feedback"] and answer["cleaning"] == []


def test_slots_are_the_next_working_days_less_begun_and_booked_ones(kiosk: Kiosk, db: Session) -> None:
    """R-CLN-1: Wednesday to Tuesday skips the weekend; at 15:00 the day's first two slots are gone; a booking
    takes a place of its slot."""
    found = kiosk.get("/slots", kind="cleaning").json()
    days = sorted({s["day"] for s in found["slots"]})
    assert days == ["2026-11-25", "2026-11-26", "2026-11-27", "2026-11-30", "2026-12-01"]
    assert [s["label"] for s in found["slots"][:3]] == ["09:00–11:00", "14:00–16:00", "16:00–18:00"]
    assert found["slots"][0]["start"] == "2026-11-25T01:00:00Z" and found["slots"][0]["free"] == 1
    booked = kiosk.post("/cleanings", {"unit": "5-8B", **CARD, "item": "deep-3h", "slot": SLOT_9})
    assert booked.status_code == 201, booked.text
    assert kiosk.get("/slots", kind="cleaning", days=1).json()["slots"][0]["free"] == 0
    assert kiosk.get("/slots", kind="repair", days=1).json()["slots"][0]["free"] == 4  # per kind
    kiosk.clock.now = NOW + timedelta(hours=7)  # 15:00
    today = kiosk.get("/slots", kind="repair", days=1).json()["slots"]
    assert [s["label"] for s in today] == ["16:00–18:00"]


def test_a_repair_request_is_priced_from_the_list_and_a_retry_opens_nothing_twice(kiosk: Kiosk, db: Session) -> None:
    """R-REP-1, R-REP-3: the order is opened by the kiosk's `request` step at the listed price; the same key
    answers the same order; the key on another request is refused."""
    key = uuid.uuid4().hex
    first = kiosk.post("/repairs", repair(slot=SLOT_14), key)
    assert first.status_code == 201, first.text
    before = counts(db)
    again = kiosk.post("/repairs", repair(slot=SLOT_14), key)
    assert again.status_code == 201 and again.json() == first.json()
    assert counts(db) == before
    out = first.json()
    assert out["number"].startswith("GH-WX-202611-") and out["state"] == "new"
    assert (out["price_fen"], out["paid"], out["item_name_en"]) == (3000, True, "Leaking tap")
    assert out["appointment_start"] == SLOT_14 and out["withdrawable"]
    order = db.scalar(select(ServiceOrder))
    assert order is not None and order.channel == Channel.kiosk and order.contact_name == "王建国"
    assert order.person_id == kiosk.household.owner.id and order.contact_phone == "13800000001"
    reused = kiosk.post("/repairs", repair(description="另一件事"), key)
    assert reused.status_code == 422 and reused.json()["error"]["code"] == "idempotency_key_reused"


REFUSED = [
    ("price not on list", repair(item="gold-tap"), 400, "not_on_price_list"),  # R-REP-3: only prices on the list
    ("unknown category", repair(item=None, category="roofing", description="漏雨"), 400, "unknown_category"),
    ("a Saturday slot", repair(slot=SATURDAY_9), 400, "bad_slot"),
    ("a unit not in the estate", repair(unit="9-9Z"), 404, "unknown_unit"),
    ("an unknown card", {"unit": "5-8B", "identity": {"card": "NOBODY01"}, "item": "tap-leak"}, 401, "unknown_card"),
]


def test_a_refused_request_changes_nothing(kiosk: Kiosk, db: Session) -> None:
    """R-REP-3: a price not on the list is refused; so is a bad category, slot, unit or card: a clear code, both
    languages, and no order, history or call task written."""
    for name, body, status, code in REFUSED:
        before = counts(db)
        answer = kiosk.post("/repairs", body)
        assert (answer.status_code, answer.json()["error"]["code"]) == (status, code), f"{name}: {answer.text}"
        assert answer.json()["error"]["message_en"]
        after = counts(db)
        del before["AuditEntry"], after["AuditEntry"]  # an unknown card is logged as an attempt
        assert after == before, name


def test_a_unit_of_another_estate_or_not_ones_own_is_refused(kiosk: Kiosk, db: Session) -> None:
    other = registry.create_estate(db, SYSTEM, "XS", "西山苑", "Xishan")
    make_household(db, other, "7-7C", credentials=False)
    registry.ensure_unit(db, SYSTEM, kiosk.estate, "6-1A")
    db.commit()
    before = counts(db)
    elsewhere = kiosk.post("/repairs", repair(unit="7-7C"))
    assert elsewhere.status_code == 404 and elsewhere.json()["error"]["code"] == "unknown_unit"
    neighbour = kiosk.post("/repairs", repair(unit="6-1A"))
    assert neighbour.status_code == 403 and neighbour.json()["error"]["code"] == "not_your_unit"
    assert counts(db)["ServiceOrder"] == before["ServiceOrder"] == 0


def test_a_cleaning_booking_needs_a_slot_with_room(kiosk: Kiosk, db: Session) -> None:
    """R-CLN-1: booked for an offered slot; a full slot is refused (capacity 1 here)."""
    body = {"unit": "5-8B", **CARD, "item": "deep-3h", "slot": SLOT_9}
    assert kiosk.post("/cleanings", body).status_code == 201
    tenant = {**body, "identity": {"card": "CARD0002"}}
    full = kiosk.post("/cleanings", tenant)
    assert full.status_code == 409 and full.json()["error"]["code"] == "slot_full"
    assert kiosk.post("/cleanings", {**tenant, "slot": SLOT_14}).json()["price_fen"] == 18000


def test_feedback_is_received_due_within_one_working_day(kiosk: Kiosk, db: Session) -> None:
    """R-FB-1, R-FB-3: received now on a form; a Wednesday's form is due by the end of Thursday."""
    body = {"unit": "5-8B", "identity": {"pin": OWNER_PIN}, "category": "complaint", "subject": "电梯噪音"}
    answer = kiosk.post("/feedback", body)
    assert answer.status_code == 201, answer.text
    out = answer.json()
    assert out["state"] == "received" and out["number"].startswith("GH-YJ-")
    assert out["due_at"] == "2026-11-26T15:59:59Z"
    form = db.scalar(select(FeedbackForm))
    assert form is not None and form.channel == Channel.kiosk and form.unit_id == kiosk.household.unit.id


def test_my_requests_show_ones_own_with_visit_and_callback(kiosk: Kiosk, db: Session) -> None:
    mine = kiosk.post("/repairs", repair()).json()
    kiosk.post("/repairs", {**repair(), "identity": {"card": "CARD0002"}})  # the tenant's
    kiosk.post("/feedback", {"unit": "5-8B", **CARD, "category": "praise", "subject": "保安很好"})
    order = db.scalar(select(ServiceOrder).where(ServiceOrder.number == mine["number"]))
    assert order is not None
    order.worker_name, order.done_at = "李师傅", NOW + timedelta(hours=3)
    db.add(CallTask(estate_id=kiosk.estate.id, reason=CallReason.repair_callback, order_id=order.id,
                    done_at=NOW + timedelta(hours=12), outcome=CallOutcome.reached_satisfied))  # fmt: skip
    db.commit()
    answer = kiosk.post("/my-requests", CARD)
    assert answer.status_code == 200, answer.text
    out = answer.json()
    assert [o["number"] for o in out["orders"]] == [mine["number"]]
    assert out["orders"][0]["visit"]["worker"] == "李师傅"
    assert out["orders"][0]["callback"]["outcome"] == "reached_satisfied"
    assert [f["subject"] for f in out["feedback"]] == ["保安很好"]


def test_withdraw_only_ones_own_request_before_it_is_assigned(kiosk: Kiosk, db: Session) -> None:
    """The kiosk's `withdraw` step: from new only; after assignment refused and nothing changed."""
    first = kiosk.post("/repairs", repair()).json()
    key = uuid.uuid4().hex
    withdrawn = kiosk.post(f"/requests/{first['number']}/withdraw", CARD, key)
    assert withdrawn.status_code == 200 and withdrawn.json()["state"] == "cancelled"
    assert kiosk.post(f"/requests/{first['number']}/withdraw", CARD, key).json() == withdrawn.json()  # a retry
    second = kiosk.post("/repairs", repair()).json()
    order = db.scalar(select(ServiceOrder).where(ServiceOrder.number == second["number"]))
    assert order is not None
    workflow.step(
        db, SYSTEM, REPAIR, order, "assign", NOW, by=kiosk.engineer, fields={"assignee_id": kiosk.engineer.id}
    )
    db.commit()
    before = counts(db)
    refused = kiosk.post(f"/requests/{second['number']}/withdraw", CARD)
    assert refused.status_code == 409 and refused.json()["error"]["code"] == "wrong_state"
    tenant = kiosk.post(f"/requests/{second['number']}/withdraw", {"identity": {"card": "CARD0002"}})
    assert tenant.status_code == 403 and tenant.json()["error"]["code"] == "not_your_request"
    db.expire_all()
    assert counts(db) == before and db.get(ServiceOrder, order.id).state == OrderState.assigned  # type: ignore[union-attr]
