"""Staff accounts, devices and the audit log from the console; every change leaves an audit entry."""

from __future__ import annotations

from collections.abc import Callable

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Device, Estate, Role, StaffUser
from server.domain import registry
from server.domain.actors import SYSTEM
from tests.conftest import notes_written


def last_action(db: Session) -> str:
    db.expire_all()
    action = db.scalars(select(AuditEntry.action).order_by(AuditEntry.seq.desc())).first()
    db.commit()
    return action or ""


def staff_user(db: Session, username: str) -> StaffUser | None:
    db.expire_all()
    user = db.scalar(select(StaffUser).where(StaffUser.username == username))
    db.commit()
    return user


# --- staff --------------------------------------------------------------------------------------------------------


def test_admin_creates_a_staff_account_with_role_and_estates(
    as_role: Callable, estate: Estate, db: Session, page_csrf: Callable, column: Callable, login: Callable
) -> None:
    other = registry.create_estate(db, SYSTEM, "BY", "碧云轩")
    db.commit()
    admin, _ = as_role("admin")
    page = admin.get("/console/staff").text
    assert "碧云轩" in page and 'value="finance"' in page
    response = admin.post(
        "/console/staff",
        data={
            "username": "Cai.Wu",
            "display_name": "蔡武",
            "role": "finance",
            "password": "finance-2024",
            "estate_ids": [str(estate.id), str(other.id)],
            "csrf_token": page_csrf(page),
        },
        follow_redirects=False,
    )
    assert response.status_code == 303
    listing = admin.get(response.headers["location"]).text
    assert "员工账号已创建" in listing and "cai.wu" in column(listing, "staff-table")
    db.expire_all()
    user = db.scalar(select(StaffUser).where(StaffUser.username == "cai.wu"))
    assert user.role == Role.finance and {e.code for e in user.estates} == {"GH", "BY"}
    db.commit()
    assert last_action(db) == "staff.create"

    fresh = TestClient(admin.app)
    assert login(fresh, "cai.wu", "finance-2024").url.path == "/console/"


def test_a_refused_account_is_explained_and_the_form_keeps_what_was_typed(
    as_role: Callable, estate: Estate, db: Session, page_csrf: Callable
) -> None:
    admin, _ = as_role("admin")
    token = page_csrf(admin.get("/console/staff").text)
    base = {"username": "li.lei", "display_name": "李雷", "role": "front_desk", "csrf_token": token}
    short = admin.post("/console/staff", data=base | {"password": "short"})
    assert short.status_code == 400 and "密码至少 8 位" in short.text and 'value="李雷"' in short.text
    no_role = admin.post("/console/staff", data=base | {"role": "", "password": "long-enough-1"})
    assert no_role.status_code == 400 and "请为新账号选择一个角色" in no_role.text
    assert staff_user(db, "li.lei") is None
    assert admin.post("/console/staff", data=base | {"password": "long-enough-1"}).status_code == 200
    taken = admin.post("/console/staff", data=base | {"password": "long-enough-1"})
    assert taken.status_code == 409 and "用户名 li.lei 已存在" in taken.text


def test_an_account_cannot_be_given_an_estate_outside_the_managers_reach(
    as_role: Callable, estate: Estate, page_csrf: Callable, db: Session
) -> None:
    admin, _ = as_role("admin")
    token = page_csrf(admin.get("/console/staff").text)
    response = admin.post(
        "/console/staff",
        data={
            "username": "x1",
            "display_name": "X",
            "role": "front_desk",
            "password": "long-enough-1",
            "estate_ids": [str(estate.id + 1000)],  # no such estate, so not among those this admin may work in
            "csrf_token": token,
        },
    )
    assert response.status_code == 403 and "您无权管理该小区" in response.text
    assert staff_user(db, "x1") is None


