"""The key loan register 《钥匙领用登记表》 in the console (R-KEY-12): the register with its filters and exports (XLSX
and the printed form), registering a loan under every rule of `loans.lend` (R-KEY-5, 8, 9, 13, 14), cancelling one
whose key never left, and the overdue list with its acknowledgements.

A loan goes out and comes back only on the cabinet's events (server.domain.keys.events): no page has a button for
either."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.key_exports import register_pdf, register_xlsx
from server.console.key_pages import DONE, key_view, local_input, local_time, pdf_file, row_id, translator
from server.console.pages import form_action
from server.console.registry_pages import XLSX, flash_key, page_size, wants_fragment
from server.contract.fields import Text, parse_day
from server.db.models import BorrowerKind, Estate, KeyGroup, LoanPurpose, LoanState
from server.domain import clock
from server.domain.errors import DomainError
from server.domain.keys import loans, views
from server.domain.keys.loans import Borrower
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, Now, require
from server.web.params import PageNo, RowId, RowIdQuery

router = APIRouter()

Viewer = Annotated[Console, require(Perm.keys_view)]
Lender = Annotated[Console, require(Perm.keys_lend)]

DEFAULT_LOAN = timedelta(hours=2)  # the due time the loan form suggests


# --- the key loan register 《钥匙领用登记表》 (R-KEY-12) ------------------------------------------------------------

Choice = Annotated[Text, Query(max_length=20)]
DayQ = Annotated[Text, Query(max_length=10)]


def _day(text: str) -> date | None:
    try:
        return parse_day(text) if text else None
    except ValueError:
        return None


def _loan_filter(state: str, purpose: str, borrower: str, group: str, since: str, until: str) -> views.LoanFilter:
    """The filters as chosen; a value outside a list counts as no filter."""
    return views.LoanFilter(
        state=LoanState(state) if state in LoanState.__members__ else None,
        purpose=LoanPurpose(purpose) if purpose in LoanPurpose.__members__ else None,
        borrower=BorrowerKind(borrower) if borrower in BorrowerKind.__members__ else None,
        group=KeyGroup(group) if group in KeyGroup.__members__ else None,
        since=_day(since),
        until=_day(until),
    )


@router.get("/keys/loans")
def loan_register(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    state: Choice = "",
    purpose: Choice = "",
    borrower: Choice = "",
    group: Choice = "",
    since: DayQ = "",
    until: DayQ = "",
    page: PageNo = 1,
    done: Text = "",
) -> Response:
    estate = console.require_estate()
    f = _loan_filter(state, purpose, borrower, group, since, until)
    found = views.loans_page(db, estate, f, now, page, page_size(request))
    query = {"state": state, "purpose": purpose, "borrower": borrower, "group": group, "since": since, "until": until}
    template = "keys/loans_table.html" if wants_fragment(request) else "keys/loans.html"
    return key_view(
        request,
        console,
        template,
        page=found,
        query=query,
        states=list(LoanState),
        purposes=list(LoanPurpose),
        borrowers=list(BorrowerKind),
        groups=list(KeyGroup),
        can_lend=console.can(Perm.keys_lend),
        flash=flash_key(done, DONE),
    )


@router.get("/keys/loans/export.{fmt}")
def export_register(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    fmt: Literal["xlsx", "pdf"],
    state: Choice = "",
    purpose: Choice = "",
    borrower: Choice = "",
    group: Choice = "",
    since: DayQ = "",
    until: DayQ = "",
) -> Response:
    """The register as filtered on screen: XLSX for the office, PDF in the paper form's columns for the binder."""
    estate = console.require_estate()
    f = _loan_filter(state, purpose, borrower, group, since, until)
    rows = views.loans_for_export(db, estate, f, now)
    t = translator(request)
    period = f"{f.since or '…'} – {f.until or '…'}" if f.since or f.until else t("keys.register.all")
    if fmt == "pdf":
        return pdf_file(register_pdf(rows, estate, t, period), "key-loan-register.pdf")
    return Response(
        register_xlsx(rows, estate, t, period),
        media_type=XLSX,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''key-loan-register.xlsx"},
    )


def _loan_form(
    request: Request,
    db: Session,
    console: Console,
    now: datetime,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    error: str = "",
) -> HTMLResponse:
    estate = console.require_estate()
    due = now.replace(second=0, microsecond=0) + DEFAULT_LOAN
    defaults: dict[str, Any] = {"borrower_kind": "staff", "due_at": local_input(estate, due)}
    defaults.update(values or {})
    return key_view(
        request,
        console,
        "keys/loan_new.html",
        status=status,
        v=defaults,
        error=error,
        keys=views.lendable_keys(db, estate),
        staff=views.estate_staff(db, estate),
        purposes=list(LoanPurpose),
        borrowers=list(BorrowerKind),
    )


@router.get("/keys/loans/new")
def new_loan(request: Request, console: Lender, db: DbSession, now: Now, key: RowIdQuery = None) -> Response:
    return _loan_form(request, db, console, now, values={"key_id": str(key) if key else ""})


FormText = Annotated[Text, Form(max_length=100)]


