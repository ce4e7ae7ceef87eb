"""The editable item catalogue and the conflicts list the security captain resolves, in the console."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import CatalogueItem, Device, Estate, SlipConflict
from server.domain.slips.gate import offline, releases
from tests.conftest import Household

from .conftest import STAFF, direct_slip


def test_catalogue_items_can_be_added_and_withdrawn(
    client: TestClient, estate: Estate, make_user: Any, login: Any, page_csrf: Any, look: Any
) -> None:
    user = make_user("records_admin", password="pw-for-tests-1")
    login(client, user.username, "pw-for-tests-1")
    page = client.get("/console/slips/catalogue")
    assert "沙发" in page.text and "SOFA" in page.text
    token = page_csrf(page.text)
    added = client.post(
        "/console/slips/catalogue", data={"csrf_token": token, "code": "desk", "name": "书桌", "active": "true"}
    )
    assert added.status_code == 200 and "书桌" in added.text
    assert look(select(CatalogueItem).where(CatalogueItem.code == "DESK")).active
    client.post("/console/slips/catalogue", data={"csrf_token": token, "code": "DESK", "name": "书桌"})
    assert not look(select(CatalogueItem).where(CatalogueItem.code == "DESK")).active
    assert "书桌" not in client.get("/console/slips/new").text  # withdrawn items are not offered
    bad = client.post("/console/slips/catalogue", data={"csrf_token": token, "code": "9X", "name": "x"})
    assert bad.status_code == 400


def test_the_security_captain_resolves_an_offline_double_use(
    client: TestClient,
    db: Session,
    estate: Estate,
    household: Household,
    make_user: Any,
    login: Any,
    page_csrf: Any,
    make_device: Any,
    look: Any,
) -> None:
    slip = direct_slip(db, estate, household)
    east, west = (db.get(Device, make_device("gate", name)[0].id) for name in ("东门", "西门"))
    releases.release(db, STAFF, east, slip.token, "老陈", [releases.Count(1, 1)])
    event = offline.OfflineEvent(
        "nonce-west-01", "release", slip.token, datetime.now(UTC) - timedelta(minutes=1), "小刘"
    )
    clock = offline.gate_clock(db, west, timedelta(minutes=10))
    assert offline.sync(db, STAFF, west, [event], clock)[0].result == "conflict"
    db.commit()
    user = make_user("security_captain", password="pw-for-tests-1")
    login(client, user.username, "pw-for-tests-1")
    page = client.get("/console/slips/conflicts")
    assert slip.number in page.text and "重复使用" in page.text
    conflict = look(select(SlipConflict))
    done = client.post(
        f"/console/slips/conflicts/{conflict.id}/resolve",
        data={"csrf_token": page_csrf(page.text), "note": "已核实：同一批物品，西门补登"},
    )
    assert done.status_code == 200 and "已核实" in done.text
    assert look(select(SlipConflict)).resolved_at is not None
