"""The console's key pages through the test client: who may open them, forms without CSRF refused, the slot map
(R-KEY-7), loans with every rule of the register (R-KEY-5, 8, 9, 12, 13, 14), the overdue list, intakes with the
100% test and the spot check (R-KEY-1…3, 10), duplication approvals (R-KEY-11), exports and the cabinet's events.
Bad input shows a clear error and changes nothing."""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import (
    AlarmKind,
    DuplicationState,
    Estate,
    IntakeState,
    Key,
    KeyAlarm,
    KeyDuplication,
    KeyIntake,
    KeyLoan,
    KeySet,
    LoanState,
    Role,
    StaffUser,
)
from server.domain import clock, registry
from server.domain.actors import SYSTEM
from server.domain.keys import duplication, events
from server.domain.permissions import ROLE_PERMISSIONS, Perm
from tests.conftest import Household, csrf_of

from .key_cabinet import KeyCabinet, build_cabinet, counts, staff_loan

Client = tuple[TestClient, Any]


@pytest.fixture
def cabinet(db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]) -> KeyCabinet:
    return build_cabinet(db, estate, make_user(Role.records_admin))


def token(client: TestClient, path: str = "/console/keys") -> str:
    return csrf_of(client.get(path).text)


def post(client: TestClient, path: str, data: dict[str, Any], page: str = "/console/keys") -> Any:
    return client.post(path, data=data | {"csrf_token": token(client, page)}, follow_redirects=False)


def slot_state(html: str, board: int, slot: int) -> str:
    match = re.search(rf'id="slot-{board}-{slot}" data-state="([a-z_]+)"', html)
    assert match, f"slot {board}-{slot} is drawn"
    return match[1]


# --- who may open the pages ---------------------------------------------------------------------------------------

PAGES = [
    "/console/keys",
    "/console/keys/label-map.pdf",
    "/console/keys/labels.pdf",
    "/console/keys/loans",
    "/console/keys/loans/export.xlsx",
    "/console/keys/loans/export.pdf",
    "/console/keys/overdue",
    "/console/keys/intakes",
    "/console/keys/duplications",
    "/console/keys/events",
]


@pytest.mark.parametrize("path", PAGES)
def test_key_pages_open_for_keys_view_and_are_refused_without_it(
    as_role: Callable[..., Client], cabinet: KeyCabinet, path: str
) -> None:
    """The records admin who keeps the keys may see them (R-KEY-1); finance, without keys.view, is refused."""
    assert Perm.keys_view in ROLE_PERMISSIONS[Role.records_admin]
    assert Perm.keys_view not in ROLE_PERMISSIONS[Role.finance]
    keeper, _ = as_role("records_admin")
    assert keeper.get(path).status_code == 200
    outsider, _ = as_role("finance")
    refused = outsider.get(path)
    assert refused.status_code == 403 and "您的角色无权进行此操作" in refused.text


def test_the_menu_offers_keys_only_to_roles_with_keys_view(as_role: Callable[..., Client]) -> None:
    for role in Role:
        client, _ = as_role(role.value)
        offered = 'href="/console/keys"' in client.get("/console/").text
        assert offered == (Perm.keys_view in ROLE_PERMISSIONS[role]), role


def test_pages_that_change_the_register_need_their_permission(
    as_role: Callable[..., Client], cabinet: KeyCabinet
) -> None:
    """The general manager sees the keys but neither lends nor registers them; the front desk lends but keeps no
    register of intakes."""
    gm, _ = as_role("general_manager")
    assert gm.get("/console/keys/loans/new").status_code == 403
    refused = post(gm, "/console/keys/intakes", {"contractor": "x", "handed_by": "y", "declared_keys": "1"})
    assert refused.status_code == 403
    desk, _ = as_role("front_desk")
    assert desk.get("/console/keys/loans/new").status_code == 200
    assert post(desk, "/console/keys/layout", {}).status_code == 403


