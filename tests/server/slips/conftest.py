"""Fixtures for release-slip tests: device clients and slips issued the ways a slip can be."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from server.db.engine import make_sessionmaker
from server.db.models import ApplicantKind, Estate, ReleaseSlip
from server.domain import clock
from server.domain.actors import Actor
from server.domain.slips import eligibility, issuing
from tests.conftest import Household, keyed

STAFF = Actor("user", 1, "desk")


def auth(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def kiosk(make_device: Callable[..., tuple]) -> dict[str, str]:
    _device, token = make_device("kiosk", "大堂自助机")
    return auth(token)


@pytest.fixture
def gate_a(make_device: Callable[..., tuple]) -> dict[str, str]:
    _device, token = make_device("gate", "东门")
    return auth(token)


@pytest.fixture
def gate_b(make_device: Callable[..., tuple]) -> dict[str, str]:
    _device, token = make_device("gate", "西门")
    return auth(token)


def today(estate: Estate) -> date:
    return clock.local_day(estate, issuing.utcnow())


def slip_request(estate: Estate, **changes: object) -> dict[str, object]:
    body: dict[str, object] = {
        "unit": "5-8B",
        "applicant": "owner",
        "identity": {"card": "CARD0001"},
        "items": [{"code": "SOFA", "quantity": 1}, {"name": "旧书架", "quantity": 2}],
        "planned_date": today(estate).isoformat(),
        "vehicle_plate": "粤B12345",
    }
    body.update(changes)
    return body


def kiosk_slip(client: TestClient, estate: Estate, kiosk: dict[str, str], **changes: object) -> dict:
    response = client.post("/api/v1/slips", json=slip_request(estate, **changes), headers=keyed(kiosk))
    assert response.status_code == 201, response.text
    return response.json()


def direct_slip(
    db: Session,
    estate: Estate,
    household: Household,
    *,
    now: datetime | None = None,
    planned: date | None = None,
    lines: list[issuing.LineDraft] | None = None,
) -> ReleaseSlip:
    """An owner's slip issued through the domain (no HTTP), committed."""
    when = now or issuing.utcnow()
    day = clock.local_day(estate, when)
    applicant = eligibility.check(
        db, STAFF, estate, household.unit, ApplicantKind.owner, household.owner, channel="console", today=day
    )
    draft = issuing.SlipDraft(lines or [issuing.LineDraft("SOFA", None, 1)], planned or day)
    slip = issuing.issue(db, STAFF, estate, household.unit, applicant, draft, channel="console", now=when)
    db.commit()
    return slip


def count_all(slip: dict) -> list[dict[str, int]]:
    return [{"line": i["line"], "counted": i["quantity"]} for i in slip["items"]]


@pytest.fixture
def look(engine: Engine) -> Callable[[Any], Any]:
    """`look(statement)`: one scalar read in its own short transaction, so the app is never kept waiting."""

    def _look(statement: Any) -> Any:
        with make_sessionmaker(engine)() as session:
            return session.scalar(statement)

    return _look
