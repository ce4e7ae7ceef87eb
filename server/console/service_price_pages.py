"""The service price list 《便民服务一览表》 in the console (R-REP-3, R-CLN-1): every role of the desk reads it; the
CS admin adds, edits, retires and restores lines; printed (PDF) for the front desk's counter and as XLSX."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.key_pages import pdf_file, translator
from server.console.pages import form_action, language
from server.console.registers import Column, Register, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, view, yuan
from server.console.service_repair_pages import amount
from server.contract.fields import Text
from server.db.models import PriceItem, ServiceKind
from server.domain.errors import DomainError
from server.domain.permissions import Perm
from server.domain.service import prices
from server.web.deps import Console, DbSession, Now, require
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.service_view)]
Keeper = Annotated[Console, require(Perm.service_catalogue)]
DONE = frozenset({"price_added", "price_saved", "price_retired", "price_restored"})

PRICE_LIST = Register(
    "price-list", "便民服务一览表", "Service price list",
    (Column("kind", "服务", "Service", 12), Column("category", "类别", "Category", 16),
     Column("code", "编码", "Code", 16), Column("name", "项目", "Item", 40), Column("unit", "单位", "Unit", 10),
     Column("price", "收费标准", "Price", 16)),
    landscape=False, blank_lines=0,
)  # fmt: skip


def _kind(text: str) -> ServiceKind | None:
    return ServiceKind(text) if text in ServiceKind.__members__ else None


def _list_page(
    request: Request, db: Session, console: Console, kind: ServiceKind | None, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    can_edit = console.can(Perm.service_catalogue)
    lines = prices.items(db, estate, kind, active_only=not can_edit)
    return view(
        request, console, "service/prices/list.html", status=status, lines=lines, kind=kind.value if kind else "",
        kinds=list(ServiceKind), can_edit=can_edit, v=context.pop("v", {"kind": "repair", "unit_zh": "次"}), **context,
    )  # fmt: skip


@router.get("/service/prices")
def price_list(
    request: Request, console: Viewer, db: DbSession, kind: Annotated[Text, Query(max_length=10)] = "", done: Text = ""
) -> Response:
    return _list_page(request, db, console, _kind(kind), flash=flash_key(done, DONE))


def _line(
    kind: str, code: str, category: str, name_zh: str, name_en: str, unit_zh: str, price: str, sort: str
) -> prices.PriceLine:
    chosen = _kind(kind)
    if chosen is None:
        raise DomainError("请选择服务类型", "choose repair or cleaning", code="missing_fields")
    order = int(sort) if sort.strip().isdigit() and len(sort.strip()) < 6 else 0
    fen = amount(price or "0", "价格", "the price")
    return prices.PriceLine(chosen, code, category, name_zh, fen, name_en=name_en, unit_zh=unit_zh, sort=order)


Field = Annotated[Text, Form(max_length=80)]


@router.post("/service/prices")
def add_line(
    request: Request, console: Keeper, db: DbSession, now: Now, kind: Field = "", code: Field = "",
    category: Field = "", name_zh: Field = "", name_en: Field = "", unit_zh: Field = "次", price: Field = "",
    sort: Field = "",
) -> Response:  # fmt: skip
    values = {"kind": kind, "code": code, "category": category, "name_zh": name_zh, "name_en": name_en,
              "unit_zh": unit_zh, "price": price, "sort": sort}  # fmt: skip

    def add() -> Response:
        line = _line(kind, code, category, name_zh, name_en, unit_zh, price, sort)
        prices.add_item(db, console.actor, console.require_estate(), line, now)
        return RedirectResponse(f"/console/service/prices?kind={kind}&done=price_added", status_code=303)

    return form_action(
        request, db, add,
        lambda status, error: _list_page(request, db, console, None, status=status, error=error, v=values),
    )  # fmt: skip


@router.post("/service/prices/{item_id}")
def edit_line(
    request: Request, console: Keeper, db: DbSession, now: Now, item_id: RowId, category: Field = "",
    name_zh: Field = "", name_en: Field = "", unit_zh: Field = "次", price: Field = "", sort: Field = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()
    item = prices.get_item(db, estate, item_id)
    kind, code = item.kind.value, item.code

    def save() -> Response:
        line = _line(kind, code, category, name_zh, name_en, unit_zh, price, sort)
        prices.edit_item(db, console.actor, estate, item_id, line, now)
        return RedirectResponse(f"/console/service/prices?kind={kind}&done=price_saved", status_code=303)

    return form_action(
        request, db, save,
        lambda status, error: _list_page(request, db, console, None, status=status, error=error, failed=item_id),
    )  # fmt: skip


@router.post("/service/prices/{item_id}/active")
def set_active(
    request: Request, console: Keeper, db: DbSession, now: Now, item_id: RowId,
    active: Annotated[bool, Form()] = False,
) -> Response:  # fmt: skip
    """Retire a line (orders that used it keep it) or bring it back."""
    item = prices.set_active(db, console.actor, console.require_estate(), item_id, active, now)
    done = "price_restored" if active else "price_retired"
    return RedirectResponse(f"/console/service/prices?kind={item.kind.value}&done={done}", status_code=303)


def _rows(lines: list[PriceItem], lang: str, free: str) -> list[dict[str, object]]:
    kind_name = {"repair": "维修" if lang == "zh" else "Repair", "cleaning": "清洁" if lang == "zh" else "Cleaning"}
    return [
        {"kind": kind_name[i.kind.value], "category": i.category, "code": i.code,
         "name": i.name_zh if lang == "zh" or not i.name_en else i.name_en, "unit": i.unit_zh,
         "price": yuan(i.price_fen) if i.price_fen else free}
        for i in lines
    ]  # fmt: skip


@router.get("/service/prices/export.{fmt}")
def export_list(
    request: Request, console: Viewer, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"],
    kind: Annotated[Text, Query(max_length=10)] = "",
) -> Response:  # fmt: skip
    """The list as it stands (active lines), for the counter and the office."""
    estate = console.require_estate()
    lang = language(request)
    rows = _rows(prices.items(db, estate, _kind(kind), active_only=True), lang, translator(request)("repairs.free"))
    heading = f"{estate.name} · {now:%Y-%m-%d}"
    if fmt == "pdf":
        return pdf_file(register_pdf(PRICE_LIST, rows, lang=lang, heading=heading), "price-list.pdf")
    return Response(
        register_xlsx(PRICE_LIST, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''price-list.xlsx"},
    )