def test_every_key_form_refuses_a_post_without_the_csrf_token(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, make_user: Callable[..., StaffUser]
) -> None:
    admin, _ = as_role("admin")
    loan = staff_loan(db, cabinet, "5-3A", make_user(Role.engineering), at=utcnow(), due=timedelta(hours=2))
    batch = db.scalar(select(KeyIntake.id))
    key_set = db.scalar(select(KeySet.id))
    db.commit()
    forms = {
        "/console/keys/boards": {"address": "2", "channels": "12"},
        "/console/keys/layout": {},
        "/console/keys/loans/new": {"key_id": str(cabinet.key("2-5C")), "purpose": "engineering"},
        f"/console/keys/loans/{loan.id}/cancel": {},
        f"/console/keys/loans/{loan.id}/acknowledge": {"note": "催还"},
        "/console/keys/intakes": {"contractor": "x", "handed_by": "y", "declared_keys": "1"},
        f"/console/keys/intakes/{batch}/sets": {"group": "unit", "unit": "5-3A", "tag_1": "ABCD"},
        f"/console/keys/intakes/{batch}/plant-room": {"equipment": "配电房"},
        f"/console/keys/intakes/{batch}/test": {},
        f"/console/keys/intakes/{batch}/draw": {},
        f"/console/keys/intakes/{batch}/spot-check": {},
        f"/console/keys/intakes/{batch}/retest": {"note": "x"},
        f"/console/keys/sets/{key_set}/store": {},
        "/console/keys/duplications": {"key_id": str(cabinet.key("水泵房")), "reason": "丢失"},
        "/console/keys/duplications/1/decide": {"decision": "approve"},
    }
    before = counts(db)
    for path, data in forms.items():
        for bad in ("", "forged-token"):
            response = admin.post(path, data=data | ({"csrf_token": bad} if bad else {}), follow_redirects=False)
            assert response.status_code == 403 and "表单已失效" in response.text, (path, bad)
    assert counts(db) == before


def test_another_estates_key_records_are_not_found(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, make_user: Callable[..., StaffUser]
) -> None:
    other = registry.create_estate(db, SYSTEM, "XS", "西山苑", "Xishan")
    db.commit()
    keeper, _ = as_role("records_admin", estates=[other])
    loan = staff_loan(db, cabinet, "5-3A", make_user(Role.engineering), at=utcnow(), due=timedelta(hours=2))
    batch, key_set = db.scalar(select(KeyIntake.id)), db.scalar(select(KeySet.id))
    db.commit()
    before = counts(db)
    assert keeper.get(f"/console/keys/intakes/{batch}").status_code == 404
    for path in (f"/console/keys/loans/{loan.id}/cancel", f"/console/keys/sets/{key_set}/store"):
        assert post(keeper, path, {}).status_code == 404
    lend = {"key_id": str(cabinet.key("2-5C")), "purpose": "engineering", "borrower_kind": "staff"}
    answer = post(keeper, "/console/keys/loans/new", lend, "/console/keys/loans/new")
    assert answer.status_code in (400, 404) and "2-5C" not in answer.text
    assert counts(db) == before
    assert "2-5C" not in keeper.get("/console/keys").text


# --- the slot map (R-KEY-7) -----------------------------------------------------------------------------------------


def test_r_key_7_the_slot_map_shows_the_manuals_order_states_and_building_starts(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, make_user: Callable[..., StaffUser]
) -> None:
    """R-KEY-7: slots by building, floor and unit, each building's first slot marked in its colour; each slot's
    state: in, out (the cabinet saw the key leave), overdue (out past its due time) and alarm (a key in a slot
    that is not its home names the right one)."""
    engineer = make_user(Role.engineering)
    staff_loan(db, cabinet, "5-3A", engineer, at=utcnow(), due=timedelta(hours=2))
    events.key_removed(db, cabinet.estate, 1, 2, utcnow())
    late = staff_loan(db, cabinet, "水泵房", engineer, at=utcnow() - timedelta(hours=3), due=timedelta(hours=1))
    events.key_removed(db, cabinet.estate, 1, 6, utcnow() - timedelta(hours=3))
    events.key_returned(db, cabinet.estate, 1, 9, "0F01", utcnow())  # the pump-room key in an empty slot
    db.commit()
    client, _ = as_role("front_desk")
    html = client.get("/console/keys").text
    states = {label: slot_state(html, *place) for label, place in (("2-5C", (1, 1)), ("5-3A", (1, 2)))}
    assert states == {"2-5C": "in", "5-3A": "out"}
    assert slot_state(html, 1, 6) == "overdue" and late.due_at is not None
    assert slot_state(html, 1, 9) == "alarm" and slot_state(html, 1, 12) == "empty"
    assert "放错格" in html and "应放回 1-6" in html  # the open alarm names the right slot
    starts = re.findall(r'class="slot [^"]* b(\d) start" id="slot-(\d+-\d+)"', html)
    assert starts == [("0", "1-1"), ("1", "1-2"), ("2", "1-6")]  # buildings 2 and 5, then the plant rooms
    assert re.search(r'id="slot-1-3" data-state="in" data-block="5"', html)
    assert "2栋" in html and "设备房" in html