def test_deactivating_a_user_ends_their_session_at_once(
    as_role: Callable, page_csrf: Callable, db: Session, login: Callable, password: str
) -> None:
    desk, victim = as_role("front_desk")
    assert desk.get("/console/residents").status_code == 200
    admin, _ = as_role("admin")
    token = page_csrf(admin.get("/console/staff").text)
    response = admin.post(f"/console/staff/{victim.id}/active", data={"active": "false", "csrf_token": token})
    assert response.status_code == 200 and "账号已停用" in response.text
    assert last_action(db) == "staff.deactivate"

    kicked = desk.get("/console/residents", follow_redirects=False)
    assert kicked.status_code == 303 and kicked.headers["location"].startswith("/console/login")
    again = login(TestClient(admin.app), victim.username, password)
    assert again.status_code == 401 and "用户名或密码错误" in again.text

    admin.post(f"/console/staff/{victim.id}/active", data={"active": "true", "csrf_token": token})
    assert staff_user(db, victim.username).is_active
    assert login(TestClient(admin.app), victim.username, password).url.path == "/console/"


def test_password_reset_replaces_the_password_and_signs_the_user_out(
    as_role: Callable, page_csrf: Callable, db: Session, login: Callable, password: str
) -> None:
    desk, user = as_role("front_desk")
    admin, _ = as_role("admin")
    token = page_csrf(admin.get("/console/staff").text)
    short = admin.post(f"/console/staff/{user.id}/password", data={"password": "1234", "csrf_token": token})
    assert short.status_code == 400 and f"{user.username}: 密码至少 8 位" in short.text

    done = admin.post(f"/console/staff/{user.id}/password", data={"password": "new-secret-99", "csrf_token": token})
    assert done.status_code == 200 and "密码已重设" in done.text
    assert last_action(db) == "staff.password"
    assert desk.get("/console/", follow_redirects=False).status_code == 303
    assert login(TestClient(admin.app), user.username, password).status_code == 401
    assert login(TestClient(admin.app), user.username, "new-secret-99").url.path == "/console/"


def test_unknown_staff_account_is_not_found(as_role: Callable, page_csrf: Callable) -> None:
    admin, _ = as_role("admin")
    token = page_csrf(admin.get("/console/staff").text)
    response = admin.post("/console/staff/99999/active", data={"active": "false", "csrf_token": token})
    assert response.status_code == 404 and "没有这个员工账号" in response.text


# --- devices ------------------------------------------------------------------------------------------------------


def test_enrol_issue_token_once_and_revoke_a_device(
    as_role: Callable, estate: Estate, db: Session, page_csrf: Callable, column: Callable
) -> None:
    manager, _ = as_role("cs_manager")
    token = page_csrf(manager.get("/console/devices").text)
    enrolled = manager.post(
        "/console/devices", data={"kind": "gate", "name": "北门岗", "location": "北门", "csrf_token": token}
    )
    assert enrolled.status_code == 200 and "设备已登记" in enrolled.text
    assert column(enrolled.text, "devices-table") == ["北门岗"]
    assert column(enrolled.text, "devices-table", 1) == ["门岗终端"]
    assert column(enrolled.text, "devices-table", 3) == ["未发放"]
    assert last_action(db) == "device.enrol"
    device = db.scalar(select(Device).where(Device.name == "北门岗"))
    db.commit()

    issued = manager.post(f"/console/devices/{device.id}/token", data={"csrf_token": token})
    assert issued.status_code == 200 and issued.headers["cache-control"] == "no-store"
    bearer = issued.text.split('<p class="token">', 1)[1].split("</p>", 1)[0]
    assert bearer.startswith("edt_") and "只显示这一次" in issued.text
    api = TestClient(manager.app)
    assert api.get("/api/v1/device", headers={"Authorization": f"Bearer {bearer}"}).status_code == 200
    notes_written(manager.app)  # type: ignore[arg-type]  # the last-seen note may follow the answer

    later = manager.get("/console/devices").text
    assert bearer not in later and bearer[:8] in later, "only the hint is shown again"
    assert "从未" not in column(later, "devices-table", 4)[0], "the API call above was seen"

    revoked = manager.post(f"/console/devices/{device.id}/revoke", data={"csrf_token": token})
    assert revoked.status_code == 200 and "令牌已吊销" in revoked.text
    assert column(revoked.text, "devices-table", 3)[0].startswith("已吊销")
    assert last_action(db) == "device.revoke"
    refused = api.get("/api/v1/device", headers={"Authorization": f"Bearer {bearer}"})
    assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_device_token"


