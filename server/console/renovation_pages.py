"""Renovation in the console (R-REN): the register of applications with the late ones flagged, the application
received at the desk, each step on the application's page (engineering's decision, the owner notified, the agreement
signed on the pad, fees and deposit, suspension, extension, acceptance, refund), the workers' passes issued and
printed on the desk's ESC/POS printer, and the gate's log of their entries and exits. The register prints as PDF
and exports as XLSX; each application prints as the form 《装修申请表》."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing import PrintingError
from devices.printing.job import send_job
from devices.printing.profiles import DEFAULT_PROFILE
from devices.printing.worker_pass import WorkerPassPrint, pass_bytes
from server.console.i18n import translate
from server.console.key_pages import local_time, pdf_file
from server.console.pages import form_action, language, record_step
from server.console.registers import Column, Register, form_file, register_pdf, register_xlsx
from server.console.registers import Form as PaperForm
from server.console.registry_pages import XLSX, flash_key, parse_yuan, view, yuan
from server.console.slip_pages import PRINTER_COOKIE
from server.console.slip_print_pages import COOKIE_AGE
from server.contract.fields import Text, parse_day
from server.db.models import Estate, StaffUser, StepHistory
from server.db.models.renovation import Renovation, RenovationState
from server.domain import audit, clock
from server.domain.errors import DomainError, Forbidden
from server.domain.permissions import Perm
from server.domain.renovation import passes, records
from server.domain.renovation.process import RENOVATION
from server.domain.service import signatures
from server.domain.slips import printing
from server.web.deps import Console, DbSession, Now, require
from server.web.limits import SIGNATURE_BODY
from server.web.params import ROW_ID, RowId

router = APIRouter()
Viewer = Annotated[Console, require(Perm.renovation_view)]
Desk = Annotated[Console, require(Perm.renovation_desk)]
BASE = "/console/renovations"
STEPS = ("approve", "reject", "notify", "agree", "pay", "suspend", "resume", "extend", "request_acceptance",
         "book_inspection", "accept", "refund")  # fmt: skip
DONE = frozenset(f"ren_{done}" for done in ("received", "pass_issued", "pass_printed", *STEPS))
Short = Annotated[Text, Form(max_length=40)]
Note = Annotated[Text, Form(max_length=400)]

REGISTER = Register(
    "renovation-register", "《装修登记表》", "Renovation register",
    (Column("number", "编号", "Number", 20), Column("unit", "房号", "Unit", 10), Column("owner", "业主", "Owner", 10),
     Column("contractor", "装修单位", "Contractor", 16), Column("period", "装修期", "Period", 22),
     Column("state", "状态", "State", 12), Column("deposit", "押金", "Deposit", 12),
     Column("refund_due", "退押金期限", "Refund due", 16), Column("refunded", "已退", "Refunded", 16)),
    signatures=(("制表人", "Prepared by"), ("客服主管", "CS supervisor")),
)  # fmt: skip
APPLICATION_FORM = PaperForm(
    "renovation-application", "《装修申请表》", "Renovation application",
    fields=(Column("number", "编号", "Number"), Column("unit", "房号", "Unit"), Column("owner", "业主", "Owner"),
            Column("phone", "电话", "Phone"), Column("contractor", "装修单位", "Contractor", 60),
            Column("scope", "装修项目", "Works", 60), Column("period", "装修期", "Period", 60),
            Column("received", "受理时间", "Received", 60), Column("decision", "工程部审批意见", "Engineering", 60),
            Column("fees", "管理费 / 押金", "Fee / deposit", 60), Column("acceptance", "竣工验收", "Acceptance", 60),
            Column("refund", "退押金", "Deposit refund", 60)),
    signatures=(("业主", "Owner"), ("客服中心", "CS centre"), ("工程部", "Engineering"), ("财务部", "Finance")),
)  # fmt: skip


def state_label(lang: str) -> Callable[[RenovationState], str]:
    return lambda state: translate(lang, f"ren.state.{state.value}")


def _list(
    request: Request, db: Session, console: Console, now: Any, *, state: str = "", late: bool = False,
    status: int = 200, **context: Any,
) -> HTMLResponse:  # fmt: skip
    estate = console.require_estate()
    rows = records.listing(db, estate, state=state, late_only=late, now=now)
    return view(
        request, console, "renovation/list.html", status=status, rows=rows, state=state, late=late,
        states=list(RenovationState), is_late=lambda r: records.is_late(r, now),
        state_name=state_label(language(request)),
        can_desk=console.can(Perm.renovation_desk), v=context.pop("v", {}), **context,
    )  # fmt: skip


@router.get("/renovations")
def renovation_list(
    request: Request, console: Viewer, db: DbSession, now: Now, state: Annotated[Text, Query(max_length=24)] = "",
    late: bool = False, done: Text = "",
) -> Response:  # fmt: skip
    return _list(request, db, console, now, state=state, late=late, flash=flash_key(done, DONE))


def _day(text: str, zh: str, en: str) -> date | None:
    if not text.strip():
        return None
    try:
        return parse_day(text)
    except ValueError:
        raise DomainError(f"{zh}不是日期：{text}", f"{en} is not a date: {text}", code="bad_date") from None


@router.post("/renovations")
def receive(
    request: Request, console: Desk, db: DbSession, now: Now, unit: Short = "", owner_name: Short = "",
    owner_phone: Short = "", contractor: Annotated[Text, Form(max_length=60)] = "", scope: Note = "",
    starts_on: Short = "", ends_on: Short = "",
) -> Response:  # fmt: skip
    """R-REN-1: the application received at the desk; engineering's 3 working days start."""
    values = {"unit": unit, "owner_name": owner_name, "owner_phone": owner_phone, "contractor": contractor,
              "scope": scope, "starts_on": starts_on, "ends_on": ends_on}  # fmt: skip

    def save() -> Response:
        first, last = _day(starts_on, "开工日期", "the first day"), _day(ends_on, "完工日期", "the last day")
        application = records.Application(unit, owner_name, scope, first, last, owner_phone, contractor)
        record = records.receive(db, console.actor, console.user, console.require_estate(), application, now)
        return RedirectResponse(f"{BASE}/{record.id}?done=ren_received", status_code=303)

    return form_action(
        request, db, save, lambda status, error: _list(request, db, console, now, status=status, error=error, v=values)
    )


