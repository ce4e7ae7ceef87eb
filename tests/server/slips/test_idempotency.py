"""Idempotency-Key: a key is bound to its request (a different body with the same key is refused), and two
concurrent requests with one key get one answer and make one change."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from server.db.models import Estate, SlipRelease

from .conftest import Household, count_all, kiosk_slip


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
