"""Units and residents: search, filters, paging, HTMX fragments, unit detail, and arrears set by finance."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import ArrearsChange, AuditEntry, Unit
from server.domain import registry
from server.domain.actors import SYSTEM

HTMX = {"HX-Request": "true", "HX-Target": "results"}


def test_units_search_filters_and_pages(as_role: Callable, populated, column: Callable) -> None:
    desk, _ = as_role("front_desk")
    first = desk.get("/console/units").text
    assert column(first, "units-table") == ["1-1A", "1-1B", "1-2A", "1-2B", "1-3A"]
    assert "共 16 条，第 1/4 页" in first and 'rel="next"' in first and 'rel="prev"' not in first
    second = desk.get("/console/units", params={"page": 2}).text
    assert column(second, "units-table") == ["1-3B", "1-4A", "1-4B", "2-1A", "2-1B"]
    last = desk.get("/console/units", params={"page": 4}).text
    assert column(last, "units-table") == ["2-4B"] and 'rel="next"' not in last

    assert column(desk.get("/console/units", params={"q": "2-3"}).text, "units-table") == ["2-3A", "2-3B"]
    building = desk.get("/console/units", params={"building": "2", "page": 2}).text
    assert "共 8 条，第 2/2 页" in building
    assert column(building, "units-table") == ["2-3B", "2-4A", "2-4B"]
    owing = desk.get("/console/units", params={"arrears": "true"}).text
    assert column(owing, "units-table") == ["1-2A", "2-3B"]
    assert column(owing, "units-table", 3) == ["¥1,280.50", "¥300.00"]
    assert "没有符合条件的房屋" in desk.get("/console/units", params={"q": "9-9Z"}).text


def test_pager_keeps_the_filters(as_role: Callable, populated) -> None:
    desk, _ = as_role("front_desk")
    page = desk.get("/console/units", params={"building": "1"}).text
    assert 'href="/console/units?building=1&amp;page=2"' in page


def test_htmx_filter_gets_only_the_table_and_a_history_restore_the_whole_page(
    as_role: Callable, populated, column: Callable
) -> None:
    desk, _ = as_role("front_desk")
    fragment = desk.get("/console/units", params={"q": "1-4"}, headers=HTMX)
    assert fragment.status_code == 200
    assert "<html" not in fragment.text and 'class="filters"' not in fragment.text
    assert column(fragment.text, "units-table") == ["1-4A", "1-4B"]
    assert "HX-Request" in fragment.headers["vary"]

    restore = desk.get("/console/units", params={"q": "1-4"}, headers=HTMX | {"HX-History-Restore-Request": "true"})
    assert "<html" in restore.text and 'class="filters"' in restore.text
    residents = desk.get("/console/residents", params={"q": "李"}, headers=HTMX).text
    assert "<html" not in residents and column(residents, "residents-table") == ["李娜"]


def test_without_javascript_the_filter_form_is_a_plain_get(as_role: Callable, populated) -> None:
    desk, _ = as_role("front_desk")
    page = desk.get("/console/residents").text
    assert '<form class="filters" method="get" action="/console/residents"' in page
    assert 'hx-target="#results"' in page and 'hx-push-url="true"' in page


def test_residents_search_by_name_phone_and_unit_with_filters_and_pages(
    as_role: Callable, populated, column: Callable
) -> None:
    desk, _ = as_role("front_desk")

    def names(**params: str) -> list[str]:
        return sorted(column(desk.get("/console/residents", params=params).text, "residents-table"))

    assert names(q="张") == sorted(["张伟", "张小明"])
    assert names(q="13700000003") == ["陈静"]
    assert names(q="1-2a") == sorted(["李娜", "王芳"])
    assert names(q="1-2A", current="true") == ["李娜"]
    assert names(kind="tenant") == sorted(["李娜", "王芳"])
    assert names(kind="family") == ["张小明"]
    assert names(q="没有这个人") == []

    owners = desk.get("/console/residents", params={"kind": "owner"}).text
    assert "共 9 条，第 1/2 页" in owners
    second = names(kind="owner", page="2")
    assert len(second) == 4 and set(second).isdisjoint(column(owners, "residents-table"))
    past = desk.get("/console/residents", params={"q": "王芳"}).text
    assert column(past, "residents-table", 6) == ["已迁出"]


def test_unit_detail_shows_current_and_past_occupancies_and_arrears_history(as_role: Callable, populated) -> None:
    desk, _ = as_role("front_desk")
    page = desk.get(f"/console/units/{populated.unit_ids['1-2A']}").text
    current, past = page.split("以往住户", 1)
    assert "李娜" in current and "王芳" not in current
    assert "王芳" in past and "2022-12-31" in past
    assert "¥1,280.50" in page and "2023 年物业费" in page
    assert "设定欠费金额" not in page, "the arrears form is for finance only"


def test_unit_of_another_estate_is_not_found(as_role: Callable, populated, db: Session) -> None:
    other = registry.create_estate(db, SYSTEM, "BY", "碧云轩")
    unit_id = registry.ensure_unit(db, SYSTEM, other, "3-3C").id
    db.commit()
    desk, _ = as_role("front_desk")
    response = desk.get(f"/console/units/{unit_id}")
    assert response.status_code == 404 and "本小区没有这个房屋" in response.text


def _arrears_form(client: TestClient, unit_id: int, page_csrf: Callable) -> str:
    page = client.get(f"/console/units/{unit_id}").text
    assert 'name="balance"' in page
    return page_csrf(page)


def test_finance_sets_arrears_and_the_change_is_kept(
    as_role: Callable, populated, db: Session, page_csrf: Callable
) -> None:
    finance, user = as_role("finance")
    unit_id = populated.unit_ids["1-2A"]
    token = _arrears_form(finance, unit_id, page_csrf)
    response = finance.post(
        f"/console/units/{unit_id}/arrears",
        data={"balance": "¥2,000.5", "note": "补缴 2024 年物业费前", "csrf_token": token},
        follow_redirects=False,
    )
    assert response.status_code == 303

    db.expire_all()
    assert db.get(Unit, unit_id).arrears_fen == 200050
    change = db.scalars(
        select(ArrearsChange).where(ArrearsChange.unit_id == unit_id).order_by(ArrearsChange.id.desc())
    ).first()
    assert (change.previous_fen, change.balance_fen, change.changed_by_id) == (128050, 200050, user.id)
    entry = db.scalars(select(AuditEntry).order_by(AuditEntry.seq.desc())).first()
    assert entry.action == "unit.arrears" and entry.actor.endswith(user.username)
    db.commit()

    page = finance.get(response.headers["location"]).text
    assert "欠费金额已保存" in page and "¥2,000.50" in page and "补缴 2024 年物业费前" in page
    assert page.index("¥2,000.50") < page.index("2023 年物业费"), "newest change first"


def test_bad_amounts_are_explained_and_change_nothing(
    as_role: Callable, populated, db: Session, page_csrf: Callable
) -> None:
    finance, _ = as_role("finance")
    unit_id = populated.unit_ids["1-2A"]
    token = _arrears_form(finance, unit_id, page_csrf)
    for typed, message in [
        ("12.345", "不是有效金额"),
        ("一千", "不是有效金额"),
        ("-5", "欠费金额不能为负"),
        ("99999999999", "超过上限"),
    ]:
        response = finance.post(f"/console/units/{unit_id}/arrears", data={"balance": typed, "csrf_token": token})
        assert response.status_code == 400, typed
        assert message in response.text and f'value="{typed}"' in response.text
    db.expire_all()
    assert db.get(Unit, unit_id).arrears_fen == 128050
    assert len(db.scalars(select(ArrearsChange).where(ArrearsChange.unit_id == unit_id)).all()) == 1


def test_only_finance_may_set_arrears(as_role: Callable, populated, db: Session, page_csrf: Callable) -> None:
    records, _ = as_role("records_admin")
    unit_id = populated.unit_ids["2-3B"]
    page = records.get(f"/console/units/{unit_id}").text
    assert 'name="balance"' not in page
    response = records.post(f"/console/units/{unit_id}/arrears", data={"balance": "0", "csrf_token": page_csrf(page)})
    assert response.status_code == 403 and "您的角色无权进行此操作" in response.text
    db.expire_all()
    assert db.get(Unit, unit_id).arrears_fen == 30000
