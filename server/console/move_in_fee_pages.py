"""The estate's move-in fee list 《入伙费用一览表》 in the console (R-MOVE): whoever sees the move-in desk reads it;
the CS manager and finance (`movein.fee_list`) change a line's names and standard amount, add lines, retire and
restore them and move them up or down the printed order. Mounted before the move-in pages (`/move-in/fees` is not a
move-in's number)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.key_pages import pdf_file
from server.console.pages import form_action, language
from server.console.registers import Column, Register, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, view, yuan
from server.console.service_repair_pages import amount
from server.contract.fields import Text
from server.domain.lifecycle import move_in_fees as fee_list
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, Now, require
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.movein_view)]
Keeper = Annotated[Console, require(Perm.movein_fee_list)]
Field = Annotated[Text, Form(max_length=80)]
DONE = frozenset({"fee_added", "fee_saved", "fee_retired", "fee_restored", "fee_moved"})
HERE = "/console/move-in/fees"


def _page(request: Request, db: Session, console: Console, *, status: int = 200, **context: Any) -> HTMLResponse:
    estate = console.require_estate()
    return view(
        request,
        console,
        "lifecycle/move_in_fees.html",
        status=status,
        lines=fee_list.items(db, estate),
        can_edit=console.can(Perm.movein_fee_list),
        v=context.pop("v", {}),
        **context,
    )


@router.get("/move-in/fees")
def fee_page(request: Request, console: Viewer, db: DbSession, done: Text = "") -> Response:
    return _page(request, db, console, flash=flash_key(done, DONE))


FEE_LIST = Register(
    "move-in-fees",
    "《入伙费用一览表》",
    "Move-in fee list",
    (
        Column("no", "序号", "No.", 6),
        Column("code", "代码", "Code", 14),
        Column("name", "收费项目", "Item", 50),
        Column("amount", "标准金额（元）", "Standard amount (yuan)", 20),
    ),
    signatures=(("制表人", "Prepared by"), ("客服经理", "CS manager"), ("财务", "Finance")),
    landscape=False,
    blank_lines=3,
)


@router.get("/move-in/fees/export.{fmt}")
def export_fees(request: Request, console: Viewer, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"]) -> Response:
    """The list the cashier works from, as it stands (active lines in their printed order): for the counter's wall
    and the move-in pack. An amount of 0 is typed at the desk."""
    estate = console.require_estate()
    lang = language(request)
    rows = [
        {
            "no": n,
            "code": item.code,
            "name": item.name_zh if lang == "zh" or not item.name_en else item.name_en,
            "amount": yuan(item.amount_fen) if item.amount_fen else ("现场填写" if lang == "zh" else "at the desk"),
        }
        for n, item in enumerate(fee_list.items(db, estate, active_only=True), start=1)
    ]
    heading = f"{estate.name} · {now:%Y-%m-%d}"
    if fmt == "pdf":
        return pdf_file(register_pdf(FEE_LIST, rows, lang=lang, heading=heading), "move-in-fees.pdf")
    return Response(
        register_xlsx(FEE_LIST, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": "attachment; filename*=UTF-8''move-in-fees.xlsx"},
    )


def _line(name_zh: str, name_en: str, price: str) -> fee_list.FeeLine:
    return fee_list.FeeLine(name_zh, amount(price.strip() or "0", "金额", "the amount"), name_en=name_en)


@router.post("/move-in/fees")
def add_fee(
    request: Request,
    console: Keeper,
    db: DbSession,
    now: Now,
    code: Field = "",
    name_zh: Field = "",
    name_en: Field = "",
    price: Field = "",
) -> Response:
    def add() -> Response:
        fee_list.add_item(db, console.actor, console.require_estate(), code, _line(name_zh, name_en, price), now)
        return RedirectResponse(f"{HERE}?done=fee_added", status_code=303)

    values = {"code": code, "name_zh": name_zh, "name_en": name_en, "price": price}
    return form_action(
        request, db, add, lambda status, error: _page(request, db, console, status=status, error=error, v=values)
    )


@router.post("/move-in/fees/{fee_id}")
def edit_fee(
    request: Request,
    console: Keeper,
    db: DbSession,
    now: Now,
    fee_id: RowId,
    name_zh: Field = "",
    name_en: Field = "",
    price: Field = "",
) -> Response:
    estate = console.require_estate()
    fee_list.get_item(db, estate, fee_id)

    def save() -> Response:
        fee_list.edit_item(db, console.actor, estate, fee_id, _line(name_zh, name_en, price), now)
        return RedirectResponse(f"{HERE}?done=fee_saved", status_code=303)

    return form_action(
        request,
        db,
        save,
        lambda status, error: _page(request, db, console, status=status, error=error, failed=fee_id),
    )


@router.post("/move-in/fees/{fee_id}/active")
def set_fee_active(
    console: Keeper, db: DbSession, now: Now, fee_id: RowId, active: Annotated[bool, Form()] = False
) -> Response:
    """Retire a line (move-ins that charged it keep it) or bring it back."""
    fee_list.set_active(db, console.actor, console.require_estate(), fee_id, active, now)
    return RedirectResponse(f"{HERE}?done={'fee_restored' if active else 'fee_retired'}", status_code=303)


@router.post("/move-in/fees/{fee_id}/move")
def move_fee(
    console: Keeper, db: DbSession, now: Now, fee_id: RowId, to: Annotated[Literal["up", "down"], Form()] = "up"
) -> Response:
    """One place up or down the printed list."""
    fee_list.move(db, console.actor, console.require_estate(), fee_id, to == "up", now)
    return RedirectResponse(f"{HERE}?done=fee_moved", status_code=303)
