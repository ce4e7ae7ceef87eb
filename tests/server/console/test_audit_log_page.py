"""Issue 21, item 3 (a readable audit log) and two points of item 4 (the language switch keeps the filters, residents
sort naturally by unit): every recorded action has words in both languages, the log and the cabinet's events show
no raw code and no UTC time, their filters combine and stay in the URL."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.db.models import Device, DeviceKind, Estate, OccupancyKind, Role
from server.domain import audit, audit_codes, devices, registry
from server.domain.actors import SYSTEM, Actor
from server.domain.permissions import ROLE_PERMISSIONS, Perm

SERVER = Path(__file__).parents[3] / "server"
Client = tuple[TestClient, Any]


SEEN = datetime(2026, 3, 1, 2, 5, tzinfo=UTC)  # 10:05 in Shanghai


def _seed(db: Session, estate: Estate, user_id: int) -> Device:
    """Entries of several areas, by a person and by a cabinet, with times and states in their details."""
    cabinet = devices.enrol(db, SYSTEM, estate, DeviceKind.cabinet, "一号钥匙柜", "物业中心")
    by_cabinet = Actor("device", cabinet.id, cabinet.name, device_id=cabinet.id)
    by_person = Actor("user", user_id, "keeper", ip="10.0.0.9")
    event = {"cabinet": cabinet.name, "board": 1, "slot": 7, "seen_at": SEEN, "alert": True}
    audit.record(
        db, by_cabinet, "cabinet.door_opened_without_command", "cabinet_slot", f"{cabinet.id}:1-7", estate_id=estate.id,
        **event,
    )  # fmt: skip
    audit.record(db, by_cabinet, "cabinet.door_closed", "cabinet_slot", f"{cabinet.id}:1-8", estate_id=estate.id,
                 cabinet=cabinet.name, board=1, slot=8, seen_at=SEEN, alert=False)  # fmt: skip
    audit.record(db, by_person, "repair.assign", "repair", 41, estate_id=estate.id, from_state="new",
                 to_state="assigned", note="", due_at=SEEN)  # fmt: skip
    unit = registry.get_unit(db, estate, "1-2A")
    registry.set_arrears(db, by_person, unit, 5000, "")
    audit.record(db, by_person, "slip.issue", "slip", 9, estate_id=estate.id, unit="2-1A", a_key_never_labelled=3)
    db.commit()
    return cabinet


def _visible(html: str) -> str:
    """What a reader sees: the text outside tags, attributes and the filters' options left out."""
    html = re.sub(r"<(select|script|style)\b.*?</\1>", "", html, flags=re.S)
    return re.sub(r"<[^>]+>", " ", html)


def test_the_audit_log_shows_words_and_the_estates_time_never_a_code_or_utc(
    as_role: Callable[..., Client], populated: Any, db: Session
) -> None:
    """Issue 21 item 3: in both languages, actions as words, details as labelled fields with known values translated,
    every time in the estate's zone; a detail key with no label is humanised, never shown as JSON."""
    manager, account = as_role("cs_manager")
    _seed(db, populated.estate, account.id)
    codes = audit_codes.action_codes()
    for lang in ("zh", "en"):
        manager.cookies.set("estate_lang", lang)
        text = _visible(manager.get("/console/audit").text)
        assert not [c for c in codes if c in text], "no raw action code"
        assert not re.search(r"UTC|\+00:?00|\d{2}T\d{2}|\b02:05\b|[{}]", text), "no UTC time, no JSON"
        assert "2026-03-01 10:05" in text, "seen_at and due_at in Asia/Shanghai"
        assert "A key never labelled" in text
        if lang == "zh":
            assert "柜门未经指令被打开" in text and "维修单：派工" in text and "已派工" in text and "更新欠费" in text
            assert re.search(r"钥匙位\s+7\s", text) and re.search(r"需处理\s+是\s", text)
        else:
            assert "Cabinet door opened without a command" in text and "Repair order assigned" in text
            assert re.search(r"To\s+assigned\s", text) and "Arrears updated" in text