def test_the_slot_map_polls_only_its_grid(as_role: Callable[..., Client], cabinet: KeyCabinet) -> None:
    client, _ = as_role("records_admin")
    page = client.get("/console/keys").text
    assert 'hx-get="/console/keys" hx-trigger="every 5s"' in page
    grid = client.get("/console/keys", headers={"HX-Request": "true", "HX-Target": "slot-map"})
    assert grid.text.lstrip().startswith('<div id="slot-map"') and "<html" not in grid.text
    assert slot_state(grid.text, 1, 1) == "in"


def test_r_key_7_laying_out_and_adding_boards_from_the_slot_map(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session
) -> None:
    keeper, _ = as_role("records_admin")
    before = counts(db)
    refused = post(keeper, "/console/keys/boards", {"address": "1", "channels": "16"})
    assert refused.status_code == 409 and "锁控板 1 已登记" in refused.text
    for address, channels in (("x", "8"), ("2", "300")):
        bad = post(keeper, "/console/keys/boards", {"address": address, "channels": channels})
        assert bad.status_code == 400 and 'value="' + channels + '"' in bad.text
    assert counts(db) == before
    added = post(keeper, "/console/keys/boards", {"address": "2", "channels": "16", "label": "西墙"})
    assert added.status_code == 303
    page = keeper.get(added.headers["location"]).text
    assert "锁控板已登记" in page and 'id="board-2"' in page and "西墙" in page
    assert post(keeper, "/console/keys/layout", {}).status_code == 303
    assert slot_state(keeper.get("/console/keys").text, 1, 1) == "in"


def test_r_key_7_the_layout_is_refused_while_a_key_is_out(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, make_user: Callable[..., StaffUser]
) -> None:
    staff_loan(db, cabinet, "2-5C", make_user(Role.engineering), at=utcnow(), due=timedelta(hours=2))
    keeper, _ = as_role("records_admin")
    before = counts(db)
    refused = post(keeper, "/console/keys/layout", {})
    assert refused.status_code == 409 and "借出中" in refused.text
    assert counts(db) == before


def test_r_key_6_label_map_and_labels_are_printable_pdfs(as_role: Callable[..., Client], cabinet: KeyCabinet) -> None:
    client, _ = as_role("records_admin")
    for path in ("/console/keys/label-map.pdf", "/console/keys/labels.pdf"):
        answer = client.get(path)
        assert answer.headers["content-type"] == "application/pdf" and answer.content.startswith(b"%PDF")
        assert answer.content.count(b"/Type /Page\n") == 1  # one board; seven labels fit one sheet


# --- loans (R-KEY-12) -----------------------------------------------------------------------------------------------


def loan_form(cabinet: KeyCabinet, label: str, **fields: str) -> dict[str, str]:
    due = (utcnow() + timedelta(hours=4)).astimezone(clock.zone(cabinet.estate)).strftime("%Y-%m-%dT%H:%M")
    return {
        "key_id": str(cabinet.key(label)),
        "purpose": "engineering",
        "borrower_kind": "staff",
        "due_at": due,
    } | fields


def lend(client: TestClient, data: dict[str, str]) -> Any:
    return post(client, "/console/keys/loans/new", data, "/console/keys/loans/new")


def test_r_key_12_a_loan_registered_at_the_console_is_a_line_of_the_register(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, make_user: Callable[..., StaffUser]
) -> None:
    engineer = make_user(Role.engineering)
    desk, _ = as_role("front_desk")
    pump = cabinet.key("水泵房")
    assert f'href="/console/keys/loans/new?key={pump}"' in desk.get("/console/keys").text  # from its slot
    assert f'<option value="{pump}" selected>' in desk.get(f"/console/keys/loans/new?key={pump}").text
    done = lend(desk, loan_form(cabinet, "水泵房", staff_id=str(engineer.id), note="水泵检修"))
    assert done.status_code == 303, done.text
    register = desk.get(done.headers["location"]).text
    assert "借用已登记" in register and "水泵房" in register and engineer.display_name in register
    loan = db.scalar(select(KeyLoan))
    assert loan is not None and loan.state == LoanState.requested and loan.borrower_staff_id == engineer.id
    db.commit()
    # the key now has an open loan: the form offers it no more, and lending it again is refused
    assert f'value="{cabinet.key("水泵房")}"' not in desk.get("/console/keys/loans/new").text
    before = counts(db)
    again = lend(desk, loan_form(cabinet, "水泵房", staff_id=str(engineer.id)))
    assert again.status_code == 409 and "已借出" in again.text
    assert counts(db) == before
    cancelled = post(desk, f"/console/keys/loans/{loan.id}/cancel", {"note": "不去了"})
    assert cancelled.status_code == 303
    db.expire_all()
    assert db.get(KeyLoan, loan.id).state == LoanState.cancelled
    db.commit()


