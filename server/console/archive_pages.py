"""The archive room 《资料室》 in the console (R-ARC): the files register with its filters, loans out and overdue,
the quarter's completeness check; a file's page; lending (at once within a day, or asked for approval), handing an
approved loan over with the "no copying" tick and the borrower's signature on the pad, returning; the approvals
queue; destruction of expired files; the quarterly check; the access register; the loan and files registers as
XLSX and PDF."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.key_pages import local_input, local_time, pdf_file, row_id
from server.console.pages import form_action, language
from server.console.registers import Column, Register, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, view
from server.contract.fields import Text, parse_day
from server.db.models import Estate, StaffUser
from server.db.models.archive import ArchiveLoan, ArchiveLoanState, Confidentiality, FileClass, FileState, Finding
from server.domain import clock
from server.domain.archive import files, loans, room
from server.domain.archive.files import FileFields
from server.domain.archive.loans import ArchiveBorrower
from server.domain.errors import DomainError
from server.domain.keys.views import estate_staff, staff_member
from server.domain.permissions import Perm
from server.domain.service import signatures
from server.web.deps import Console, DbSession, Now, require
from server.web.limits import SIGNATURE_BODY
from server.web.params import RowId, RowIdQuery

router = APIRouter()

Viewer = Annotated[Console, require(Perm.archive_view)]
Lender = Annotated[Console, require(Perm.archive_lend)]
Keeper = Annotated[Console, require(Perm.archive_manage)]
Approver = Annotated[Console, require(Perm.archive_approve)]

Choice = Annotated[Text, Query(max_length=20)]
Short = Annotated[Text, Form(max_length=20)]
Name = Annotated[Text, Form(max_length=60)]
Note = Annotated[Text, Form(max_length=200)]
Signature = Annotated[Text, Form(max_length=signatures.MAX_DATA_URL)]

DONE = frozenset(
    "archive_" + done
    for done in {
        "file_created", "file_saved", "file_retired", "loan_lent", "loan_requested", "loan_approved", "loan_refused",
        "loan_handed_over", "loan_returned", "loan_cancelled", "destruction_requested", "destruction_approved",
        "destruction_refused", "destroyed", "check_recorded", "entry_recorded",
    }
)  # fmt: skip

LOAN_REGISTER = Register(
    "archive-loans",
    "《资料借阅登记表》",
    "Archive loan register",
    (
        Column("file", "资料编号", "File", 16),
        Column("title", "资料名称", "Title", 26),
        Column("borrower", "借阅人", "Borrower", 14),
        Column("company", "单位", "Company", 14),
        Column("lent_at", "借出时间", "Lent", 16),
        Column("due_at", "应还时间", "Due", 16),
        Column("returned_at", "归还时间", "Returned", 16),
        Column("state", "状态", "State", 10),
        Column("no_copying", "不得复印", "No copying", 8),
    ),
    signatures=(("资料管理员", "Archive keeper"), ("客服中心主管", "CS supervisor")),
)
FILE_REGISTER = Register(
    "archive-files",
    "《资料室档案目录》",
    "Archive files register",
    (
        Column("number", "编号", "Number", 16),
        Column("class", "类别", "Class", 12),
        Column("title", "名称", "Title", 30),
        Column("location", "存放位置", "Shelf", 10),
        Column("filed_on", "归档日期", "Filed", 12),
        Column("retention", "保管期限", "Retention", 10),
        Column("level", "密级", "Level", 10),
        Column("state", "状态", "State", 10),
    ),
    signatures=(("资料管理员", "Archive keeper"),),
)


def _page(request: Request, console: Console, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    return view(request, console, f"archive/{template}", status=status, **context)


def _go(path: str, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/archive{path}?done=archive_{done}", status_code=303)


# --- the room at a glance, and the files register -------------------------------------------------------------------


@router.get("/archive")
def index(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    file_class: Choice = "",
    level: Choice = "",
    state: Choice = "",
    q: Annotated[Text, Query(max_length=60)] = "",
    done: Text = "",
) -> Response:
    estate = console.require_estate()
    return _page(
        request,
        console,
        "index.html",
        files=files.files(db, estate, file_class=file_class, level=level, state=state, text=q),
        query={"file_class": file_class, "level": level, "state": state, "q": q},
        classes=list(FileClass),
        levels=list(Confidentiality),
        states=list(FileState),
        out=loans.loans(db, estate, state=ArchiveLoanState.out.value),
        overdue={loan.id for loan in loans.overdue(db, estate, now)},
        pending=loans.pending(db, estate),
        quarter=room.quarter_state(db, estate, now),
        flash=flash_key(done, DONE),
    )


def _file_fields(values: dict[str, str]) -> FileFields:
    years_text = values["retention_years"].strip()
    if years_text in ("", "permanent"):
        years = None
    elif years_text.isdigit():
        years = int(years_text)
    else:
        raise DomainError(
            "保管期限为年数或永久", "the retention period is a number of years or permanent", code="bad_retention"
        )
    try:
        filed = parse_day(values["filed_on"]) if values["filed_on"].strip() else None
    except ValueError:
        raise DomainError("归档日期不对", "the filing day is not a date", code="bad_day") from None
    return FileFields(
        values["file_class"], values["title"], values["location"], filed, years, values["confidentiality"]
    )


def _file_form(
    request: Request, console: Console, *, status: int = 200, v: dict[str, Any], error: str = ""
) -> Response:
    return _page(
        request, console, "file_new.html", status=status, v=v, error=error, classes=list(FileClass),
        levels=list(Confidentiality),
    )  # fmt: skip


@router.get("/archive/files/new")
def new_file(request: Request, console: Keeper, now: Now) -> Response:
    today = clock.today(console.require_estate(), now).isoformat()
    return _file_form(request, console, v={"filed_on": today, "retention_years": "10", "confidentiality": "internal"})


@router.post("/archive/files/new")
def create_file(
    request: Request, console: Keeper, db: DbSession, now: Now, file_class: Short = "",
    title: Annotated[Text, Form(max_length=120)] = "", location: Annotated[Text, Form(max_length=40)] = "",
    filed_on: Short = "", retention_years: Short = "", confidentiality: Short = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()
    values = {"file_class": file_class, "title": title, "location": location, "filed_on": filed_on,
              "retention_years": retention_years, "confidentiality": confidentiality}  # fmt: skip

    def act() -> Response:
        file = files.create(db, console.actor, estate, _file_fields(values), by=console.user, now=now)
        return _go(f"/files/{file.id}", "file_created")

    return form_action(
        request, db, act, lambda status, error: _file_form(request, console, status=status, v=values, error=error)
    )


@router.get("/archive/files/export.{fmt}")
def export_files(request: Request, console: Viewer, db: DbSession, fmt: Literal["xlsx", "pdf"]) -> Response:
    estate = console.require_estate()
    lang = language(request)
    rows = [
        {
            "number": f.number, "class": f.file_class.value, "title": f.title, "location": f.location,
            "filed_on": f.filed_on.isoformat(), "level": f.confidentiality.value, "state": f.state.value,
            "retention": "永久" if f.retention_years is None else f"{f.retention_years}",
        }
        for f in files.files(db, estate)
    ]  # fmt: skip
    return _export(FILE_REGISTER, rows, fmt, lang, estate)


def _file_page(
    request: Request, db: Session, console: Console, now: datetime, file_id: int, *, status: int = 200, **context: Any
) -> Response:
    estate = console.require_estate()
    file = files.get_file(db, estate, file_id)
    history = [loan for loan in loans.loans(db, estate) if loan.file_id == file.id]
    v = {
        "file_class": file.file_class.value, "title": file.title, "location": file.location,
        "filed_on": file.filed_on.isoformat(), "confidentiality": file.confidentiality.value,
        "retention_years": "permanent" if file.retention_years is None else str(file.retention_years),
    }  # fmt: skip
    return _page(
        request, console, "file.html", status=status, file=file, loans=history, v=context.pop("v", v),
        current=loans.current_loan(db, file), expires=files.expires_on(file),
        expired=files.expired(file, clock.today(estate, now)), classes=list(FileClass), levels=list(Confidentiality),
        now=now, **context,
    )  # fmt: skip


@router.get("/archive/files/{file_id}")
def file_page(request: Request, console: Viewer, db: DbSession, now: Now, file_id: RowId, done: Text = "") -> Response:
    return _file_page(request, db, console, now, file_id, flash=flash_key(done, DONE))


@router.post("/archive/files/{file_id}/edit")
def edit_file(
    request: Request, console: Keeper, db: DbSession, now: Now, file_id: RowId, file_class: Short = "",
    title: Annotated[Text, Form(max_length=120)] = "", location: Annotated[Text, Form(max_length=40)] = "",
    filed_on: Short = "", retention_years: Short = "", confidentiality: Short = "",
) -> Response:  # fmt: skip
    file = files.get_file(db, console.require_estate(), file_id)
    values = {"file_class": file_class, "title": title, "location": location, "filed_on": filed_on,
              "retention_years": retention_years, "confidentiality": confidentiality}  # fmt: skip

    def act() -> Response:
        files.edit(db, console.actor, file, _file_fields(values), by=console.user)
        return _go(f"/files/{file_id}", "file_saved")

    return form_action(
        request, db, act,
        lambda status, error: _file_page(request, db, console, now, file_id, status=status, error=error, v=values),
    )  # fmt: skip


@router.post("/archive/files/{file_id}/retire")
def retire_file(
    request: Request, console: Keeper, db: DbSession, now: Now, file_id: RowId, note: Note = ""
) -> Response:
    file = files.get_file(db, console.require_estate(), file_id)

    def act() -> Response:
        files.retire(db, console.actor, file, by=console.user, note=note.strip())
        return _go(f"/files/{file_id}", "file_retired")

    return form_action(
        request,
        db,
        act,
        lambda status, error: _file_page(request, db, console, now, file_id, status=status, error=error),
    )


def _export(register: Register, rows: list[dict[str, object]], fmt: str, lang: str, estate: Estate) -> Response:
    heading = estate.name if lang == "zh" else (estate.name_en or estate.name)
    if fmt == "pdf":
        return pdf_file(register_pdf(register, rows, lang=lang, heading=heading), f"{register.code}.pdf")
    return Response(
        register_xlsx(register, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{register.code}.xlsx"},
    )


# --- loans ----------------------------------------------------------------------------------------------------------


@router.get("/archive/loans/export.{fmt}")
def export_loans(request: Request, console: Viewer, db: DbSession, fmt: Literal["xlsx", "pdf"]) -> Response:
    estate = console.require_estate()
    local = clock.local_text
    rows: list[dict[str, object]] = [
        {
            "file": loan.file.number, "title": loan.file.title, "borrower": loan.borrower_name, "company": loan.company,
            "lent_at": local(estate, loan.lent_at), "due_at": local(estate, loan.due_at),
            "returned_at": local(estate, loan.returned_at), "state": loan.state.value,
            "no_copying": "✓" if loan.no_copying else "",
        }
        for loan in loans.loans(db, estate)
    ]  # fmt: skip
    return _export(LOAN_REGISTER, rows, fmt, language(request), estate)


def _loan_form(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200,
    v: dict[str, Any] | None = None, error: str = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()
    defaults: dict[str, Any] = {
        "borrower_kind": "staff", "due_at": local_input(estate, now.replace(second=0, microsecond=0) + loans.MAX_LOAN)
    }  # fmt: skip
    defaults.update(v or {})
    return _page(
        request, console, "loan_new.html", status=status, v=defaults, error=error,
        files=files.files(db, estate, state=FileState.held.value), staff=estate_staff(db, estate),
    )  # fmt: skip


@router.get("/archive/loans/new")
def new_loan(request: Request, console: Lender, db: DbSession, now: Now, file: RowIdQuery = None) -> Response:
    return _loan_form(request, db, console, now, v={"file_id": str(file) if file else ""})


@router.post("/archive/loans/new", max_body_size=SIGNATURE_BODY)
def lend(
    request: Request, console: Lender, db: DbSession, now: Now, file_id: Short = "", borrower_kind: Short = "",
    staff_id: Short = "", name: Name = "", company: Annotated[Text, Form(max_length=100)] = "", due_at: Short = "",
    purpose: Note = "", no_copying: Annotated[bool, Form()] = False, signature: Signature = "",
    action: Short = "lend",
) -> Response:  # fmt: skip
    """Lend at once (a day or less, staff allowed to see the file) or ask the CS centre to approve the loan."""
    estate = console.require_estate()
    values = {"file_id": file_id, "borrower_kind": borrower_kind, "staff_id": staff_id, "name": name,
              "company": company, "due_at": due_at, "purpose": purpose, "no_copying": no_copying}  # fmt: skip

    def act() -> Response:
        file = files.get_file(db, estate, row_id(file_id, "资料", "file"))
        if borrower_kind == "outside":
            borrower = ArchiveBorrower(name=name, company=company)
        else:
            borrower = ArchiveBorrower(staff=staff_member(db, estate, row_id(staff_id, "借阅员工", "staff member")))
        due = local_time(estate, due_at, "应还时间", "the due time")
        if due is None:
            raise DomainError("请填写应还时间", "give the due time", code="missing_fields", fields=["due_at"])
        if action == "request":
            loan = loans.request(db, console.actor, file, borrower, due_at=due, by=console.user, now=now,
                                 purpose=purpose)  # fmt: skip
            return _go(f"/loans/{loan.id}", "loan_requested")
        loan = loans.lend(db, console.actor, file, borrower, due_at=due, no_copying=no_copying, signature=signature,
                          by=console.user, now=now, purpose=purpose)  # fmt: skip
        return _go(f"/loans/{loan.id}", "loan_lent")

    return form_action(
        request,
        db,
        act,
        lambda status, error: _loan_form(request, db, console, now, status=status, v=values, error=error),
    )


def _loan_page(
    request: Request,
    db: Session,
    console: Console,
    now: datetime,
    archive_loan_id: int,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    loan = loans.get_loan(db, console.require_estate(), archive_loan_id)
    return _page(
        request, console, "loan.html", status=status, loan=loan, overdue=loans.is_overdue(loan, now),
        history=loans.history(db, loan),
        can_lend=console.can(Perm.archive_lend), can_approve=console.can(Perm.archive_approve), **context,
    )  # fmt: skip


@router.get("/archive/loans/{archive_loan_id}")
def loan_page(
    request: Request, console: Viewer, db: DbSession, now: Now, archive_loan_id: RowId, done: Text = ""
) -> Response:
    return _loan_page(request, db, console, now, archive_loan_id, flash=flash_key(done, DONE))


def _loan_step(
    request: Request, db: Session, console: Console, now: datetime, archive_loan_id: int, take: Any, done: str
) -> Response:
    loan = loans.get_loan(db, console.require_estate(), archive_loan_id)

    def act() -> Response:
        take(loan)
        return _go(f"/loans/{archive_loan_id}", done)

    return form_action(
        request,
        db,
        act,
        lambda status, error: _loan_page(request, db, console, now, archive_loan_id, status=status, error=error),
    )


@router.post("/archive/loans/{archive_loan_id}/hand-over", max_body_size=SIGNATURE_BODY)
def hand_over(
    request: Request, console: Lender, db: DbSession, now: Now, archive_loan_id: RowId,
    no_copying: Annotated[bool, Form()] = False, signature: Signature = "",
) -> Response:  # fmt: skip
    def take(loan: ArchiveLoan) -> None:
        loans.hand_over(db, console.actor, loan, no_copying=no_copying, signature=signature, by=console.user, now=now)

    return _loan_step(request, db, console, now, archive_loan_id, take, "loan_handed_over")


@router.post("/archive/loans/{archive_loan_id}/return")
def return_loan(
    request: Request, console: Lender, db: DbSession, now: Now, archive_loan_id: RowId, note: Note = ""
) -> Response:
    def take(loan: ArchiveLoan) -> None:
        loans.return_loan(db, console.actor, loan, by=console.user, now=now, note=note.strip())

    return _loan_step(request, db, console, now, archive_loan_id, take, "loan_returned")


@router.post("/archive/loans/{archive_loan_id}/cancel")
def cancel_loan(
    request: Request, console: Lender, db: DbSession, now: Now, archive_loan_id: RowId, note: Note = ""
) -> Response:
    def take(loan: ArchiveLoan) -> None:
        loans.cancel(db, console.actor, loan, by=console.user, now=now, note=note.strip())

    return _loan_step(request, db, console, now, archive_loan_id, take, "loan_cancelled")


@router.post("/archive/loans/{archive_loan_id}/approve")
def approve_loan(
    request: Request, console: Approver, db: DbSession, now: Now, archive_loan_id: RowId, note: Note = ""
) -> Response:
    def take(loan: ArchiveLoan) -> None:
        loans.approve(db, console.actor, loan, by=console.user, now=now, note=note.strip())

    return _loan_step(request, db, console, now, archive_loan_id, take, "loan_approved")


@router.post("/archive/loans/{archive_loan_id}/refuse")
def refuse_loan(
    request: Request, console: Approver, db: DbSession, now: Now, archive_loan_id: RowId, note: Note = ""
) -> Response:
    def take(loan: ArchiveLoan) -> None:
        loans.refuse(db, console.actor, loan, by=console.user, now=now, note=note.strip())

    return _loan_step(request, db, console, now, archive_loan_id, take, "loan_refused")


@router.get("/archive/approvals")
def approvals(request: Request, console: Approver, db: DbSession, now: Now, done: Text = "") -> Response:
    estate = console.require_estate()
    return _page(
        request, console, "approvals.html", loans=loans.pending(db, estate), now=now,
        reasons={loan.id: loans.approval_reasons(loan.file, _borrower_of(db, loan), loan.due_at, loan.created_at)
                 for loan in loans.pending(db, estate)},
        destructions=[d for d in room.destructions(db, estate) if d.state.value == "requested"],
        flash=flash_key(done, DONE),
    )  # fmt: skip


def _borrower_of(db: Session, loan: ArchiveLoan) -> ArchiveBorrower:
    if loan.staff_id is None:
        return ArchiveBorrower(name=loan.borrower_name, company=loan.company)
    return ArchiveBorrower(staff=db.get_one(StaffUser, loan.staff_id))


# --- destruction ----------------------------------------------------------------------------------------------------


def _destructions_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> Response:
    estate = console.require_estate()
    return _page(
        request, console, "destructions.html", status=status, records=room.destructions(db, estate),
        expired=room.expired_files(db, estate, now), can_manage=console.can(Perm.archive_manage),
        can_approve=console.can(Perm.archive_approve), **context,
    )  # fmt: skip


@router.get("/archive/destructions")
def destructions(request: Request, console: Viewer, db: DbSession, now: Now, done: Text = "") -> Response:
    return _destructions_page(request, db, console, now, flash=flash_key(done, DONE))


@router.post("/archive/files/{file_id}/destruction")
def request_destruction(
    request: Request, console: Keeper, db: DbSession, now: Now, file_id: RowId, reason: Note = ""
) -> Response:
    file = files.get_file(db, console.require_estate(), file_id)

    def act() -> Response:
        room.request_destruction(db, console.actor, file, reason=reason, by=console.user, now=now)
        return _go("/destructions", "destruction_requested")

    return form_action(
        request,
        db,
        act,
        lambda status, error: _file_page(request, db, console, now, file_id, status=status, error=error),
    )


def _destruction_step(
    request: Request, db: Session, console: Console, now: datetime, destruction_id: int, take: Any, done: str
) -> Response:
    record = room.get_destruction(db, console.require_estate(), destruction_id)

    def act() -> Response:
        take(record)
        return _go("/destructions", done)

    return form_action(
        request,
        db,
        act,
        lambda status, error: _destructions_page(request, db, console, now, status=status, error=error),
    )


@router.post("/archive/destructions/{destruction_id}/approve")
def approve_destruction(
    request: Request, console: Approver, db: DbSession, now: Now, destruction_id: RowId, note: Note = ""
) -> Response:
    def take(record: Any) -> None:
        room.approve_destruction(db, console.actor, record, by=console.user, now=now, note=note.strip())

    return _destruction_step(request, db, console, now, destruction_id, take, "destruction_approved")


@router.post("/archive/destructions/{destruction_id}/refuse")
def refuse_destruction(
    request: Request, console: Approver, db: DbSession, now: Now, destruction_id: RowId, note: Note = ""
) -> Response:
    def take(record: Any) -> None:
        room.refuse_destruction(db, console.actor, record, by=console.user, now=now, note=note.strip())

    return _destruction_step(request, db, console, now, destruction_id, take, "destruction_refused")


@router.post("/archive/destructions/{destruction_id}/destroy")
def destroy(
    request: Request, console: Keeper, db: DbSession, now: Now, destruction_id: RowId, method: Name = ""
) -> Response:
    def take(record: Any) -> None:
        room.destroy(db, console.actor, record, method=method, by=console.user, now=now)

    return _destruction_step(request, db, console, now, destruction_id, take, "destroyed")


# --- the quarterly completeness check -------------------------------------------------------------------------------


def _check_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> Response:
    estate = console.require_estate()
    return _page(
        request, console, "check.html", status=status, quarter=room.quarter_state(db, estate, now),
        files=files.files(db, estate, state=FileState.held.value), checks=room.checks(db, estate),
        findings=list(Finding), can_manage=console.can(Perm.archive_manage), **context,
    )  # fmt: skip


@router.get("/archive/check")
def check_page(request: Request, console: Viewer, db: DbSession, now: Now, done: Text = "") -> Response:
    return _check_page(request, db, console, now, flash=flash_key(done, DONE))


@router.post("/archive/check")
async def record_check(request: Request, console: Keeper, db: DbSession, now: Now) -> Response:
    """A finding per file (`finding_<id>`, `note_<id>`) and the sign-off by the signed-in keeper."""
    form = await request.form()
    findings: dict[int, tuple[str, str]] = {}
    for key, value in form.multi_items():
        if key.startswith("finding_") and key[8:].isdigit() and isinstance(value, str):
            note = form.get(f"note_{key[8:]}", "")
            findings[int(key[8:])] = (value, (note if isinstance(note, str) else "")[:200])
    overall = form.get("note", "")
    note = overall[:400] if isinstance(overall, str) else ""

    def act() -> Response:
        room.record_check(db, console.actor, console.require_estate(), findings, by=console.user, now=now, note=note)
        return _go("/check", "check_recorded")

    return form_action(
        request, db, act, lambda status, error: _check_page(request, db, console, now, status=status, error=error)
    )


# --- the access register --------------------------------------------------------------------------------------------


def _access_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> Response:
    estate = console.require_estate()
    return _page(
        request, console, "access.html", status=status, entries=room.entries(db, estate),
        staff=estate_staff(db, estate), can_lend=console.can(Perm.archive_lend), **context,
    )  # fmt: skip


@router.get("/archive/access")
def access(request: Request, console: Viewer, db: DbSession, now: Now, done: Text = "") -> Response:
    return _access_page(request, db, console, now, flash=flash_key(done, DONE))


@router.post("/archive/access")
def record_entry(
    request: Request, console: Lender, db: DbSession, now: Now, staff_id: Short = "", name: Name = "",
    reason: Note = "", accompanied_by: Short = "", entered_at: Short = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()
    values = {"staff_id": staff_id, "name": name, "reason": reason, "accompanied_by": accompanied_by}

    def act() -> Response:
        who = staff_member(db, estate, row_id(staff_id, "员工", "staff member")) if staff_id else None
        companion = staff_member(db, estate, row_id(accompanied_by, "陪同人", "companion")) if accompanied_by else None
        at = local_time(estate, entered_at, "进入时间", "the time of entry")
        if at is not None and at > now + timedelta(minutes=5):
            raise DomainError("进入时间不能在将来", "the time of entry is not in the future", code="bad_time")
        room.record_entry(db, console.actor, estate, reason=reason, by=console.user, now=now, staff=who, name=name,
                          accompanied_by=companion, entered_at=at)  # fmt: skip
        return _go("/access", "entry_recorded")

    return form_action(
        request, db, act,
        lambda status, error: _access_page(request, db, console, now, status=status, error=error, v=values),
    )  # fmt: skip
