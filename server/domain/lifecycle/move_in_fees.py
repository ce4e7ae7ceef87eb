"""The move-in fee list 《入伙费用一览表》 of an estate (R-MOVE): its lines in their printed order, each with a
standard amount in fen (0: the amount is typed at the desk) that the fee step offers. An estate's list starts as the
default list below the first time it is used; the CS manager or finance then edit amounts and names, add lines,
retire and restore them and change their order. A retired line stays (move-ins that charged it keep its code), and a
move-in already paid keeps the lines and amounts it was charged."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import Estate
from server.db.models.lifecycle import MoveInFeeItem
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound

# The list an estate starts with: code → (Chinese, English), in its printed order.
DEFAULT_FEES: dict[str, tuple[str, str]] = {
    "management": ("物业管理费（预收）", "Management fee (in advance)"),
    "water_deposit": ("水费周转金", "Water float"),
    "power_deposit": ("电费周转金", "Electricity float"),
    "renovation_waste": ("装修垃圾清运费", "Renovation waste removal"),
    "access_cards": ("门禁卡工本费", "Access cards"),
}
CODE = re.compile(r"[a-z0-9][a-z0-9_]{0,19}")
MAX_AMOUNT_FEN = 10_000_000  # ¥100,000: above any line of the list, below a typing slip's extra zeros


@dataclass(frozen=True)
class FeeLine:
    """A line as typed into the list's form (the code is fixed once the line exists)."""

    name_zh: str
    amount_fen: int
    name_en: str = ""


def items(session: Session, estate: Estate, *, active_only: bool = False) -> list[MoveInFeeItem]:
    """The estate's list in its printed order; the default list the first time it is asked for."""
    seed(session, estate)
    query = select(MoveInFeeItem).where(MoveInFeeItem.estate_id == estate.id)
    if active_only:
        query = query.where(MoveInFeeItem.active.is_(True))
    return list(session.scalars(query.order_by(MoveInFeeItem.position, MoveInFeeItem.id)))


def standard_lines(session: Session, estate: Estate) -> dict[str, int]:
    """The active lines with a standard amount: what a move-in is charged when the desk takes the list as it is."""
    return {i.code: i.amount_fen for i in items(session, estate, active_only=True) if i.amount_fen}


def charged_names(session: Session, estate: Estate, lines: Mapping[str, int]) -> dict[str, tuple[str, str]]:
    """The names of `lines` on the estate's active list; a code not on it is refused (`bad_fee`), as is a negative
    amount."""
    active = {i.code: (i.name_zh, i.name_en) for i in items(session, estate, active_only=True)}
    unknown = [code for code in lines if code not in active]
    if unknown or any(fen < 0 for fen in lines.values()):
        raise DomainError(
            f"费用项目不在本小区的费用一览表上或金额为负：{'、'.join(unknown)}",
            f"a fee is not on the estate's fee list or is negative: {', '.join(unknown)}",
            code="bad_fee",
            fields=unknown,
        )
    return {code: active[code] for code in lines}


def get_item(session: Session, estate: Estate, item_id: int) -> MoveInFeeItem:
    item = session.get(MoveInFeeItem, item_id)
    if item is None or item.estate_id != estate.id:
        raise NotFound("费用一览表中没有该项目", "no such line on the fee list", code="fee_item_not_found")
    return item


def seed(session: Session, estate: Estate) -> None:
    """The default list for an estate that has none yet (a new estate, or one from before the list was a table)."""
    if session.scalar(select(MoveInFeeItem.id).where(MoveInFeeItem.estate_id == estate.id).limit(1)) is not None:
        return
    for n, (code, (zh, en)) in enumerate(DEFAULT_FEES.items(), start=1):
        session.add(
            MoveInFeeItem(
                estate_id=estate.id, code=code, name_zh=zh, name_en=en, amount_fen=0, position=n, updated_by="system"
            )
        )
    session.flush()