REFUSALS = [
    # (rule, the form's fields, status, what the page says)
    ("R-KEY-5", {"purpose": "private"}, 400, "钥匙不得私用"),
    ("R-KEY-5", {"purpose": ""}, 400, "钥匙不得私用"),
    ("R-KEY-14", {"borrower_kind": "outside_worker", "name": "刘师傅", "company": "恒安电梯", "phone": "13900001111",
                  "id_tail": "1234", "label": "5-3A"}, 403, "外来人员只可借用 TM 电子钥匙"),
    ("R-KEY-14", {"borrower_kind": "outside_worker", "name": "刘师傅", "company": "恒安电梯", "phone": "13900001111",
                  "id_tail": "1234", "label": "水泵房", "due_at": ""}, 400, "外来人员须定一个将来的归还时间"),
    ("R-KEY-14", {"borrower_kind": "outside_worker", "name": "刘师傅", "label": "水泵房"}, 400,
     "外来人员须登记姓名、单位、电话和身份证后四位"),
    ("R-KEY-13", {"purpose": "viewing", "borrower_kind": "owner", "owner_name": "王建国", "identity_checked": "true",
                  "label": "5-8B 入户门"}, 400, "看房须有员工陪同"),
    ("R-KEY-13", {"purpose": "viewing", "borrower_kind": "owner", "owner_name": "王建国", "accompany": "yes",
                  "label": "5-8B 入户门"}, 400, "须先核实业主身份"),
    ("R-KEY-13", {"purpose": "viewing", "borrower_kind": "owner", "owner_name": "李租客", "accompany": "yes",
                  "identity_checked": "true", "label": "5-8B 入户门"}, 400, "没有名为“李租客”的现任业主"),
    ("R-KEY-9", {"purpose": "rectification", "label": "5-3A"}, 400, "整改借钥匙须给业主留回执"),
    ("R-KEY-8", {"purpose": "move_in", "borrower_kind": "owner", "owner_name": "王建国", "identity_checked": "true",
                 "receipt_no": "QS-001", "due_at": "", "label": "5-8B 入户门"}, 400, "入伙领钥匙须核验入伙缴费证明"),
    ("R-KEY-12", {"due_at": "2020-01-01T08:00"}, 400, "借用须定一个将来的归还时间"),
    ("R-KEY-12", {"due_at": "not a time"}, 400, "归还时间不对"),
    ("R-KEY-12", {"key_id": ""}, 400, "请选择钥匙"),
    ("R-KEY-12", {"staff_id": "999999"}, 404, "本小区没有这位在职员工"),
]  # fmt: skip


@pytest.mark.parametrize(("rule", "fields", "status", "says"), REFUSALS, ids=[f"{r[0]}-{r[3]}" for r in REFUSALS])
def test_a_loan_breaking_a_rule_is_refused_with_a_clear_error_and_changes_nothing(
    as_role: Callable[..., Client],
    cabinet: KeyCabinet,
    db: Session,
    make_user: Callable[..., StaffUser],
    rule: str,
    fields: dict[str, str],
    status: int,
    says: str,
) -> None:
    """R-KEY-5 no loan without a listed purpose; R-KEY-8 move-in keys against the payment proof and signed receipt;
    R-KEY-9 rectification keys with the owner's receipt; R-KEY-13 viewings by the checked owner, accompanied;
    R-KEY-14 outside workers take only TM keys, with a due time."""
    engineer = make_user(Role.engineering)
    desk, _ = as_role("front_desk")
    fields = dict(fields)
    label = fields.pop("label", "2-5C")
    if fields.pop("accompany", None):
        fields["accompanied_by"] = str(engineer.id)
    data = loan_form(cabinet, label, staff_id=str(engineer.id)) | fields
    before = counts(db)
    refused = lend(desk, data)
    assert refused.status_code == status, refused.text[:500]
    assert says in refused.text and 'role="alert"' in refused.text
    assert f'name="name" value="{data.get("name", "")}"' in refused.text  # the form comes back as typed
    assert counts(db) == before


def test_r_key_13_an_owner_borrows_for_a_viewing_accompanied_by_staff(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, make_user: Callable[..., StaffUser]
) -> None:
    companion = make_user(Role.front_desk)
    desk, _ = as_role("front_desk")
    data = loan_form(
        cabinet,
        "5-8B 入户门",
        purpose="viewing",
        borrower_kind="owner",
        owner_name="王建国",
        identity_checked="true",
        accompanied_by=str(companion.id),
    )
    assert lend(desk, data).status_code == 303
    loan = db.scalar(select(KeyLoan))
    assert loan is not None and loan.borrower_name == "王建国" and loan.accompanied_by_id == companion.id
    db.commit()
    page = desk.get("/console/keys/loans?purpose=viewing&borrower=owner").text
    assert "王建国" in page and companion.display_name in page


