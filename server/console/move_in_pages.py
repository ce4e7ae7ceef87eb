"""The move-in desk in the console (R-MOVE): the day's queue with tickets, a move-in's page with the step it is at —
papers, documents and photos with the owner's signature on the pad, fees read back with the change, the pack, the
unit facilities acceptance form with the meter readings, keys from the key register with the owner's signed
receipt and a door key kept for rectification, the file steps — each of its forms and the move-in register as PDF
and XLSX."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from server.console import lifecycle_forms as paper
from server.console.key_pages import pdf_file, row_id
from server.console.pages import form_action, language
from server.console.registers import form_file, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, parse_yuan, view
from server.contract.fields import Text
from server.db.models import Estate, Key, Person, Unit
from server.db.models.lifecycle import MoveIn
from server.domain import clock
from server.domain.errors import DomainError, NotFound
from server.domain.lifecycle import meters
from server.domain.lifecycle import move_in as desk
from server.domain.lifecycle import move_in_fees as fee_list
from server.domain.lifecycle import move_in_scans as scans
from server.domain.permissions import Perm
from server.domain.service import signatures
from server.web.deps import Console, DbSession, Now, require
from server.web.limits import SIGNATURE_BODY
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.movein_view)]
Desk = Annotated[Console, require(Perm.movein_desk)]
Cashier = Annotated[Console, require(Perm.movein_fees)]
Inspector = Annotated[Console, require(Perm.movein_inspect)]

Short = Annotated[Text, Form(max_length=40)]
Note = Annotated[Text, Form(max_length=200)]
Signature = Annotated[Text, Form(max_length=signatures.MAX_DATA_URL)]
Codes = Annotated[list[Annotated[Text, Form(max_length=20)]], Form(max_length=20)]

STEPS = ("queued", "check", "sign", "pay", "hand_pack", "inspect", "issue_keys", "file", "cancel")
DONE = frozenset("movein_" + d for d in (*STEPS, "scans", "scan_deleted", "rectification_key"))


def _go(move_in_id: int, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/move-in/{move_in_id}?done=movein_{done}", status_code=303)


def _count(text: str, zh: str, en: str) -> int:
    if not text.strip().isdigit() or len(text.strip()) > 4:
        raise DomainError(f"{zh}须为数字", f"{en} is a number", code="bad_number")
    return int(text.strip())


# --- the queue --------------------------------------------------------------------------------------------------------


def _index(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> Response:
    estate = console.require_estate()
    units = {u.id: u for u in db.scalars(select(Unit).where(Unit.estate_id == estate.id))}
    owners = {p.id: p for p in db.scalars(select(Person).where(Person.estate_id == estate.id))}
    return view(
        request,
        console,
        "lifecycle/move_in_index.html",
        status=status,
        queue=desk.queue_of(db, estate, now, open_only=bool(context.get("open"))),
        records=desk.move_ins(db, estate)[:100],
        units=units,
        owners=owners,
        can_desk=console.can(Perm.movein_desk),
        **context,
    )


@router.get("/move-in")
def index(request: Request, console: Viewer, db: DbSession, now: Now, done: Text = "", open: bool = False) -> Response:
    """The day's queue and the register; `open`: only the queue still to be served (neither filed nor cancelled:
    the dashboard's figure)."""
    return _index(request, db, console, now, flash=flash_key(done, DONE), v={}, open=open)


@router.post("/move-in")
def take_ticket(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    unit: Annotated[Text, Form(max_length=16)] = "",
    owner: Annotated[Text, Form(max_length=60)] = "",
) -> Response:
    """An owner signs in at the desk with the unit on the move-in notice and takes the next ticket."""
    estate = console.require_estate()

    def act() -> Response:
        found = db.scalar(select(Unit).where(Unit.estate_id == estate.id, Unit.code == unit.strip().upper()))
        if found is None:
            raise NotFound(f"本小区没有房号 {unit}", f"no unit {unit} in this estate", code="unit_not_found")
        owners = desk.owners_of(db, found)
        chosen = [p for p in owners if p.name == owner.strip()] if owner.strip() else owners[:1]
        if not chosen:
            raise DomainError("这位不是该房的业主", "this person does not own the unit", code="not_owner", status=403)
        record = desk.queue(
            db, console.actor, estate, unit_id=found.id, owner_id=chosen[0].id, by=console.user, now=now
        )
        return _go(record.id, "queued")

    return form_action(
        request,
        db,
        act,
        lambda status, error: _index(
            request, db, console, now, status=status, error=error, v={"unit": unit, "owner": owner}
        ),
    )


