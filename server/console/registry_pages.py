"""Registry pages of the console: units with their arrears, residents, and importing the office's resident sheet.

Also the small view helpers every console listing shares (money in ¥, times in the estate's zone, HTMX fragments).
"""

from __future__ import annotations

import io
from collections.abc import Callable
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from openpyxl import Workbook
from openpyxl.styles import Font
from sqlalchemy.orm import Session
from starlette.datastructures import UploadFile

from server.console.i18n import translate
from server.console.pages import form_action, language, render
from server.console.spreadsheet import inert_row
from server.contract.fields import Text
from server.db.models import Estate, OccupancyKind, Unit
from server.domain import clock, importing, registry
from server.domain.errors import NotFound
from server.domain.permissions import Perm
from server.web.deps import Console, ConsoleForm, DbSession, DbWriter, require
from server.web.limits import IMPORT_BODY, MAX_UPLOAD
from server.web.params import PageNo, RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.registry_view)]
Importer = Annotated[Console, require(Perm.registry_import)]
Finance = Annotated[Console, require(Perm.arrears_edit)]

RESULTS = "results"  # the id of the element a listing's filter form swaps
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


# --- view helpers shared by the console's pages -------------------------------------------------------------------


def yuan(fen: int) -> str:
    """Integer fen as ¥ with thousands separators: 123456 → ¥1,234.56."""
    whole, cents = divmod(abs(fen), 100)
    return f"{'-' if fen < 0 else ''}¥{whole:,}.{cents:02d}"


def parse_yuan(text: str) -> int | None:
    """A typed amount of yuan (¥ sign, separators and up to two decimals allowed) in fen; None if it is not one."""
    cleaned = "".join(c for c in text if c not in "¥￥,，  ")
    try:
        amount = Decimal(cleaned)
        if not amount.is_finite() or amount != amount.quantize(Decimal("0.01")):
            return None
    except InvalidOperation:
        return None
    return int(amount * 100)


def local_formatter(estate: Estate | None) -> Callable[[datetime | None], str]:
    return lambda at: clock.local_text(estate, at, empty="—")