def test_r_key_14_an_outside_worker_takes_a_tm_key_with_a_due_time(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session
) -> None:
    desk, _ = as_role("front_desk")
    data = loan_form(
        cabinet,
        "水泵房",
        borrower_kind="outside_worker",
        name="刘师傅",
        company="恒安机电",
        phone="13900001111",
        id_tail="1234",
    )
    assert lend(desk, data).status_code == 303
    loan = db.scalar(select(KeyLoan))
    assert loan is not None and loan.company == "恒安机电" and loan.due_at is not None
    db.commit()


def test_the_register_filters_by_state_purpose_borrower_group_and_days(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, make_user: Callable[..., StaffUser]
) -> None:
    engineer = make_user(Role.engineering)
    staff_loan(db, cabinet, "水泵房", engineer, at=utcnow(), due=timedelta(hours=2))
    staff_loan(db, cabinet, "5-3A", engineer, at=utcnow() - timedelta(days=3), due=timedelta(hours=1))
    events.key_removed(db, cabinet.estate, 1, 2, utcnow() - timedelta(days=3))
    db.commit()
    client, _ = as_role("records_admin")

    def keys_listed(query: str) -> list[str]:
        html = client.get(f"/console/keys/loans?{query}", headers={"HX-Request": "true", "HX-Target": "results"}).text
        return re.findall(r'<td class="key">(.+?) <span', html)

    assert keys_listed("") == ["5-3A", "水泵房"]  # newest line first
    assert keys_listed("group=plant_room") == ["水泵房"]
    assert keys_listed("state=out") == ["5-3A"]
    assert keys_listed("purpose=viewing") == []
    assert keys_listed("borrower=staff") == ["5-3A", "水泵房"]
    today = clock.today(cabinet.estate)
    assert keys_listed(f"since={today.isoformat()}") == ["水泵房"]
    assert keys_listed(f"until={(today - timedelta(days=1)).isoformat()}") == ["5-3A"]
    assert keys_listed("state=nonsense&since=2026-02-30") == ["5-3A", "水泵房"]  # not a filter: ignored
    assert "逾期" in client.get("/console/keys/loans?state=out").text


def test_r_key_12_the_register_exports_as_xlsx_with_every_cell_inert(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session
) -> None:
    """The register in the form's columns; a name starting with "=" stays text (no formula)."""
    desk, _ = as_role("front_desk")
    data = loan_form(
        cabinet,
        "水泵房",
        borrower_kind="outside_worker",
        name="=HYPERLINK(1)",
        company="恒安机电",
        phone="13900001111",
        id_tail="1234",
    )
    assert lend(desk, data).status_code == 303
    answer = desk.get("/console/keys/loans/export.xlsx?group=plant_room")
    assert answer.headers["content-disposition"].endswith("key-loan-register.xlsx")
    sheet = load_workbook(io.BytesIO(answer.content)).active
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows[1][:6] == ["序号", "日期", "钥匙", "柜位", "借用事由", "借用人"]
    assert rows[2][0] == 1 and rows[2][2:6] == ["水泵房", "1-6", "工程维修", "'=HYPERLINK(1)"]
    assert rows[2][6:10] == ["外来人员", "恒安机电", "13900001111", "1234"]
    assert len(rows) == 3
    pdf = desk.get("/console/keys/loans/export.pdf")
    assert pdf.headers["content-type"] == "application/pdf" and pdf.content.startswith(b"%PDF")


# --- overdue loans --------------------------------------------------------------------------------------------------


def test_overdue_loans_are_listed_and_acknowledged_with_a_note(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, make_user: Callable[..., StaffUser]
) -> None:
    engineer = make_user(Role.engineering)
    loan = staff_loan(db, cabinet, "5-3A", engineer, at=utcnow() - timedelta(hours=5), due=timedelta(hours=1))
    events.key_removed(db, cabinet.estate, 1, 2, utcnow() - timedelta(hours=5))
    staff_loan(db, cabinet, "2-5C", engineer, at=utcnow(), due=timedelta(hours=1))  # not overdue
    events.key_removed(db, cabinet.estate, 1, 1, utcnow())
    db.commit()
    desk, _ = as_role("front_desk")
    page = desk.get("/console/keys/overdue").text
    assert re.findall(r'<tr data-loan="(\d+)"', page) == [str(loan.id)]
    before = counts(db)
    empty = post(desk, f"/console/keys/loans/{loan.id}/acknowledge", {"note": "  "}, "/console/keys/overdue")
    assert empty.status_code == 400 and "请写明跟进情况" in empty.text
    assert counts(db) == before
    done = post(desk, f"/console/keys/loans/{loan.id}/acknowledge", {"note": "已电话催还"}, "/console/keys/overdue")
    assert done.status_code == 303
    assert "已电话催还" in desk.get("/console/keys/overdue").text
    db.expire_all()
    assert db.get(KeyLoan, loan.id).overdue_ack_note == "已电话催还"
    db.commit()