@router.get("/move-in/export.{fmt}")
def export(request: Request, console: Viewer, db: DbSession, fmt: Literal["xlsx", "pdf"]) -> Response:
    estate = console.require_estate()
    lang = language(request)
    rows = paper.register_rows(db, estate, list(reversed(desk.move_ins(db, estate))), lang)
    heading = estate.name if lang == "zh" else (estate.name_en or estate.name)
    register = paper.MOVE_IN_REGISTER
    if fmt == "pdf":
        return pdf_file(register_pdf(register, rows, lang=lang, heading=heading), f"{register.code}.pdf")
    return Response(
        register_xlsx(register, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{register.code}.xlsx"},
    )


# --- a move-in --------------------------------------------------------------------------------------------------------


def _page(
    request: Request, db: Session, console: Console, move_in_id: int, *, status: int = 200, **context: Any
) -> Response:
    estate = console.require_estate()
    record = desk.get(db, estate, move_in_id)
    keys = desk.unit_keys(db, record)
    return view(
        request,
        console,
        "lifecycle/move_in.html",
        status=status,
        r=record,
        unit=db.get_one(Unit, record.unit_id),
        owner=db.get_one(Person, record.owner_id),
        history=desk.history(db, record),
        keys=keys,
        kept=db.get(Key, record.kept_key_id) if record.kept_key_id else None,
        desk=desk,
        meters=meters,
        rectification=desk.rectification_items(record),
        can=console.can,
        fee_recorded=desk.fee_recorded(record),
        fee_items=fee_list.items(db, estate, active_only=True) if record.state in desk.UNPAID else [],
        scans=scans.scans_of(db, record),
        scan_names=scans.NAMES,
        scans_open=record.state not in scans.CLOSED,
        **context,
    )


@router.get("/move-in/{move_in_id}")
def page(request: Request, console: Viewer, db: DbSession, move_in_id: RowId, done: Text = "") -> Response:
    return _page(request, db, console, move_in_id, flash=flash_key(done, DONE))


FormFmt = Literal["pdf", "xlsx"]


def _signed_at(db: Session, estate: Estate, record: MoveIn, transition: str) -> dict[str, str]:
    """When the owner signed the form the step `transition` took, as local text (for the workbook's signature row)."""
    at = next((h.at for h in desk.history(db, record) if h.transition == transition), None)
    return {"业主": clock.local_text(estate, at)} if at else {}


@router.get("/move-in/{move_in_id}/acceptance.{fmt}")
def acceptance_form(request: Request, console: Viewer, db: DbSession, move_in_id: RowId, fmt: FormFmt) -> Response:
    """《单元设施验收确认表》 with its lines, rectification items, meter readings and the owner's signature."""
    estate = console.require_estate()
    record = desk.get(db, estate, move_in_id)
    lang = language(request)
    inspected = next((h.at for h in desk.history(db, record) if h.transition == "inspect"), None)
    values = paper.acceptance_values(db, estate, record, lang, inspected)
    return form_file(
        fmt, paper.ACCEPTANCE, values, f"acceptance-{record.number}", lang=lang, heading=estate.name,
        signatures={"业主": record.acceptance_signature}, signed_at=_signed_at(db, estate, record, "inspect"),
    )  # fmt: skip


@router.get("/move-in/{move_in_id}/papers.{fmt}")
def papers_form(request: Request, console: Viewer, db: DbSession, move_in_id: RowId, fmt: FormFmt) -> Response:
    """The papers confirmation 《入伙资料确认表》 with the owner's signature on the documents."""
    estate = console.require_estate()
    record = desk.get(db, estate, move_in_id)
    lang = language(request)
    values = paper.papers_values(db, record, lang)
    return form_file(
        fmt, paper.PAPERS, values, f"papers-{record.number}", lang=lang, heading=estate.name,
        signatures={"业主": record.owner_signature}, signed_at=_signed_at(db, estate, record, "sign"),
    )  # fmt: skip


@router.get("/move-in/{move_in_id}/keys.{fmt}")
def key_receipt_form(request: Request, console: Viewer, db: DbSession, move_in_id: RowId, fmt: FormFmt) -> Response:
    """The key receipt 《钥匙签领表》 with the keys handed over and the owner's signature (R-KEY-8)."""
    estate = console.require_estate()
    record = desk.get(db, estate, move_in_id)
    kept = db.get(Key, record.kept_key_id) if record.kept_key_id else None
    values = paper.key_receipt_values(db, estate, record, kept, language(request))
    return form_file(
        fmt, paper.KEY_RECEIPT, values, f"key-receipt-{record.number}", lang=language(request), heading=estate.name,
        signatures={"业主": record.key_signature}, signed_at=_signed_at(db, estate, record, "issue_keys"),
    )  # fmt: skip


@router.get("/move-in/{move_in_id}/rectification.{fmt}")
def rectification_form(request: Request, console: Viewer, db: DbSession, move_in_id: RowId, fmt: FormFmt) -> Response:
    """The rectification list 《项目整改表》 for engineering, with the key kept for the work."""
    estate = console.require_estate()
    record = desk.get(db, estate, move_in_id)
    kept = db.get(Key, record.kept_key_id) if record.kept_key_id else None
    inspected = next((h.at for h in desk.history(db, record) if h.transition == "inspect"), None)
    values = paper.rectification_values(db, estate, record, kept, inspected, language(request))
    return form_file(
        fmt, paper.RECTIFICATION, values, f"rectification-{record.number}", lang=language(request),
        heading=estate.name, signatures={"业主": record.acceptance_signature},
        signed_at=_signed_at(db, estate, record, "inspect"),
    )  # fmt: skip


def _step(
    request: Request,
    db: Session,
    console: Console,
    move_in_id: int,
    done: str,
    take: Callable[[MoveIn, Estate], object],
) -> Response:
    estate = console.require_estate()
    record = desk.get(db, estate, move_in_id)

    def act() -> Response:
        take(record, estate)
        return _go(move_in_id, done)

    def again(status: int, error: str) -> Response:
        db.expire_all()
        return _page(request, db, console, move_in_id, status=status, error=error)

    return form_action(request, db, act, again)


@router.post("/move-in/{move_in_id}/check")
def check(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    move_in_id: RowId,
    notice_no: Short = "",
    id_checked: Annotated[bool, Form()] = False,
) -> Response:
    """The notice and the ID checked; the copies are the scans already taken on the page."""

    def take(record: MoveIn, estate: Estate) -> None:
        desk.check_papers(
            db,
            console.actor,
            record,
            notice_no=notice_no,
            id_checked=id_checked,
            by=console.user,
            now=now,
        )

    return _step(request, db, console, move_in_id, "check", take)


@router.post("/move-in/{move_in_id}/sign", max_body_size=SIGNATURE_BODY)
def sign(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    move_in_id: RowId,
    documents: Codes = [],  # noqa: B006 - FastAPI copies form defaults
    family_members: Short = "0",
    photos: Short = "0",
    signature: Signature = "",
) -> Response:
    def take(record: MoveIn, estate: Estate) -> None:
        desk.sign_documents(
            db,
            console.actor,
            record,
            documents=documents,
            family_members=_count(family_members, "家庭成员人数", "family members"),
            photos=_count(photos, "照片张数", "photos"),
            signature=signature,
            by=console.user,
            now=now,
        )

    return _step(request, db, console, move_in_id, "sign", take)


def _fen(form: FormData, name: str, zh: str, en: str) -> int:
    value = form.get(name, "")
    text = value[:20] if isinstance(value, str) else ""
    if not text.strip():
        return 0
    fen = parse_yuan(text)
    if fen is None:
        raise DomainError(f"{zh}金额不对：{text}", f"{en}: not an amount: {text}", code="bad_amount")
    return fen


@router.post("/move-in/{move_in_id}/pay")
async def pay(request: Request, console: Cashier, db: DbSession, now: Now, move_in_id: RowId) -> Response:
    """Fees by the estate's fee list (`fee_<code>` in yuan for each active line, offered at its standard amount),
    what the owner handed over, the read-back tick, the receipt."""
    form = await request.form()
    read_back = form.get("read_back") == "true"
    receipt = form.get("receipt_no", "")

    def take(record: MoveIn, estate: Estate) -> None:
        listed = fee_list.items(db, estate, active_only=True)
        lines = {i.code: _fen(form, f"fee_{i.code}", i.name_zh, i.name_en or i.name_zh) for i in listed}
        tendered = _fen(form, "tendered", "实收", "Handed over")
        payment = desk.Payment(lines, tendered, read_back, receipt[:40] if isinstance(receipt, str) else "")
        desk.pay(db, console.actor, record, payment, by=console.user, now=now)

    return _step(request, db, console, move_in_id, "pay", take)


@router.post("/move-in/{move_in_id}/pack")
def hand_pack(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    move_in_id: RowId,
    items: Codes = [],  # noqa: B006
) -> Response:
    def take(record: MoveIn, estate: Estate) -> None:
        desk.hand_pack(db, console.actor, record, items=items, by=console.user, now=now)

    return _step(request, db, console, move_in_id, "hand_pack", take)


@router.post("/move-in/{move_in_id}/inspect", max_body_size=SIGNATURE_BODY)
async def inspect(request: Request, console: Inspector, db: DbSession, now: Now, move_in_id: RowId) -> Response:
    """The facilities form: `result_<line>` pass/fail and `fix_<line>` the rectification item; the meters; the
    owner's signature."""
    form = await request.form()

    def field(name: str, limit: int = 200) -> str:
        value = form.get(name, "")
        return value[:limit] if isinstance(value, str) else ""

    def take(record: MoveIn, estate: Estate) -> None:
        results = {
            code: (field(f"result_{code}") == "pass", field(f"fix_{code}"))
            for code in desk.FACILITIES
            if field(f"result_{code}") in ("pass", "fail")
        }
        inspection = desk.Inspection(
            results, field("water", 20), field("electricity", 20), field("signature", signatures.MAX_DATA_URL)
        )
        desk.inspect(db, console.actor, record, inspection, by=console.user, now=now)

    return _step(request, db, console, move_in_id, "inspect", take)


@router.post("/move-in/{move_in_id}/keys", max_body_size=SIGNATURE_BODY)
def issue_keys(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    move_in_id: RowId,
    receipt_no: Short = "",
    signature: Signature = "",
    kept_key: Short = "",
    rectification_receipt_no: Short = "",
) -> Response:
    def take(record: MoveIn, estate: Estate) -> None:
        kept = row_id(kept_key, "留用的钥匙", "key kept") if kept_key.strip() else None
        issue = desk.KeyIssue(receipt_no, signature, kept, rectification_receipt_no)
        desk.issue_keys(db, console.actor, estate, record, issue, by=console.user, now=now)

    return _step(request, db, console, move_in_id, "issue_keys", take)


@router.post("/move-in/{move_in_id}/rectification-key")
def return_rectification_key(
    request: Request, console: Desk, db: DbSession, now: Now, move_in_id: RowId, receipt_no: Short = ""
) -> Response:
    """R-KEY-9: the owner collects the door key kept for the rectification with their receipt."""

    def take(record: MoveIn, estate: Estate) -> None:
        desk.return_rectification_key(
            db, console.actor, estate, record, receipt_no=receipt_no, by=console.user, now=now
        )

    return _step(request, db, console, move_in_id, "rectification_key", take)


@router.post("/move-in/{move_in_id}/file")
def file(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    move_in_id: RowId,
    done: Codes = [],  # noqa: B006
) -> Response:
    def take(record: MoveIn, estate: Estate) -> None:
        desk.file(db, console.actor, estate, record, done=done, by=console.user, now=now)

    return _step(request, db, console, move_in_id, "file", take)


@router.post("/move-in/{move_in_id}/cancel")
def cancel(request: Request, console: Desk, db: DbSession, now: Now, move_in_id: RowId, note: Note = "") -> Response:
    def take(record: MoveIn, estate: Estate) -> None:
        desk.cancel(db, console.actor, record, by=console.user, now=now, note=note)

    return _step(request, db, console, move_in_id, "cancel", take)