def test_the_audit_filters_combine_and_stay_in_the_url(
    as_role: Callable[..., Client], populated: Any, db: Session, column: Callable[..., list[str]]
) -> None:
    """Issue 21 item 3: by person, device, unit and action (grouped by area), together; paging keeps them; a unit
    that is not one is a clear error and lists nothing."""
    manager, account = as_role("cs_manager")
    cabinet = _seed(db, populated.estate, account.id)
    page = manager.get("/console/audit").text
    assert '<optgroup label="钥匙">' in page and '<option value="cabinet.door_closed"' in page
    assert f'<option value="{cabinet.id}"' in page and f'<option value="{account.id}"' in page
    by_cabinet = manager.get("/console/audit", params={"device": cabinet.id}).text
    assert column(by_cabinet, "audit-table", 3) == ["柜门关闭", "柜门未经指令被打开"]
    both = manager.get("/console/audit", params={"device": cabinet.id, "action": "cabinet.door_closed"}).text
    assert column(both, "audit-table", 3) == ["柜门关闭"]
    by_person = manager.get("/console/audit", params={"person": account.id}).text
    assert column(by_person, "audit-table", 3) == ["开具放行条", "更新欠费", "维修单：派工", "员工登录"]
    unit = manager.get("/console/audit", params={"unit": "2-1a"}).text  # named in a slip's details
    assert column(unit, "audit-table", 3) == ["开具放行条", "新建房屋"]
    of_person = manager.get("/console/audit", params={"unit": "1-2A", "person": account.id}).text
    assert column(of_person, "audit-table", 3) == ["更新欠费"]
    many = manager.get("/console/audit", params={"action": "unit.create"}).text  # 16 units, 5 a page
    assert 'href="/console/audit?action=unit.create&amp;page=2"' in many
    bad = manager.get("/console/audit", params={"unit": "1-99Z", "action": "unit.create"})
    assert bad.status_code == 200 and "本小区没有房号 1-99Z" in bad.text and column(bad.text, "audit-table") == []


def test_the_records_admin_has_the_cabinets_events_readable_and_filtered(
    as_role: Callable[..., Client], populated: Any, db: Session, column: Callable[..., list[str]]
) -> None:
    """Issue 21 item 3: the cabinet's events on their own page for the records admin (keys.view, no audit.view):
    words, local times, filters by cabinet, slot and alert; a role without keys.view is refused."""
    assert Perm.audit_view not in ROLE_PERMISSIONS[Role.records_admin]
    keeper, account = as_role("records_admin")
    cabinet = _seed(db, populated.estate, account.id)
    keeper.cookies.set("estate_lang", "en")
    page = keeper.get("/console/keys/events").text
    text = _visible(page)
    assert "Cabinet door opened without a command" in text and "2026-03-01 10:05" in text
    assert not re.search(r"cabinet\.door|UTC|\+00:00|\b02:05\b", text)
    assert f'<option value="{cabinet.id}"' in page
    alerts = keeper.get("/console/keys/events", params={"cabinet": cabinet.id, "alerts": "1"}).text
    assert column(alerts, "events-table", 1) == ["Cabinet door opened without a command"]
    quiet = keeper.get("/console/keys/events", params={"alerts": "0", "slot": "1-8"}).text
    assert column(quiet, "events-table", 1) == ["Cabinet door closed"]
    bad = keeper.get("/console/keys/events", params={"slot": "seven"}).text
    assert "Give the slot as on its label" in bad
    finance, _ = as_role("finance")
    assert finance.get("/console/keys/events").status_code == 403


def test_the_language_switch_keeps_the_page_and_its_filters(as_role: Callable[..., Client], populated: Any) -> None:
    """Issue 21 item 4: the switch link carries path and query; a referrer of the same page (filters HTMX pushed
    into the address bar since) wins; anything off the console still goes home."""
    manager, _ = as_role("cs_manager")
    page = manager.get("/console/audit", params={"action": "unit.create", "unit": "1-1A"}).text
    link = re.search(r'class="lang" href="([^"]+)"', page)
    assert link and quote("/console/audit?action=unit.create&unit=1-1A", safe="/") in link[1].replace("&amp;", "&")
    switched = manager.get(link[1].replace("&amp;", "&"), follow_redirects=False)
    assert switched.headers["location"] == "/console/audit?action=unit.create&unit=1-1A"
    pushed = manager.get(
        "/console/lang",
        params={"to": "zh", "next": "/console/audit?action=unit.create"},
        headers={"referer": "http://testserver/console/audit?action=unit.arrears&page=2"},
        follow_redirects=False,
    )
    assert pushed.headers["location"] == "/console/audit?action=unit.arrears&page=2"
    elsewhere = manager.get(
        "/console/lang",
        params={"to": "zh", "next": "/console/units?q=1"},
        headers={"referer": "http://evil.example/console/units?q=2"},
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == "/console/units?q=1"
    assert (
        manager.get("/console/lang?to=en&next=https://evil.example/", follow_redirects=False).headers["location"]
        == "/console/"
    )


def test_units_and_residents_sort_naturally_by_unit(db: Session, estate: Estate) -> None:
    """Issue 21 item 4: 1-1A before 1-2A before 1-10A, and building 2 before building 10, in SQL (both databases)."""
    codes = ["10-1A", "1-10A", "2-1A", "1-2A", "1-1B", "1-1A"]
    for code in codes:
        unit = registry.ensure_unit(db, SYSTEM, estate, code)
        person = registry.add_person(db, SYSTEM, estate, f"住户{code}")
        registry.add_occupancy(db, SYSTEM, unit, person, OccupancyKind.owner, date(2024, 1, 1))
    db.commit()
    natural = ["1-1A", "1-1B", "1-2A", "1-10A", "2-1A", "10-1A"]
    assert [u.code for u in registry.search_units(db, estate, size=10).items] == natural
    assert [o.unit.code for o in registry.search_residents(db, estate, size=10).items] == natural