def view(request: Request, console: Console, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """Render a console page with the helpers its templates use; listings vary on whether HTMX asked."""
    response = render(
        request,
        template,
        status=status,
        console=console,
        yuan=yuan,
        local=local_formatter(console.estate),
        **context,
    )
    response.headers["Vary"] = "HX-Request, HX-Target"
    return response


def wants_fragment(request: Request, target: str = RESULTS) -> bool:
    """True when HTMX asks to swap only `target` (a history restore wants the whole page back)."""
    headers = request.headers
    return (
        headers.get("hx-request") == "true"
        and headers.get("hx-target") == target
        and headers.get("hx-history-restore-request") != "true"
    )


def flash_key(done: str, known: frozenset[str]) -> str:
    """The translation key of a confirmation named in a redirect's `done=` (only known ones are shown)."""
    return f"flash.{done}" if done in known else ""


def page_size(request: Request) -> int:
    return request.app.state.settings.page_size


# --- units --------------------------------------------------------------------------------------------------------


@router.get("/units")
def units(
    request: Request,
    console: Viewer,
    db: DbSession,
    q: Annotated[Text, Query(max_length=20)] = "",
    building: Annotated[Text, Query(max_length=8)] = "",
    arrears: bool = False,
    vacant: bool = False,
    page: PageNo = 1,
) -> Response:
    estate = console.require_estate()
    found = registry.search_units(
        db, estate, q=q, building=building, in_arrears=arrears, vacant=vacant, page=page, size=page_size(request)
    )
    context = {"page": found, "q": q, "building": building, "arrears": arrears, "vacant": vacant}
    if wants_fragment(request):
        return view(request, console, "units_table.html", **context)
    return view(request, console, "units.html", buildings=registry.buildings(db, estate), **context)


def _unit_in_estate(db: Session, console: Console, unit_id: int) -> Unit:
    unit = db.get(Unit, unit_id)
    if unit is None or unit.estate_id != console.require_estate().id:
        raise NotFound("本小区没有这个房屋", "no such unit in this estate", code="unknown_unit")
    return unit


def _unit_page(
    request: Request, db: Session, console: Console, unit: Unit, *, status: int = 200, **context: Any
) -> HTMLResponse:
    today = clock.today(console.require_estate())
    occupancies = sorted(unit.occupancies, key=lambda o: o.starts_on, reverse=True)
    return view(
        request,
        console,
        "unit.html",
        status=status,
        unit=unit,
        current=[o for o in occupancies if o.current_on(today)],
        past=[o for o in occupancies if not o.current_on(today)],
        history=registry.arrears_history(db, unit),
        **context,
    )


@router.get("/units/{unit_id}")
def unit_detail(request: Request, console: Viewer, db: DbSession, unit_id: RowId, done: Text = "") -> Response:
    unit = _unit_in_estate(db, console, unit_id)
    return _unit_page(request, db, console, unit, flash=flash_key(done, frozenset({"arrears_saved"})))


@router.post("/units/{unit_id}/arrears")
def set_unit_arrears(
    request: Request,
    console: Finance,
    db: DbSession,
    unit_id: RowId,
    balance: Annotated[Text, Form(max_length=30)] = "",
    note: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    unit = _unit_in_estate(db, console, unit_id)
    fen = parse_yuan(balance)
    if fen is None or fen > registry.MAX_ARREARS_FEN:
        key = "unit.arrears_bad_amount" if fen is None else "unit.arrears_too_large"
        message = translate(language(request), key, value=balance)
        return _unit_page(request, db, console, unit, status=400, error=message, balance=balance, note=note)

    def save() -> Response:
        registry.set_arrears(db, console.actor, unit, fen, note.strip())
        return RedirectResponse(f"/console/units/{unit.id}?done=arrears_saved", status_code=303)

    def form_again(status: int, error: str) -> Response:
        return _unit_page(request, db, console, unit, status=status, error=error, balance=balance, note=note)

    return form_action(request, db, save, form_again)


# --- residents ----------------------------------------------------------------------------------------------------


@router.get("/residents")
def residents(
    request: Request,
    console: Viewer,
    db: DbSession,
    q: Annotated[Text, Query(max_length=60)] = "",
    kind: Annotated[Text, Query(max_length=10)] = "",
    current: bool = False,
    page: PageNo = 1,
) -> Response:
    estate = console.require_estate()
    chosen = OccupancyKind(kind) if kind in OccupancyKind.__members__ else None
    today = clock.today(estate)
    found = registry.search_residents(
        db,
        estate,
        q=q,
        kind=chosen,
        current_on=today if current else None,
        page=page,
        size=page_size(request),
    )
    context = {"page": found, "q": q, "kind": chosen.value if chosen else "", "current": current, "today": today}
    template = "residents_table.html" if wants_fragment(request) else "residents.html"
    return view(request, console, template, kinds=list(OccupancyKind), **context)


# --- importing the resident sheet ---------------------------------------------------------------------------------


def _columns(lang: str) -> list[tuple[str, str, bool]]:
    """(Chinese header, explanation, required) for each column the import reads, in the template's order."""
    return [
        (aliases[0], translate(lang, f"import.col.{field}"), field in importing.REQUIRED)
        for field, aliases in importing.HEADERS.items()
    ]


@router.get("/residents/import")
def import_form(request: Request, console: Importer) -> Response:
    console.require_estate()
    return view(request, console, "import.html", columns=_columns(language(request)))


@router.post("/residents/import", max_body_size=IMPORT_BODY)
def import_sheet(
    request: Request,
    console: Importer,
    db: DbSession,
    form: ConsoleForm,
    writer: DbWriter,
) -> Response:
    """The sheet arrives as the form's `sheet` file, read only after the session check (not as a body parameter,
    which would be read before it)."""
    estate = console.require_estate()
    sheet = form.get("sheet") if form is not None else None
    lang = language(request)

    def answer(status: int, **context: Any) -> Response:
        return view(request, console, "import.html", status=status, columns=_columns(lang), **context)

    if not isinstance(sheet, UploadFile) or not sheet.filename:
        return answer(400, error=translate(lang, "import.no_file"))
    content, filename = sheet.file.read(MAX_UPLOAD + 1), sheet.filename
    if len(content) > MAX_UPLOAD:
        return answer(413, error=translate(lang, "import.too_large", mb=MAX_UPLOAD // (1024 * 1024)))

    def imported() -> Response:
        # A refused or faulty sheet writes nothing: the rows go through the writer only once all of them are good.
        report = importing.import_residents(db, console.actor, estate, filename, content, writer=writer)
        return answer(200 if report.ok else 422, report=report, filename=filename)

    return form_action(request, db, imported, lambda status, message: answer(status, error=message, filename=filename))


@router.get("/residents/import/template.xlsx")
def import_template(request: Request, console: Importer) -> Response:
    """An empty sheet with the headers the import expects, and a second sheet explaining each column."""
    console.require_estate()
    lang = language(request)
    book = Workbook()
    sheet = book.active
    sheet.title = translate(lang, "import.sheet.residents")
    columns = _columns(lang)
    sheet.append(inert_row(header for header, _, _ in columns))
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for letter in "ABCDEFGH"[: len(columns)]:
        sheet.column_dimensions[letter].width = 16
    notes = book.create_sheet(translate(lang, "import.sheet.notes"))
    notes.append(
        inert_row([translate(lang, "import.column"), translate(lang, "import.meaning"), translate(lang, "import.req")])
    )
    for header, meaning, required in columns:
        required_text = translate(lang, "import.required" if required else "import.optional")
        notes.append(inert_row([header, meaning, required_text]))
    notes.column_dimensions["A"].width = 14
    notes.column_dimensions["B"].width = 70
    buffer = io.BytesIO()
    book.save(buffer)
    return Response(
        buffer.getvalue(),
        media_type=XLSX,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''resident-import-template.xlsx"},
    )
