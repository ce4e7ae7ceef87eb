"""The archive room's console pages through the test client (R-ARC): every page opens; a file registered; a loan
of two days refused with a clear error and nothing changed, asked for approval, approved and handed over with the
"no copying" tick and the signature; the quarterly check signed off; destruction and access pages; both registers
as XLSX and PDF."""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import UTC, date, datetime
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Estate, Role, StaffUser
from server.db.models.archive import (
    ArchiveCheck,
    ArchiveDestruction,
    ArchiveFile,
    ArchiveLoan,
    ArchiveLoanState,
    FileState,
)
from server.domain.actors import SYSTEM
from server.domain.archive import files
from tests.conftest import csrf_of, sign_in

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

PASSWORD = "correct-horse-1"
NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SIGNATURE = (  # a 1x1 PNG
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)


def post(client: TestClient, path: str, data: dict[str, Any]) -> Any:
    token = csrf_of(client.get("/console/archive").text)
    return client.post(path, data=data | {"csrf_token": token}, follow_redirects=False)


def loans(db: Session) -> int:
    db.commit()
    return db.scalar(select(func.count()).select_from(ArchiveLoan)) or 0


def test_r_arc_console_loan_over_a_day_refused_then_approved_and_registers_exported(
    app: FastAPI, client: TestClient, db: Session, estate: Estate, make_user: Callable[..., StaffUser]
) -> None:
    app.state.clock = lambda: NOW
    admin, manager = make_user(Role.records_admin), make_user(Role.cs_manager)
    engineer = make_user(Role.engineering)  # no archive permission: enters only with a keyholder
    sign_in(client, admin.username, PASSWORD)
    fields = {"file_class": "drawing", "title": "5栋给排水图", "location": "B-2", "filed_on": "2026-01-05",
              "retention_years": "permanent", "confidentiality": "internal"}  # fmt: skip
    made = post(client, "/console/archive/files/new", fields)
    assert made.status_code == 303
    db.commit()
    file = db.scalars(select(ArchiveFile)).one()
    for path in ("/console/archive", f"/console/archive/files/{file.id}", "/console/archive/loans/new",
                 "/console/archive/destructions", "/console/archive/check", "/console/archive/access"):  # fmt: skip
        assert client.get(path).status_code == 200, path
    assert "本季度检查待完成" in client.get("/console/archive").text
    two_days = {"file_id": str(file.id), "borrower_kind": "staff", "staff_id": str(admin.id), "action": "lend",
                "due_at": "2026-12-02T10:00", "no_copying": "true", "signature": SIGNATURE}  # fmt: skip
    refused = post(client, "/console/archive/loans/new", two_days)
    assert refused.status_code == 400 and "须先经客户服务中心批准" in refused.text
    assert loans(db) == 0
    asked = post(client, "/console/archive/loans/new", two_days | {"action": "request", "purpose": "改造设计"})
    assert asked.status_code == 303
    loan_url = asked.headers["location"].split("?")[0]
    loan_id = int(loan_url.rsplit("/", 1)[1])
    assert post(client, f"{loan_url}/approve", {}).status_code == 403  # the CS admin does not approve
    sign_in(client, manager.username, PASSWORD)
    assert "改造设计" in client.get(f"/console/archive/loans/{loan_id}").text
    assert client.get("/console/archive/approvals").status_code == 200
    assert post(client, f"{loan_url}/approve", {}).status_code == 303
    unticked = post(client, f"{loan_url}/hand-over", {"signature": SIGNATURE})
    assert unticked.status_code == 400 and "不得复印" in unticked.text
    assert post(client, f"{loan_url}/hand-over", {"signature": SIGNATURE, "no_copying": "true"}).status_code == 303
    db.commit()
    assert db.get_one(ArchiveLoan, loan_id).state == ArchiveLoanState.out
    history = client.get(loan_url).text
    assert all(step in history for step in ("申请批准", "批准", "交付借阅人"))
    check = post(client, "/console/archive/check", {f"finding_{file.id}": "present"})
    assert check.status_code == 403  # the manager approves; the CS admin keeps the register and checks
    sign_in(client, admin.username, PASSWORD)
    assert (
        post(client, "/console/archive/check", {f"finding_{file.id}": "missing", f"note_{file.id}": "借出"}).status_code
        == 303
    )
    db.commit()
    assert db.scalars(select(ArchiveCheck)).one().quarter == "2026-Q4"
    assert post(client, "/console/archive/access", {"staff_id": str(admin.id), "reason": "归档"}).status_code == 303
    alone = post(client, "/console/archive/access", {"staff_id": str(engineer.id), "reason": "查图纸"})
    assert alone.status_code == 403 and "陪同" in alone.text
    with_keyholder = {"staff_id": str(engineer.id), "reason": "查图纸", "accompanied_by": str(admin.id)}
    assert post(client, "/console/archive/access", with_keyholder).status_code == 303
    register = client.get("/console/archive/access").text
    assert "查图纸" in register and admin.display_name in register
    book = load_workbook(io.BytesIO(client.get("/console/archive/loans/export.xlsx").content))
    assert "5栋给排水图" in [c.value for row in book.active.iter_rows() for c in row]
    for path in ("/console/archive/loans/export.pdf", "/console/archive/files/export.pdf"):
        assert client.get(path).content.startswith(b"%PDF")
    assert client.get("/console/archive/files/export.xlsx").status_code == 200


def test_r_arc_console_destruction_only_of_an_expired_file_after_the_managers_approval(
    app: FastAPI, client: TestClient, db: Session, estate: Estate, make_user: Callable[..., StaffUser]
) -> None:
    app.state.clock = lambda: NOW
    admin, manager = make_user(Role.records_admin), make_user(Role.cs_manager)
    young = files.create(db, SYSTEM, estate, files.FileFields("finance", "2024年凭证", "F-1", date(2024, 1, 1), 10,
                         "confidential"), by=admin, now=NOW)  # fmt: skip
    old = files.create(db, SYSTEM, estate, files.FileFields("finance", "2010年凭证", "F-2", date(2010, 1, 1), 10,
                       "confidential"), by=admin, now=NOW)  # fmt: skip
    db.commit()
    sign_in(client, admin.username, PASSWORD)
    refused = post(client, f"/console/archive/files/{young.id}/destruction", {"reason": "清理"})
    assert refused.status_code == 400 and "未过保管期限" in refused.text
    assert post(client, f"/console/archive/files/{old.id}/destruction", {"reason": "保管期满"}).status_code == 303
    db.commit()
    request = db.scalars(select(ArchiveDestruction)).one()
    early = post(client, f"/console/archive/destructions/{request.id}/destroy", {"method": "碎纸"})
    assert early.status_code == 409  # not before the department manager approves
    sign_in(client, manager.username, PASSWORD)
    assert "2010年凭证" in client.get("/console/archive/approvals").text
    assert post(client, f"/console/archive/destructions/{request.id}/approve", {}).status_code == 303
    sign_in(client, admin.username, PASSWORD)
    assert post(client, f"/console/archive/destructions/{request.id}/destroy", {"method": "碎纸"}).status_code == 303
    db.commit()
    db.expire_all()
    assert db.get_one(ArchiveFile, old.id).state == FileState.destroyed
    assert db.get_one(ArchiveFile, young.id).state == FileState.held
    assert "碎纸" in client.get("/console/archive/destructions").text