def _checked(line: FeeLine) -> FeeLine:
    if not line.name_zh.strip():
        raise DomainError("请填写项目名称", "give the line's name", code="missing_fields", fields=["name_zh"])
    if len(line.name_zh.strip()) > 60 or len(line.name_en.strip()) > 80:
        raise DomainError("项目名称过长", "the name is too long", code="too_long")
    if not 0 <= line.amount_fen <= MAX_AMOUNT_FEN:
        raise DomainError(
            "金额须在 0 至 100,000 元之间",
            "the amount must be between ¥0 and ¥100,000",
            code="bad_amount",
            fields=["amount"],
        )
    return line


def _apply(item: MoveInFeeItem, line: FeeLine, actor: Actor, at: datetime) -> None:
    item.name_zh, item.name_en, item.amount_fen = line.name_zh.strip(), line.name_en.strip(), line.amount_fen
    item.updated_by, item.updated_at = actor.label, at


def add_item(session: Session, actor: Actor, estate: Estate, code: str, line: FeeLine, at: datetime) -> MoveInFeeItem:
    """A new line at the end of the list; its code is unique within the estate's list."""
    _checked(line)
    code = code.strip().lower()
    if not CODE.fullmatch(code):
        raise DomainError(
            "编码只能用小写字母、数字和下划线（至多 20 个）",
            "a code is lower-case letters, digits and underscores (at most 20)",
            code="bad_code",
            fields=["code"],
        )
    listed = items(session, estate)
    if any(i.code == code for i in listed):
        raise Conflict(
            f"编码「{code}」已在费用一览表中", f"the code {code!r} is already on the list", code="code_taken"
        )
    last = session.scalar(select(func.max(MoveInFeeItem.position)).where(MoveInFeeItem.estate_id == estate.id))
    item = MoveInFeeItem(estate_id=estate.id, code=code, position=(last or 0) + 1, active=True)
    _apply(item, line, actor, at)
    session.add(item)
    session.flush()
    audit.record(
        session, actor, "move_in_fee.added", "move_in_fee_item", item.id, estate_id=estate.id, code=code,
        amount_fen=item.amount_fen,
    )  # fmt: skip
    return item


def edit_item(
    session: Session, actor: Actor, estate: Estate, item_id: int, line: FeeLine, at: datetime
) -> MoveInFeeItem:
    """A line's names and standard amount (not its code: charged move-ins refer to it). Move-ins already paid keep
    what they were charged."""
    item = get_item(session, estate, item_id)
    _checked(line)
    before = item.amount_fen
    _apply(item, line, actor, at)
    session.flush()
    audit.record(
        session, actor, "move_in_fee.edited", "move_in_fee_item", item.id, estate_id=estate.id, code=item.code,
        amount_before=before, amount_fen=item.amount_fen, name_zh=item.name_zh,
    )  # fmt: skip
    return item


def set_active(
    session: Session, actor: Actor, estate: Estate, item_id: int, active: bool, at: datetime
) -> MoveInFeeItem:
    """Retire a line (the fee step no longer offers it) or bring it back."""
    item = get_item(session, estate, item_id)
    if item.active == active:
        return item
    item.active, item.updated_by, item.updated_at = active, actor.label, at
    session.flush()
    action = "move_in_fee.restored" if active else "move_in_fee.retired"
    audit.record(session, actor, action, "move_in_fee_item", item.id, estate_id=estate.id, code=item.code)
    return item


def move(session: Session, actor: Actor, estate: Estate, item_id: int, up: bool, at: datetime) -> MoveInFeeItem:
    """Swap a line with the one above (or below) it on the printed list; at the top (or bottom) nothing changes."""
    item = get_item(session, estate, item_id)
    listed = items(session, estate)
    at_index = next(n for n, i in enumerate(listed) if i.id == item.id)
    other_index = at_index - 1 if up else at_index + 1
    if not 0 <= other_index < len(listed):
        return item
    for n, line in enumerate(listed, start=1):  # positions made 1…n first, so a swap is always a real change
        line.position = n
    other = listed[other_index]
    item.position, other.position = other.position, item.position
    item.updated_by, item.updated_at = actor.label, at
    session.flush()
    audit.record(
        session, actor, "move_in_fee.moved", "move_in_fee_item", item.id, estate_id=estate.id, code=item.code,
        position=item.position,
    )  # fmt: skip
    return item