def _rows(db: Session, estate: Estate, lang: str, now: Any) -> list[dict[str, object]]:
    label = state_label(lang)
    local = lambda at: clock.local_text(estate, at)  # noqa: E731
    return [
        {"number": r.number, "unit": r.unit.code, "owner": r.owner_name, "contractor": r.contractor,
         "period": f"{r.starts_on} — {r.ends_on}", "state": label(r.state), "deposit": yuan(r.deposit_fen),
         "refund_due": local(r.refund_due_at), "refunded": local(r.refunded_at)}
        for r in records.listing(db, estate, now=now)
    ]  # fmt: skip


@router.get("/renovations/export.{fmt}")
def export(request: Request, console: Viewer, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"]) -> Response:
    """The renovation register 《装修登记表》 as PDF or XLSX."""
    estate = console.require_estate()
    lang = language(request)
    rows, heading = _rows(db, estate, lang, now), f"{estate.name} · {clock.local_text(estate, now)}"
    if fmt == "pdf":
        return pdf_file(register_pdf(REGISTER, rows, lang=lang, heading=heading), "renovation-register.pdf")
    return Response(
        register_xlsx(REGISTER, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''renovation-register.xlsx"},
    )


@router.post("/renovations/passes", max_body_size=SIGNATURE_BODY)
def issue_pass(
    request: Request, console: Desk, db: DbSession, now: Now, unit: Short = "", worker_name: Short = "",
    company: Annotated[Text, Form(max_length=60)] = "", id_tail: Annotated[Text, Form(max_length=8)] = "",
    photo: Annotated[Text, Form(max_length=signatures.MAX_DATA_URL)] = "",
) -> Response:  # fmt: skip
    """R-REN-6: a worker's pass for the unit's approved and paid renovation."""
    estate = console.require_estate()

    def save() -> Response:
        worker = passes.Worker(worker_name, company, id_tail, photo)
        item = passes.issue_for_unit(db, console.actor, console.user, estate, unit, worker, now)
        return RedirectResponse(f"{BASE}/{item.renovation_id}?done=ren_pass_issued#passes", status_code=303)

    values = {"unit": unit, "worker_name": worker_name, "company": company}
    return form_action(
        request, db, save, lambda status, error: _list(request, db, console, now, status=status, error=error, pv=values)
    )


@router.post("/renovations/passes/{pass_id}/print")
def print_pass(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    pass_id: RowId,
    printer: Annotated[Text, Form(max_length=12)] = "",
) -> Response:
    """Print the pass on the workstation's front-desk ESC/POS printer (an enrolled printer, as slips are)."""
    estate = console.require_estate()
    item = passes.get(db, estate, pass_id)

    def send() -> Response:
        if item.withdrawn_at is not None:
            raise DomainError("出入证已作废，不能打印", "the pass was withdrawn: not printed", code="withdrawn")
        if not ROW_ID.fullmatch(printer):
            raise DomainError("请选择打印机", "pick a printer", code="pick_printer")
        device = printing.get_printer(db, estate, int(printer))
        paper = WorkerPassPrint(
            estate.name, item.number, item.renovation.unit.code, item.worker_name, item.company, item.valid_from,
            item.valid_until, item.token, item.renovation.number,
        )  # fmt: skip
        try:
            send_job(device.url, pass_bytes(paper, DEFAULT_PROFILE), timeout=printing.PRINT_TIMEOUT)
        except PrintingError as exc:
            zh, _, en = str(exc).partition(" / ")
            raise DomainError(
                f"{device.name}：{zh}", f"{device.name}: {en or zh}", code="printer_failed", status=503
            ) from None
        item.printed_at = now
        audit.record(
            db, console.actor, "worker_pass.print", "worker_pass", item.id, estate_id=estate.id, printer=device.name
        )
        response = RedirectResponse(f"{BASE}/{item.renovation_id}?done=ren_pass_printed#passes", status_code=303)
        response.set_cookie(
            PRINTER_COOKIE, printer, max_age=COOKIE_AGE, httponly=True, samesite="strict", path="/console"
        )
        return response

    return form_action(
        request, db, send,
        lambda status, error: _detail(request, db, console, now, item.renovation, status=status, error=error),
    )  # fmt: skip


def _detail(
    request: Request, db: Session, console: Console, now: Any, record: Renovation, *, status: int = 200, **context: Any
) -> HTMLResponse:
    return view(
        request, console, "renovation/detail.html", status=status, r=record, late=records.is_late(record, now),
        history=workflow_history(db, record), passes=passes.all_passes(db, record),
        movements=passes.movements(db, record), inside=passes.inside(db, record),
        printers=printing.printers(db, console.require_estate()),
        chosen_printer=request.cookies.get(PRINTER_COOKIE, ""),
        state_name=state_label(language(request)), can=lambda step: _may(console, step),
        v=context.pop("v", {}), **context,
    )  # fmt: skip


def workflow_history(db: Session, record: Renovation) -> list[StepHistory]:
    query = select(StepHistory).where(StepHistory.process == "renovation", StepHistory.record_id == record.id)
    return list(db.scalars(query.order_by(StepHistory.id)))


def _may(console: Console, step: str) -> bool:
    perm = RENOVATION[step].perm
    return perm is not None and console.can(perm)


@router.get("/renovations/{renovation_id}")
def renovation_detail(
    request: Request, console: Viewer, db: DbSession, now: Now, renovation_id: RowId, done: Text = ""
) -> Response:
    record = records.get(db, console.require_estate(), renovation_id)
    return _detail(request, db, console, now, record, flash=flash_key(done, DONE))


@router.get("/renovations/{renovation_id}/form.{fmt}")
def application_form(
    request: Request, console: Viewer, db: DbSession, renovation_id: RowId, fmt: Literal["pdf", "xlsx"]
) -> Response:
    """The application as the paper form 《装修申请表》, with its signature boxes."""
    estate = console.require_estate()
    r = records.get(db, estate, renovation_id)
    local = lambda at: clock.local_text(estate, at)  # noqa: E731
    values = {
        "number": r.number, "unit": r.unit.code, "owner": r.owner_name, "phone": r.owner_phone,
        "contractor": r.contractor, "scope": r.scope, "period": f"{r.starts_on} — {r.ends_on}",
        "received": local(r.received_at), "decision": f"{r.state.value} {r.decision_note}".strip(),
        "fees": f"{yuan(r.fee_fen)} / {yuan(r.deposit_fen)} {r.receipt_no}",
        "acceptance": f"{local(r.accepted_at)} {r.acceptance_note}".strip(),
        "refund": f"{local(r.refund_due_at)} {yuan(r.refund_fen) if r.refund_fen is not None else ''}".strip(),
    }  # fmt: skip
    sign = {"业主": r.owner_signature} if r.owner_signature else None
    return form_file(
        fmt, APPLICATION_FORM, values, r.number, lang=language(request), heading=estate.name, signatures=sign,
        signed_at={"业主": local(r.agreed_at)},
    )  # fmt: skip


def _fen(text: str, zh: str, en: str) -> int | None:
    if not text.strip():
        return None
    fen = parse_yuan(text)
    if fen is None or fen < 0 or fen > 100_000_000:
        raise DomainError(f"{zh}不是有效金额：{text}", f"{en} is not an amount: {text}", code="bad_amount")
    return fen


@router.post("/renovations/{renovation_id}/{step}", max_body_size=SIGNATURE_BODY)
def take_step(
    request: Request, console: Viewer, db: DbSession, now: Now, renovation_id: RowId,
    step: Literal["approve", "reject", "notify", "agree", "pay", "suspend", "resume", "extend", "request_acceptance",
                  "book_inspection", "accept", "refund"],
    note: Note = "", signature: Annotated[Text, Form(max_length=signatures.MAX_DATA_URL)] = "", fee: Short = "",
    deposit: Short = "", receipt_no: Short = "", ends_on: Short = "", inspection_at: Short = "", amount: Short = "",
    reference: Short = "",
) -> Response:  # fmt: skip
    """One step of the application (R-REN-2…9); the domain checks the state, the permission and the fields."""
    if not _may(console, step):  # each step's own permission, whatever the application's state
        raise Forbidden(f"{step} 需要权限 {RENOVATION[step].perm}", f"{step} needs permission {RENOVATION[step].perm}")
    estate = console.require_estate()
    actor, by = console.actor, console.user

    def take(r: Renovation) -> None:
        steps: dict[str, Callable[[StaffUser], None]] = {
            "approve": lambda u: records.decide(db, actor, u, r, True, note, now),
            "reject": lambda u: records.decide(db, actor, u, r, False, note, now),
            "notify": lambda u: records.notify(db, actor, u, r, note, now),
            "agree": lambda u: records.agree(db, actor, u, r, signature, now),
            "pay": lambda u: records.pay(
                db, actor, u, r, _fen(fee, "管理费", "the fee"), _fen(deposit, "押金", "the deposit"), receipt_no, now
            ),
            "suspend": lambda u: records.suspend(db, actor, u, r, note, now),
            "resume": lambda u: records.resume(db, actor, u, r, now),
            "extend": lambda u: records.extend(db, actor, u, r, _day(ends_on, "延期至", "the new end"), note, now),
            "request_acceptance": lambda u: records.request_acceptance(db, actor, u, r, now),
            "book_inspection": lambda u: records.book_inspection(
                db, actor, u, r, local_time(estate, inspection_at, "验收时间", "the inspection time"), now
            ),
            "accept": lambda u: records.accept(db, actor, u, r, note, now),
            "refund": lambda u: records.refund(db, actor, u, r, _fen(amount, "退还金额", "the refund"), reference, now),
        }
        steps[step](by)

    return record_step(
        request, db, lambda: records.get(db, estate, renovation_id), take,
        lambda r: f"{BASE}/{r.id}?done=ren_{step}",
        lambda r, status, error: _detail(request, db, console, now, r, status=status, error=error),
    )  # fmt: skip