# --- intakes (R-KEY-1…3, 10) ----------------------------------------------------------------------------------------


def handover(client: TestClient, declared: str) -> int:
    answer = post(
        client,
        "/console/keys/intakes",
        {"contractor": "华建装饰", "handed_by": "李工", "declared_keys": declared},
        "/console/keys/intakes",
    )
    assert answer.status_code == 303, answer.text
    return int(re.search(r"/intakes/(\d+)", answer.headers["location"])[1])


def results(db: Session, intake_id: int, *, failing: str = "") -> dict[str, str]:
    keys = db.scalars(select(Key).join(KeySet).where(KeySet.intake_id == intake_id))
    found = {f"result_{k.id}": "fail" if k.label == failing else "pass" for k in keys}
    db.commit()
    return found


def test_r_key_1_2_3_a_handover_with_its_100_percent_test_and_a_failed_spot_check(
    as_role: Callable[..., Client], estate: Estate, household: Household, db: Session
) -> None:
    """R-KEY-1 the handover record; R-KEY-2 every key tried and counted; R-KEY-3 the system draws at least 10% and
    one failure refuses the batch, which comes back for a retest; R-KEY-10 plant-room keys in two sets."""
    keeper, _ = as_role("records_admin")
    intake_id = handover(keeper, "4")
    page = f"/console/keys/intakes/{intake_id}"
    unit = {"group": "unit", "unit": "5-8B", "label_1": "入户门", "tag_1": "1A01", "label_2": "信箱", "tag_2": "1A02"}
    assert post(keeper, f"{page}/sets", unit, page).status_code == 303
    before = counts(db)
    one_set = {"equipment": "配电房", "use_tag_1": "2B01", "use_tm_1": "on"}
    refused = post(keeper, f"{page}/plant-room", one_set, page)
    assert refused.status_code == 400 and "设备房钥匙须登记两套" in refused.text  # R-KEY-10
    assert 'value="2B01"' in refused.text and counts(db) == before
    both = one_set | {"spare_tag_1": "2B02"}
    assert post(keeper, f"{page}/plant-room", both, page).status_code == 303
    sets = {s.label: (s.copy.value, s.holder.value) for s in db.scalars(select(KeySet))}
    db.commit()
    assert sets["配电房（在用）"] == ("in_use", "engineering") and sets["配电房（备用）"] == ("spare", "engineering")

    answers = results(db, intake_id)
    missing = dict(list(answers.items())[1:])
    before = counts(db)
    incomplete = post(keeper, f"{page}/test", missing, page)
    assert incomplete.status_code == 400 and "还没有结果：入户门" in incomplete.text  # R-KEY-2: 100%
    assert counts(db) == before
    assert post(keeper, f"{page}/test", answers, page).status_code == 303
    assert "试用合格" in keeper.get(page).text
    assert post(keeper, f"{page}/draw", {}, page).status_code == 303
    drawn = re.findall(r'name="(result_\d+)" value="pass"', keeper.get(page).text)
    assert len(drawn) == 1  # ceil(10% of 4)
    failed = post(keeper, f"{page}/spot-check", {drawn[0]: "fail"}, page)
    assert failed.status_code == 303
    db.expire_all()
    assert db.get(KeyIntake, intake_id).state == IntakeState.refused  # R-KEY-3: the pass rate must be 100%
    db.commit()
    assert "不合格退回" in keeper.get(page).text
    assert post(keeper, f"{page}/retest", {"note": ""}, page).status_code == 400
    assert post(keeper, f"{page}/retest", {"note": "施工方换锁芯后重新移交"}, page).status_code == 303
    db.expire_all()
    assert db.get(KeyIntake, intake_id).state == IntakeState.received
    db.commit()


