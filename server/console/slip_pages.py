"""Release-slip pages of the console: the register 《物品放行条记录单》 with search and export, issuing a slip
(owner, tenant or proxy), a slip's detail and timeline, and the countersigns still owed (R-REL-2…5)."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData, UploadFile

from server.console.i18n import translate
from server.console.key_pages import pdf_file
from server.console.pages import form_action, language
from server.console.registers import Column, Register, register_pdf
from server.console.registry_pages import XLSX, flash_key, page_size, view, wants_fragment
from server.console.slip_exports import REGISTER_COLUMNS, register_csv, register_row, register_xlsx
from server.contract.fields import Text, check_text, parse_day, to_utc
from server.db.models import ApplicantKind, AuditEntry, Estate, ReleaseSlip, SlipItem, SlipState
from server.domain import clock, registry
from server.domain.errors import DomainError, NotFound
from server.domain.permissions import Perm
from server.domain.slips import catalogue, eligibility, issuing, paper, printing, register
from server.web.deps import Console, DbSession, Now, require
from server.web.limits import SLIP_FORM_BODY
from server.web.params import ROW_ID, RowId, RowIdQuery

router = APIRouter()

Viewer = Annotated[Console, require(Perm.slips_view)]
Issuer = Annotated[Console, require(Perm.slips_issue)]

LINES = 10
DONE = frozenset(
    {"slip_issued", "slip_reprinted", "slip_cancelled", "slip_countersigned", "slip_reissued", "slip_printed"}
)
PRINTER_COOKIE = "estate_printer"  # the printer this workstation prints slips on: a device id, "page" or "pdf"


def _filter(day: str, unit: str, state: str, kind: str, number: str) -> register.RegisterFilter:
    try:
        chosen_day = parse_day(day) if day else None
    except ValueError:
        chosen_day = None
    return register.RegisterFilter(
        day=chosen_day,
        unit=unit,
        state=SlipState(state) if state in SlipState.__members__ else None,
        applicant=ApplicantKind(kind) if kind in ApplicantKind.__members__ else None,
        number=number,
    )


Day = Annotated[Text, Query(max_length=10)]
UnitQ = Annotated[Text, Query(max_length=16)]
StateQ = Annotated[Text, Query(max_length=10)]
KindQ = Annotated[Text, Query(max_length=10)]
NumberQ = Annotated[Text, Query(max_length=24)]


def _item_name(request: Request, db: Session, estate: Estate) -> Callable[[SlipItem], str]:
    """A slip line's item name in the reader's language (the catalogue's English name in English)."""
    lang, english = language(request), catalogue.english_names(db, estate)
    return lambda line: catalogue.line_name(line, lang, english)


@router.get("/slips")
def slip_register(
    request: Request,
    console: Viewer,
    db: DbSession,
    day: Day = "",
    unit: UnitQ = "",
    state: StateQ = "",
    kind: KindQ = "",
    number: NumberQ = "",
    after: RowIdQuery = None,
) -> Response:
    estate = console.require_estate()
    f = _filter(day, unit, state, kind, number)
    found = register.page(db, estate, f, after=after, size=page_size(request))
    query = {"day": day, "unit": unit, "state": state, "kind": kind, "number": number}
    context = {
        "found": found,
        "query": query,
        "states": list(SlipState),
        "kinds": list(ApplicantKind),
        "item_name": _item_name(request, db, estate),
    }
    template = "slips/register_table.html" if wants_fragment(request) else "slips/register.html"
    return view(request, console, template, **context)


# The register's exports: writer and media type per file format.
EXPORTS = {"csv": (register_csv, "text/csv; charset=utf-8"), "xlsx": (register_xlsx, XLSX)}
WIDTHS = {
    "number": 22,
    "day": 15,
    "valid_until": 16,
    "released_at": 16,
    "revoked": 16,
    "items": 26,
    "applicant_kind": 9,
}
# The register on paper: the export's columns (their labels from the catalogue), signed by both sides of the daily
# reconciliation (R-REL-7).
PAPER = Register(
    "slip-register",
    "《物品放行条记录单》",
    "Release slip register",
    (
        *(
            Column(k, translate("zh", f"slips.col.{k}"), translate("en", f"slips.col.{k}"), WIDTHS.get(k, 11))
            for k in REGISTER_COLUMNS
        ),
        Column("signatures", translate("zh", "paper.col.signatures"), translate("en", "paper.col.signatures"), 14),
    ),
    signatures=(("客户管理员", "CS admin"), ("治安队长", "Security captain")),
    blank_lines=0,
)


@router.get("/slips/export.{fmt}")
def export(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    fmt: Literal["csv", "xlsx", "pdf"],
    day: Day = "",
    unit: UnitQ = "",
    state: StateQ = "",
    kind: KindQ = "",
    number: NumberQ = "",
) -> Response:
    """The register as filtered on screen, as CSV, XLSX or PDF; on paper it is a day's (today's unless one is
    chosen), as the CS admin binds it with the day's reconciliation (R-REL-4, 7)."""
    estate = console.require_estate()
    if fmt == "pdf" and not day:
        day = clock.local_day(estate, now).isoformat()
    rows = list(register.rows_for_export(db, estate, _filter(day, unit, state, kind, number)))
    lang = language(request)
    held = paper.signatures(db, [slip.id for slip in rows])

    def signed(slip: ReleaseSlip) -> str:
        """R-REL-2/3: whether the applicant signed and the owner countersigned, as the export shows it."""
        return "；".join(translate(lang, f"paper.signed.{k}") for k in sorted(held.get(slip.id, ())))

    t, item_name = (lambda k: translate(lang, k)), _item_name(request, db, estate)
    if fmt == "pdf":
        lines = [
            dict(zip((*REGISTER_COLUMNS, "signatures"), register_row(s, estate, t, item_name, signed), strict=True))
            for s in rows
        ]
        heading = " · ".join(p for p in (estate.name if lang == "zh" else (estate.name_en or estate.name), day) if p)
        return pdf_file(register_pdf(PAPER, lines, lang=lang, heading=heading), "slip-register.pdf")
    write, media_type = EXPORTS[fmt]
    body = write(rows, estate, t, item_name, signed)
    disposition = f"attachment; filename*=UTF-8''slip-register.{fmt}"
    return Response(body, media_type=media_type, headers={"Content-Disposition": disposition})


@router.get("/slips/countersign")
def countersigns(request: Request, console: Viewer, db: DbSession) -> Response:
    """R-REL-3: proxy slips whose owner has still to come and countersign."""
    pending = register.pending_countersigns(db, console.require_estate())
    return view(request, console, "slips/countersign.html", pending=pending)


# --- issuing --------------------------------------------------------------------------------------------------------


def _form_page(
    request: Request,
    db: Session,
    console: Console,
    *,
    status: int = 200,
    values: dict[str, Any] | None = None,
    error: Text = "",
    old: ReleaseSlip | None = None,
) -> Response:
    estate = console.require_estate()
    today = clock.local_day(estate, issuing.utcnow())
    defaults: dict[str, Any] = {
        "applicant": "owner",
        "planned_date": today.isoformat(),
        "valid_days": "1",
        "confirmed_by": console.user.display_name,
        "confirmed_at": datetime.now(clock.zone(estate)).strftime("%Y-%m-%dT%H:%M"),
    }
    if old is not None:
        defaults.update({"unit": old.unit_code, "applicant": old.applicant_kind.value, "applicant_name": ""})
        for item in old.items:
            defaults[f"code_{item.line}"] = item.code or ""
            defaults[f"name_{item.line}"] = "" if item.code else item.name
            defaults[f"qty_{item.line}"] = str(item.counted if item.counted else item.quantity)
    defaults.update(values or {})
    return view(
        request,
        console,
        "slips/new.html",
        status=status,
        v=defaults,
        error=error,
        old=old,
        lines=range(1, LINES + 1),
        items=catalogue.items(db, estate),
        kinds=list(ApplicantKind),
    )


@router.get("/slips/new")
def new_slip(request: Request, console: Issuer, db: DbSession, reissue: RowIdQuery = None) -> Response:
    old = issuing.get_slip(db, console.require_estate(), reissue) if reissue else None
    return _form_page(request, db, console, old=old)


def _text(form: FormData, name: str, limit: int = 200) -> str:
    value = form.get(name)
    if not isinstance(value, str):
        return ""
    try:
        check_text(value)
    except ValueError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise DomainError(f"{name}: {zh}", f"{name}: {en or zh}", code="bad_text") from None
    return value.strip()[:limit]


def _draft(form: FormData) -> issuing.SlipDraft:
    lines = []
    for n in range(1, LINES + 1):
        code, name, qty = _text(form, f"code_{n}", 8), _text(form, f"name_{n}", 40), _text(form, f"qty_{n}", 4)
        if not code and not name:
            continue
        if not (qty.isascii() and qty.isdigit()):  # int() refuses "²", which isdigit() accepts
            raise DomainError(f"第 {n} 行数量不对", f"line {n}: the quantity is not a number", code="bad_quantity")
        lines.append(issuing.LineDraft(code or None, None if code else name, int(qty)))
    try:
        planned = parse_day(_text(form, "planned_date", 10))
        valid_days = int(_text(form, "valid_days", 2) or "1")
    except ValueError:
        raise DomainError("计划日期或有效天数不对", "bad planned date or days", code="bad_planned_date") from None
    return issuing.SlipDraft(lines, planned, _text(form, "vehicle_plate", 12), _text(form, "note"), valid_days)


async def _upload(form: FormData) -> tuple[bytes, str]:
    """The proxy's ID copy as posted (bytes and media type); empty when none was."""
    upload = form.get("id_image")
    if isinstance(upload, UploadFile) and upload.filename:
        return await upload.read(eligibility.MAX_ID_IMAGE + 1), upload.content_type or ""
    return b"", ""


def _proxy(form: FormData, estate: Estate, id_image: tuple[bytes, str]) -> eligibility.ProxyDetails:
    try:
        local = datetime.fromisoformat(_text(form, "confirmed_at", 20))
        confirmed_at = to_utc(local.replace(tzinfo=clock.zone(estate)) if local.tzinfo is None else local)
    except ValueError:
        raise DomainError("确认时间不对", "bad confirmation time", code="bad_confirmation_time") from None
    return eligibility.ProxyDetails(
        proxy_name=_text(form, "proxy_name", 60),
        proxy_phone=_text(form, "proxy_phone", 20),
        confirmed_by=_text(form, "confirmed_by", 60),
        confirmed_at=confirmed_at,
        confirmation=_text(form, "confirmation"),
        id_image=id_image[0],
        id_media_type=id_image[1],
    )


def _signature(form: FormData) -> bytes | None:
    """The applicant's (or owner's) signature from the page's pad, when they signed (R-REL-2, R-REL-3)."""
    value = form.get("signature")
    return paper.from_data_url(value) if isinstance(value, str) and value.strip() else None


def _applicant_kind(form: FormData) -> ApplicantKind:
    kind = _text(form, "applicant", 10) or "owner"
    if kind not in ApplicantKind.__members__:
        raise DomainError("请选择申请人类型", "pick the kind of applicant", code="bad_applicant")
    return ApplicantKind(kind)


@router.post("/slips/new", max_body_size=SLIP_FORM_BODY)
async def issue_slip(request: Request, console: Issuer, db: DbSession, now: Now) -> Response:
    estate = console.require_estate()
    form = await request.form()
    values = {k: v for k, v in form.items() if isinstance(v, str) and k not in ("csrf_token", "signature")}
    reissue_of = _text(form, "reissue_of", 10)
    if reissue_of and not ROW_ID.fullmatch(reissue_of):
        raise NotFound("没有这张放行条", "no such slip", code="unknown_slip")
    old = issuing.get_slip(db, estate, int(reissue_of)) if reissue_of else None
    id_image = await _upload(form)

    def issue() -> Response:
        kind = _applicant_kind(form)
        unit = registry.get_unit(db, estate, old.unit_code if old else _text(form, "unit", 16))
        person = eligibility.find_person(unit, kind, _text(form, "applicant_name", 60), clock.today(estate, now))
        proxy = _proxy(form, estate, id_image) if kind == ApplicantKind.proxy else None
        signature = _signature(form)
        approval = issuing.request_slip(
            db,
            console.actor,
            estate,
            unit,
            kind,
            person,
            _draft(form),
            channel="console",
            proxy=proxy,
            reissue_of=old,
            now=now,
            signature=signature,
        )
        slip = approval.issue(db)
        done = "slip_reissued" if old else "slip_issued"
        return RedirectResponse(f"/console/slips/{slip.id}?done={done}", status_code=303)

    def form_again(status: int, error: str) -> Response:
        return _form_page(request, db, console, status=status, values=values, error=error, old=old)

    return form_action(request, db, issue, form_again)


def printed_where(entry: AuditEntry) -> str:
    """The printer a print or reprint in a slip's timeline went to."""
    try:
        where = json.loads(entry.detail or "{}").get("printer", "")
    except ValueError:
        return ""
    return where if isinstance(where, str) else ""


# --- one slip -------------------------------------------------------------------------------------------------------


@router.get("/slips/{slip_id}")
def slip_detail(request: Request, console: Viewer, db: DbSession, slip_id: RowId, done: Text = "") -> Response:
    return detail_page(request, db, console, slip_id, flash=flash_key(done, DONE))


def detail_page(
    request: Request, db: Session, console: Console, slip_id: int, *, status: int = 200, **context: Any
) -> Response:
    """A slip's page; `context` adds a confirmation (`flash`) or a refusal (`error`) to it."""
    estate = console.require_estate()
    found = register.detail(db, estate, slip_id)
    return view(
        request,
        console,
        "slips/detail.html",
        status=status,
        slip=found.slip,
        timeline=found.timeline,
        attachments=found.attachments,
        replaced_by=found.replaced_by,
        reissue_of=found.reissue_of,
        valid_local=clock.local_text(estate, found.slip.valid_until),
        item_name=_item_name(request, db, estate),
        printers=printing.printers(db, estate),
        chosen_printer=request.cookies.get(PRINTER_COOKIE, ""),
        printed_where=printed_where,
        **context,
    )


@router.get("/slips/{slip_id}/attachments/{attachment_id}")
def slip_attachment(console: Viewer, db: DbSession, slip_id: RowId, attachment_id: RowId) -> Response:
    found = register.attachment(db, console.require_estate(), slip_id, attachment_id)
    return Response(found.data, media_type=found.media_type, headers={"Cache-Control": "private, no-store"})


@router.post("/slips/{slip_id}/cancel")
async def cancel_slip(request: Request, console: Issuer, db: DbSession, slip_id: RowId) -> Response:
    reason = _text(await request.form(), "reason")
    issuing.cancel(db, console.actor, issuing.get_slip(db, console.require_estate(), slip_id), reason)
    return RedirectResponse(f"/console/slips/{slip_id}?done=slip_cancelled", status_code=303)


@router.post("/slips/{slip_id}/countersign", max_body_size=SLIP_FORM_BODY)
async def countersign_slip(request: Request, console: Issuer, db: DbSession, slip_id: RowId) -> Response:
    """R-REL-3: the owner countersigns the proxy's slip, on the pad of the page."""
    signature = _signature(await request.form())
    slip = issuing.get_slip(db, console.require_estate(), slip_id)
    issuing.countersign(db, console.actor, slip, console.user.display_name, signature=signature)
    return RedirectResponse(f"/console/slips/{slip_id}?done=slip_countersigned", status_code=303)
