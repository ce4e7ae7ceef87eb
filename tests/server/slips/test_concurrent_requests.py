"""Device requests that meet: an Idempotency-Key is bound to its request (a different body with the same key is
refused), two concurrent requests with one key get one answer and make one change, and kiosks using a new estate's
catalogue at the same moment all get it."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.db.models import Estate, SlipRelease
from tests.conftest import Household

from .conftest import count_all, kiosk_slip


def test_a_key_replayed_with_another_body_is_refused(
    client: TestClient, look: Callable[[Any], Any], estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    slip = kiosk_slip(client, estate, kiosk)
    body = {"text": slip["token"], "guard": "张保安", "lines": count_all(slip)}
    headers = gate_a | {"Idempotency-Key": "release-0001"}
    first = client.post("/api/v1/gate/releases", json=body, headers=headers)
    again = client.post("/api/v1/gate/releases", json=body, headers=headers)
    assert first.status_code == again.status_code == 201 and first.json() == again.json()
    other = client.post("/api/v1/gate/releases", json=body | {"guard": "李保安"}, headers=headers)
    assert other.status_code == 422 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert look(select(SlipRelease.guard)) == "张保安"


def test_two_concurrent_releases_with_one_key_get_one_answer(
    live_server: str,
    client: TestClient,
    look: Callable[[Any], Any],
    estate: Estate,
    household: Household,
    kiosk: dict,
    gate_a: dict,
) -> None:
    slip = kiosk_slip(client, estate, kiosk)
    body = {"text": slip["token"], "guard": "张保安", "lines": count_all(slip)}
    headers = gate_a | {"Idempotency-Key": "release-burst-01"}

    def send(_n: int) -> httpx.Response:
        return httpx.post(f"{live_server}/api/v1/gate/releases", json=body, headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(send, range(8)))
    assert [a.status_code for a in answers] == [201] * 8
    assert len({a.text for a in answers}) == 1
    assert look(select(func.count()).select_from(SlipRelease)) == 1


def test_eight_kiosks_of_a_new_estate_create_its_catalogue_at_once(
    live_server: str, estate: Estate, make_device: Callable[..., Any]
) -> None:
    """The first use of an estate's catalogue creates its common items; eight kiosks asking at once all get them."""
    tokens = [make_device("kiosk", f"自助机{n}")[1] for n in range(8)]

    def ask(token: str) -> httpx.Response:
        headers = {"Authorization": f"Bearer {token}"}
        return httpx.get(f"{live_server}/api/v1/kiosk/catalogue", headers=headers, timeout=60)

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(ask, tokens))
    assert [a.status_code for a in answers] == [200] * 8
    assert {len(a.json()["items"]) for a in answers} == {15}
