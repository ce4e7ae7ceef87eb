"""Hostile input at the console answers a clear 4xx and stores nothing: control characters in form fields, ids
beyond what the database holds, digits that are not ASCII, and impossible dates."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from sqlalchemy import Engine, func, select

from server.db.engine import make_sessionmaker
from server.db.models import Device, ReleaseSlip

from .conftest import Registry


def _count(engine: Engine, model: type) -> int:
    with make_sessionmaker(engine)() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_a_form_field_with_a_control_character_is_refused(
    as_role: Callable[..., Any], page_csrf: Callable[[str], str], engine: Engine
) -> None:
    client, _ = as_role("admin")
    token = page_csrf(client.get("/console/devices").text)
    for name in ("东门\x00", "东门\x1b", "东门\x85"):
        answer = client.post("/console/devices", data={"csrf_token": token, "kind": "gate", "name": name})
        assert answer.status_code == 422, answer.text
    assert _count(engine, Device) == 0


def test_the_slip_form_refuses_control_characters_and_odd_digits(
    as_role: Callable[..., Any], page_csrf: Callable[[str], str], engine: Engine, populated: Registry
) -> None:
    client, _ = as_role("front_desk")
    token = page_csrf(client.get("/console/slips/new").text)
    today = datetime.now(ZoneInfo(populated.estate.timezone)).date().isoformat()
    base = {
        "csrf_token": token,
        "unit": "1-1A",
        "applicant": "owner",
        "applicant_name": "张伟",
        "code_1": "SOFA",
        "qty_1": "1",
        "planned_date": today,
    }
    assert client.post("/console/slips/new", data=base).status_code == 200  # the form as such is good
    answer = client.post("/console/slips/new", data=base | {"note": "搬家\x07"})
    assert answer.status_code == 400 and "note" in answer.text
    assert client.post("/console/slips/new", data=base | {"reissue_of": "²"}).status_code == 404
    assert client.post("/console/slips/new", data=base | {"qty_1": "²"}).status_code == 400
    assert _count(engine, ReleaseSlip) == 1


@pytest.mark.parametrize("number", [2**31, 2**63, 2**64])
def test_ids_beyond_the_database_are_refused(as_role: Callable[..., Any], number: int) -> None:
    client, _ = as_role("admin")
    assert client.get(f"/console/slips/{number}").status_code == 422
    assert client.get(f"/console/units/{number}").status_code == 422
    assert client.get("/console/slips/new", params={"reissue": number}).status_code == 422
    assert client.get("/console/staff", params={"page": number}).status_code == 422


@pytest.mark.parametrize("day", ["0001-01-01", "9999-12-31"])
def test_impossible_days_in_console_queries_are_not_errors(as_role: Callable[..., Any], day: str) -> None:
    client, _ = as_role("security_captain")
    for path in ("/console/slips/reconciliation", "/console/slips", "/console/slips/export.csv"):
        answer = client.get(path, params={"day": day})
        assert answer.status_code < 500, path
