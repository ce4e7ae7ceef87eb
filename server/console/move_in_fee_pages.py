"""The estate's move-in fee list 《入伙费用一览表》 in the console (R-MOVE): whoever sees the move-in desk reads it;
the CS manager and finance (`movein.fee_list`) change a line's names and standard amount, add lines, retire and
restore them and move them up or down the printed order. Mounted before the move-in pages (`/move-in/fees` is not a
move-in's number)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.pages import form_action
from server.console.registry_pages import flash_key, view
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