def test_r_key_2_the_count_must_match_the_handover_record_and_bad_lines_are_named(
    as_role: Callable[..., Client], estate: Estate, household: Household, db: Session
) -> None:
    keeper, _ = as_role("records_admin")
    intake_id = handover(keeper, "3")
    page = f"/console/keys/intakes/{intake_id}"
    before = counts(db)
    for fields, says in (
        ({"group": "unit", "unit": "5-8B", "label_1": "入户门"}, "第 1 行钥匙没有标签号"),
        ({"group": "unit", "unit": "5-8B", "tag_1": "zz"}, "应为 4–40 位十六进制或数字"),
        ({"group": "unit", "unit": "9-9Z", "tag_1": "1A01"}, "本小区没有房号"),
        ({"group": "public_door", "building": "5", "tag_1": "1A01"}, "公共门窗钥匙须写明单元和楼层"),
        ({"group": "public_door", "building": "5", "entrance": "1", "floor": "x", "tag_1": "1A01"}, "楼层应为数字"),
        ({"group": "unit", "unit": "5-8B", "tag_1": "1A01", "tag_2": "1A01"}, "标签 1A01 在这套钥匙里重复"),
        ({"group": "nope", "tag_1": "1A01"}, "请选择钥匙类别"),
    ):
        refused = post(keeper, f"{page}/sets", fields, page)
        assert refused.status_code in (400, 404, 409) and says in refused.text, (fields, refused.text[:300])
    assert counts(db) == before
    assert post(keeper, f"{page}/sets", {"group": "unit", "unit": "5-8B", "tag_1": "1A01"}, page).status_code == 303
    mismatch = post(keeper, f"{page}/test", results(db, intake_id), page)
    assert mismatch.status_code == 400 and "移交记录为 3 把，数量不符" in mismatch.text


def test_r_key_4_an_accepted_set_is_stored_once_it_has_its_slot(
    as_role: Callable[..., Client], estate: Estate, household: Household, db: Session
) -> None:
    keeper, _ = as_role("records_admin")
    assert post(keeper, "/console/keys/boards", {"address": "1", "channels": "8"}).status_code == 303
    intake_id = handover(keeper, "1")
    page = f"/console/keys/intakes/{intake_id}"
    assert post(keeper, f"{page}/sets", {"group": "unit", "unit": "5-8B", "tag_1": "1A01"}, page).status_code == 303
    assert post(keeper, f"{page}/test", results(db, intake_id), page).status_code == 303
    assert post(keeper, f"{page}/draw", {}, page).status_code == 303
    assert post(keeper, f"{page}/spot-check", results(db, intake_id), page).status_code == 303
    set_id = db.scalar(select(KeySet.id))
    db.commit()
    homeless = post(keeper, f"/console/keys/sets/{set_id}/store", {}, page)
    assert homeless.status_code == 409 and "还没有柜位" in homeless.text
    assert slot_state(keeper.get("/console/keys").text, 1, 1) == "empty"
    assert post(keeper, "/console/keys/layout", {}).status_code == 303
    assert slot_state(keeper.get("/console/keys").text, 1, 1) == "pending"
    assert post(keeper, f"/console/keys/sets/{set_id}/store", {}, page).status_code == 303
    assert slot_state(keeper.get("/console/keys").text, 1, 1) == "in"
    again = post(keeper, f"/console/keys/sets/{set_id}/store", {}, page)
    assert again.status_code == 409 and "已入柜" in again.text


# --- duplication (R-KEY-11) -----------------------------------------------------------------------------------------


def test_r_key_11_only_the_general_manager_approves_a_plant_room_key_copy(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session
) -> None:
    keeper, _ = as_role("records_admin")
    page = "/console/keys/duplications"
    asked = post(keeper, page, {"key_id": str(cabinet.key("水泵房")), "reason": "工程部丢失一把"}, page)
    assert asked.status_code == 303
    request = db.scalar(select(KeyDuplication))
    assert request is not None
    db.commit()
    listing = keeper.get(page).text
    assert "等待总经理审批" in listing and f"/duplications/{request.id}/decide" not in listing
    others = [as_role(role)[0] for role in ("records_admin", "cs_manager", "admin", "front_desk")]
    before = counts(db)
    for client in others:
        refused = post(client, f"{page}/{request.id}/decide", {"decision": "approve"}, page)
        assert refused.status_code == 403 and "须经总经理同意" in refused.text
    assert counts(db) == before
    gm, _ = as_role("general_manager")
    assert f"/duplications/{request.id}/decide" in gm.get(page).text
    assert post(gm, f"{page}/{request.id}/decide", {"decision": "maybe"}, page).status_code == 400
    approved = post(gm, f"{page}/{request.id}/decide", {"decision": "approve", "note": "同意"}, page)
    assert approved.status_code == 303
    db.expire_all()
    assert db.get(KeyDuplication, request.id).state == DuplicationState.approved
    db.commit()
    twice = post(gm, f"{page}/{request.id}/decide", {"decision": "refuse"}, page)
    assert twice.status_code == 409


