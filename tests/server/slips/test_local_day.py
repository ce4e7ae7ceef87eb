"""The kiosk's identify step and its slip request judge a resident by the same day: the estate's local day.

At 00:30 in Shanghai it is still the previous day in UTC (16:30). A tenant whose tenancy starts today, and one
whose tenancy ended yesterday (R-REL-5: a non-owner moving out), must get the same answer from both steps."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.db.models import Estate, OccupancyKind
from server.domain import clock, registry
from server.domain.actors import SYSTEM
from tests.conftest import keyed

from .conftest import slip_request


@dataclass
class HalfPastMidnight:
    day: date  # the estate's day at 00:30 local time
    now: datetime  # 16:30 UTC, on the day before


@pytest.fixture
def half_past_midnight(app: FastAPI, db: Session, estate: Estate) -> Iterator[HalfPastMidnight]:
    """The app's clock stopped at 00:30 in the estate's zone, with a tenant moving in and one moving out today."""
    day = clock.today(estate)
    now = datetime.combine(day, time(0, 30), clock.zone(estate)).astimezone(UTC)
    assert now.date() == day - timedelta(days=1) and now.hour == 16
    unit = registry.ensure_unit(db, SYSTEM, estate, "6-1A")
    arriving = registry.add_person(db, SYSTEM, estate, "张新租")
    leaving = registry.add_person(db, SYSTEM, estate, "赵搬走")
    registry.add_occupancy(db, SYSTEM, unit, arriving, OccupancyKind.tenant, day)
    registry.add_occupancy(db, SYSTEM, unit, leaving, OccupancyKind.tenant, date(2024, 1, 1), day - timedelta(days=1))
    registry.set_credentials(db, SYSTEM, arriving, pin="135799")
    registry.set_credentials(db, SYSTEM, leaving, card="CARD0101")
    db.commit()
    app.state.clock = lambda: now
    yield HalfPastMidnight(day, now)


def _ask(client: TestClient, kiosk: dict, estate: Estate, day: date, identity: dict) -> tuple[dict, dict]:
    identify_body = {"unit": "6-1A", **identity} if "pin" in identity else identity
    identified = client.post("/api/v1/residents/identify", json=identify_body, headers=keyed(kiosk))
    body = slip_request(estate, unit="6-1A", applicant="tenant", identity=identity, planned_date=day.isoformat())
    requested = client.post("/api/v1/slips", json=body, headers=keyed(kiosk))
    return (
        {"status": identified.status_code, **identified.json()},
        {"status": requested.status_code, **requested.json()},
    )


def test_a_tenancy_starting_today_counts_at_half_past_midnight_in_both_steps(
    client: TestClient, estate: Estate, kiosk: dict, half_past_midnight: HalfPastMidnight
) -> None:
    day = half_past_midnight.day
    identified, requested = _ask(client, kiosk, estate, day, {"pin": "135799"})
    assert identified["status"] == 200, identified
    assert [(u["unit"], u["applicant"], u["slip_refusal"]) for u in identified["units"]] == [("6-1A", "tenant", None)]
    assert requested["status"] == 201, requested
    assert requested["number"] == f"GH-{day:%Y%m%d}-0001"  # numbered by the estate's day too


def test_a_tenancy_ended_yesterday_is_over_at_half_past_midnight_in_both_steps(
    client: TestClient, estate: Estate, kiosk: dict, half_past_midnight: HalfPastMidnight
) -> None:
    """R-REL-5: a tenant who has moved out is no longer an occupant, by the identify step or by the request."""
    identified, requested = _ask(client, kiosk, estate, half_past_midnight.day, {"card": "CARD0101"})
    assert identified["status"] == 200 and identified["units"] == []  # no unit offered …
    assert requested["status"] == 403 and requested["error"]["code"] == "not_resident"  # … and none granted