@router.post("/keys/loans/new")
def register_loan(
    request: Request,
    console: Lender,
    db: DbSession,
    now: Now,
    key_id: Annotated[Text, Form(max_length=10)] = "",
    purpose: Annotated[Text, Form(max_length=20)] = "",
    borrower_kind: Annotated[Text, Form(max_length=20)] = "",
    staff_id: Annotated[Text, Form(max_length=10)] = "",
    owner_name: Annotated[Text, Form(max_length=60)] = "",
    identity_checked: Annotated[bool, Form()] = False,
    name: Annotated[Text, Form(max_length=60)] = "",
    company: FormText = "",
    phone: Annotated[Text, Form(max_length=20)] = "",
    id_tail: Annotated[Text, Form(max_length=4)] = "",
    accompanied_by: Annotated[Text, Form(max_length=10)] = "",
    due_at: Annotated[Text, Form(max_length=20)] = "",
    receipt_no: Annotated[Text, Form(max_length=40)] = "",
    payment_proof: Annotated[Text, Form(max_length=40)] = "",
    note: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    """R-KEY-12: a line of the register; every rule of `loans.lend` (R-KEY-5, 8, 9, 13, 14) is checked there."""
    estate = console.require_estate()
    values = {
        "key_id": key_id, "purpose": purpose, "borrower_kind": borrower_kind, "staff_id": staff_id,
        "owner_name": owner_name, "identity_checked": identity_checked, "name": name, "company": company,
        "phone": phone, "id_tail": id_tail, "accompanied_by": accompanied_by, "due_at": due_at,
        "receipt_no": receipt_no, "payment_proof": payment_proof, "note": note,
    }  # fmt: skip

    def lend() -> Response:
        key = row_id(key_id, "钥匙", "key")
        kind = borrower_kind if borrower_kind in BorrowerKind.__members__ else ""
        if not kind:
            raise DomainError("请选择借用人类型", "choose the kind of borrower", code="missing_fields")
        borrower = _borrower(db, estate, BorrowerKind(kind), key, now, values)
        companion = None
        if accompanied_by:
            companion = views.staff_member(db, estate, row_id(accompanied_by, "陪同员工", "accompanying staff member"))
        loans.lend(
            db,
            console.actor,
            estate,
            key_id=key,
            purpose=purpose,
            borrower=borrower,
            by=console.user,
            now=now,
            due_at=local_time(estate, due_at, "归还时间", "the due time"),
            accompanied_by=companion,
            receipt_no=receipt_no,
            payment_proof=payment_proof,
            note=note.strip(),
        )
        return RedirectResponse("/console/keys/loans?done=loan_registered", status_code=303)

    def form_again(status: int, error: str) -> Response:
        return _loan_form(request, db, console, now, status=status, values=values, error=error)

    return form_action(request, db, lend, form_again)


def _borrower(db: Session, estate: Estate, kind: BorrowerKind, key: int, now: datetime, v: dict[str, Any]) -> Borrower:
    """Who takes the key, as the form names them: a staff member, an owner of the key's unit (R-KEY-13), or an
    outside worker with company, phone and ID tail (R-KEY-14)."""
    if kind == BorrowerKind.staff:
        return Borrower(kind, staff=views.staff_member(db, estate, row_id(v["staff_id"], "借用的员工", "staff member")))
    if kind == BorrowerKind.owner:
        if not v["owner_name"].strip():
            raise DomainError("请填写业主姓名", "give the owner's name", code="missing_fields")
        person = views.owner_of_key(db, estate, key, v["owner_name"], clock.today(estate, now))
        return Borrower(kind, person=person, identity_checked=bool(v["identity_checked"]))
    return Borrower(kind, name=v["name"], company=v["company"], phone=v["phone"], id_tail=v["id_tail"])


@router.post("/keys/loans/{loan_id}/cancel")
def cancel_loan(
    console: Lender, db: DbSession, now: Now, loan_id: RowId, note: Annotated[Text, Form(max_length=200)] = ""
) -> Response:
    """A registered loan whose key never left the cabinet."""
    loan = loans.get_loan(db, console.require_estate(), loan_id)
    loans.cancel(db, console.actor, loan, by=console.user, now=now, note=note.strip())
    return RedirectResponse("/console/keys/loans?done=loan_cancelled", status_code=303)


# --- overdue loans --------------------------------------------------------------------------------------------------


def _overdue_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> HTMLResponse:
    rows = views.overdue_rows(db, console.require_estate(), now, open_only=bool(context.pop("open_only", False)))
    return key_view(
        request, console, "keys/overdue.html", status=status, rows=rows, can_lend=console.can(Perm.keys_lend), **context
    )


@router.get("/keys/overdue")
def overdue(
    request: Request, console: Viewer, db: DbSession, now: Now, done: Text = "", open: bool = False
) -> Response:
    """Loans out past their due time; `open`: only those nobody has acknowledged (the dashboard's figure)."""
    return _overdue_page(request, db, console, now, flash=flash_key(done, DONE), open_only=open, open=open)


@router.post("/keys/loans/{loan_id}/acknowledge")
def acknowledge_overdue(
    request: Request,
    console: Lender,
    db: DbSession,
    now: Now,
    loan_id: RowId,
    note: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    """Someone has seen the overdue loan and writes what is being done about it."""
    loan = loans.get_loan(db, console.require_estate(), loan_id)

    def acknowledge() -> Response:
        if not note.strip():
            raise DomainError("请写明跟进情况", "say what is being done about it", code="missing_fields")
        loans.acknowledge_overdue(db, console.actor, loan, by=console.user, note=note, now=now)
        return RedirectResponse("/console/keys/overdue?done=overdue_acknowledged", status_code=303)

    def form_again(status: int, error: str) -> Response:
        return _overdue_page(request, db, console, now, status=status, error=error, failed=loan_id, note=note)

    return form_action(request, db, acknowledge, form_again)
