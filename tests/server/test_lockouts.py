"""Lock-outs hold under a burst of concurrent attempts (resident PINs, staff sign-in, guard PINs): every attempt is
counted before the next is checked, so a burst gets no more tries than a patient guesser, and the right secret is
refused once the lock is on. The burst goes through a real server, with real threads."""

from __future__ import annotations

import re
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, date, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy.orm import Session

from server.db.models import Device, Estate, OccupancyKind, Role
from server.domain import guards, registry, throttle
from server.domain.actors import SYSTEM
from tests.conftest import keyed

BURST = 24


def _burst(attempt: Callable[[int], int]) -> list[int]:
    with ThreadPoolExecutor(max_workers=BURST) as pool:
        return list(pool.map(attempt, range(BURST)))


def test_a_burst_of_wrong_resident_pins_gets_five_tries_and_then_the_right_pin_is_refused(
    live_server: str, db: Session, estate: Estate, make_device: Callable[..., Any]
) -> None:
    unit = registry.ensure_unit(db, SYSTEM, estate, "5-8B")
    owner = registry.add_person(db, SYSTEM, estate, "王建国")
    registry.add_occupancy(db, SYSTEM, unit, owner, OccupancyKind.owner, date(2020, 1, 1))
    registry.set_credentials(db, SYSTEM, owner, pin="246810")
    db.commit()
    _device, token = make_device("kiosk")
    headers = {"Authorization": f"Bearer {token}"}

    def attempt(n: int, pin: str | None = None) -> int:
        body = {"unit": "5-8B", "pin": pin or f"{100000 + n}"}
        url = f"{live_server}/api/v1/residents/identify"
        return httpx.post(url, json=body, headers=keyed(headers), timeout=60).status_code

    answers = _burst(attempt)
    allowed = throttle.LOCK_OUT.max_failures
    assert answers.count(401) == allowed and answers.count(429) == BURST - allowed
    assert attempt(0, "246810") == 429


def _login(base: str, username: str, password: str) -> int:
    with httpx.Client(base_url=base, timeout=60) as client:
        page = client.get("/console/login")
        token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
        assert token
        data = {"username": username, "password": password, "csrf_token": token[1]}
        return client.post("/console/login", data=data).status_code


def test_a_burst_of_wrong_staff_passwords_gets_five_tries(live_server: str, make_user: Callable[..., Any]) -> None:
    make_user("front_desk", username="carol")
    answers = _burst(lambda n: _login(live_server, "carol", f"guess-{n}"))
    assert answers.count(401) == 5 and answers.count(429) == BURST - 5
    assert _login(live_server, "carol", "correct-horse-1") == 429


def test_a_burst_of_wrong_guard_pins_gets_five_tries(
    live_server: str, db: Session, estate: Estate, make_user: Callable[..., Any], make_device: Callable[..., Any]
) -> None:
    guard = make_user(Role.gate_guard, username="laochen")
    guards.set_credentials(db, SYSTEM, estate, guard, pin="135791")
    db.commit()
    _device, token = make_device("gate", "东门")
    headers = {"Authorization": f"Bearer {token}"}

    def attempt(n: int, pin: str | None = None) -> int:
        body = {"pin": pin or f"{200000 + n}"}
        url = f"{live_server}/api/v1/gate/guards/sign-in"
        return httpx.post(url, json=body, headers=keyed(headers), timeout=60).status_code

    answers = _burst(attempt)
    allowed = throttle.LOCK_OUT.max_failures
    assert answers.count(401) == allowed and answers.count(429) == BURST - allowed
    assert attempt(0, "135791") == 429


def test_a_lock_out_ends_when_its_window_has_passed_by_the_clock_the_caller_gives(
    db: Session, estate: Estate, make_user: Callable[..., Any], make_device: Callable[..., Any]
) -> None:
    """The rule is judged at the `now` it is given: locked at the fifth wrong PIN, still locked a minute before
    the window ends, open again after it — checked without waiting fifteen minutes."""
    guard = make_user(Role.gate_guard, username="laowang")
    guards.set_credentials(db, SYSTEM, estate, guard, pin="135791")
    device, _token = make_device("gate", "东门")
    gate = db.get(Device, device.id)
    start = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    window = throttle.LOCK_OUT.window
    for n in range(throttle.LOCK_OUT.max_failures):
        with pytest.raises(guards.LoginRefused):
            guards.sign_in(db, SYSTEM, gate, pin=f"{200000 + n}", now=start)
    with pytest.raises(guards.LoginThrottled):
        guards.sign_in(db, SYSTEM, gate, pin="135791", now=start + window - timedelta(minutes=1))
    entry = guards.sign_in(db, SYSTEM, gate, pin="135791", now=start + window + timedelta(seconds=1))
    assert entry.user_id == guard.id