def test_device_forms_explain_what_is_missing(as_role: Callable, estate: Estate, page_csrf: Callable) -> None:
    manager, _ = as_role("cs_manager")
    token = page_csrf(manager.get("/console/devices").text)
    no_kind = manager.post("/console/devices", data={"kind": "scanner", "name": "X", "csrf_token": token})
    assert no_kind.status_code == 400 and "请选择设备类型" in no_kind.text
    no_url = manager.post("/console/devices", data={"kind": "printer", "name": "前台", "csrf_token": token})
    assert no_url.status_code == 400 and "打印机地址无效" in no_url.text
    no_name = manager.post("/console/devices", data={"kind": "kiosk", "name": "  ", "csrf_token": token})
    assert no_name.status_code == 400 and "设备名称不能为空" in no_name.text


def test_a_device_of_another_estate_is_out_of_reach(
    as_role: Callable, estate: Estate, db: Session, page_csrf: Callable
) -> None:
    from server.db.models import DeviceKind
    from server.domain import devices

    other = registry.create_estate(db, SYSTEM, "BY", "碧云轩")
    foreign = devices.enrol(db, SYSTEM, other, DeviceKind.kiosk, "碧云轩大堂")
    db.commit()
    manager, _ = as_role("cs_manager")
    page = manager.get("/console/devices").text
    assert "碧云轩大堂" not in page
    response = manager.post(f"/console/devices/{foreign.id}/revoke", data={"csrf_token": page_csrf(page)})
    assert response.status_code == 404 and "本小区没有这台设备" in response.text


# --- audit --------------------------------------------------------------------------------------------------------


def test_audit_lists_recent_entries_filters_by_action_and_pages(as_role: Callable, populated, column: Callable) -> None:
    manager, _ = as_role("cs_manager")
    page = manager.get("/console/audit").text
    seqs = [int(s) for s in column(page, "audit-table")]
    assert seqs == sorted(seqs, reverse=True) and len(seqs) == 5, "newest first, one page"
    assert '<option value="unit.arrears"' in page
    arrears = manager.get("/console/audit", params={"action": "unit.arrears"}).text
    assert column(arrears, "audit-table", 3) == ["更新欠费", "更新欠费"], "issue 21 item 3: actions as words"
    assert "<dt>欠费金额</dt><dd>¥1,280.50</dd>" in arrears and "共 2 条" in arrears
    units = manager.get("/console/audit", params={"action": "unit.create", "page": 4}).text
    assert "共 16 条，第 4/4 页" in units and len(column(units, "audit-table")) == 1
    fragment = manager.get(
        "/console/audit", params={"action": "unit.arrears"}, headers={"HX-Request": "true", "HX-Target": "results"}
    )
    assert "<html" not in fragment.text and 'data-action="unit.arrears"' in fragment.text


def test_verify_chain_reports_intact_then_names_the_altered_entry(as_role: Callable, populated, db: Session) -> None:
    manager, _ = as_role("cs_manager")
    ok = manager.get("/console/audit/verify").text
    assert "日志链完整" in ok and 'id="audit-table"' in ok
    fragment = manager.get("/console/audit/verify", headers={"HX-Request": "true", "HX-Target": "verify-result"})
    assert "<html" not in fragment.text and "日志链完整" in fragment.text

    db.execute(update(AuditEntry).where(AuditEntry.seq == 7).values(detail='{"code": "9-9Z"}'))
    db.commit()
    broken = manager.get("/console/audit/verify").text
    assert "日志链在第 7 条处断开" in broken and "entry 7 was altered" in broken