def test_r_key_11_a_units_key_copy_is_decided_by_the_key_keeper_not_the_general_manager(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, make_user: Callable[..., StaffUser]
) -> None:
    request = duplication.request_duplication(
        db, SYSTEM, cabinet.estate, cabinet.key("2-5C"), "业主要求", by=cabinet.keeper, now=utcnow()
    )
    db.commit()
    page = "/console/keys/duplications"
    gm, _ = as_role("general_manager")
    assert post(gm, f"{page}/{request.id}/decide", {"decision": "approve"}, page).status_code == 403
    keeper, _ = as_role("records_admin")
    assert post(keeper, f"{page}/{request.id}/decide", {"decision": "refuse"}, page).status_code == 303
    db.expire_all()
    assert db.get(KeyDuplication, request.id).state == DuplicationState.refused
    db.commit()


def test_a_duplication_request_without_a_key_is_refused_and_changes_nothing(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session
) -> None:
    keeper, _ = as_role("records_admin")
    before = counts(db)
    refused = post(keeper, "/console/keys/duplications", {"key_id": "", "reason": "x"}, "/console/keys/duplications")
    assert refused.status_code == 400 and "请选择要配的钥匙" in refused.text
    unknown = post(
        keeper, "/console/keys/duplications", {"key_id": "99999", "reason": "x"}, "/console/keys/duplications"
    )
    assert unknown.status_code == 404 and "本小区没有钥匙 99999" in unknown.text
    assert counts(db) == before


# --- the cabinet's events -------------------------------------------------------------------------------------------


def test_the_records_admin_sees_the_cabinets_events_and_open_alarms(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session
) -> None:
    """The records admin keeps the keys (R-KEY-1) and has no audit.view: the cabinet's events are theirs to see."""
    assert Perm.audit_view not in ROLE_PERMISSIONS[Role.records_admin]
    events.key_removed(db, cabinet.estate, 1, 1, utcnow())  # no loan: an alarm
    events.key_returned(db, cabinet.estate, 1, 1, "0D01", utcnow())  # back home: settled
    events.key_removed(db, cabinet.estate, 1, 7, utcnow())
    events.key_returned(db, cabinet.estate, 1, 8, "0F02", utcnow())  # the spare in the wrong slot
    db.commit()
    alarms = db.scalars(select(KeyAlarm).order_by(KeyAlarm.id)).all()
    assert [a.kind for a in alarms] == [
        AlarmKind.removed_without_loan,
        AlarmKind.removed_without_loan,
        AlarmKind.wrong_slot,
    ]
    db.commit()
    keeper, _ = as_role("records_admin")
    page = keeper.get("/console/keys/events").text
    assert "钥匙取出" in page and "钥匙放回" in page and "钥匙放错位置" in page, "issue 21 item 3: as words"
    assert "key.removed" not in re.sub(r"<[^>]+>", "", page)
    open_alarms = page.split('id="open-alarms"')[1].split("</section>")[0]
    assert "应放回 1-7" in open_alarms and "从 1-1 取出" not in open_alarms
    only_alarms = keeper.get("/console/keys/events?kind=key_alarm.").text
    rows = re.findall(r'data-action="([a-z_.]+)"', only_alarms.split('id="events-table"')[1])
    assert rows and all(r.startswith("key_alarm.") for r in rows)
    keeper.cookies.set("estate_lang", "en")
    english = keeper.get("/console/keys/events").text
    assert "it belongs in 1-7" in english and "Cabinet events" in english


@pytest.mark.parametrize("lang", ["zh", "en"])
def test_every_key_page_is_fully_translated(
    as_role: Callable[..., Client], cabinet: KeyCabinet, db: Session, lang: str
) -> None:
    batch = db.scalar(select(KeyIntake.id))
    db.commit()
    admin, _ = as_role("admin")
    admin.cookies.set("estate_lang", lang)
    pages = [p for p in PAGES if not p.endswith((".pdf", ".xlsx"))]
    for path in [*pages, "/console/keys/loans/new", f"/console/keys/intakes/{batch}"]:
        html = admin.get(path).text
        text = re.sub(r"<code>.*?</code>|<option[^>]*>.*?</option>", "", html, flags=re.S)
        leaked = re.findall(r"\b(?:keys|flash|nav)\.[a-z_]+(?:\.[a-z_]+)*", text)
        assert not [k for k in leaked if k not in ("keys.css",)], (path, leaked)
        assert ("钥匙柜位图" in html) == (lang == "zh"), path
