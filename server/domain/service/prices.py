"""The service price list 《便民服务一览表》 (R-REP-3, R-CLN-1): the common repairs and cleaning services with their
prices in fen, under categories. The CS admin adds, edits and retires lines; a retired line stays, so orders that
used it keep it, and it can be brought back. Intake prices a paid order from here (`intake.price_item`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, PriceItem, ServiceKind
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound

CODE = re.compile(r"[a-z0-9][a-z0-9-]{0,19}")
MAX_PRICE_FEN = 10_000_000  # ¥100,000: far above any line of the list, below a typing slip's extra zeros


@dataclass(frozen=True)
class PriceLine:
    """A line as typed into the form: the code is fixed once the line exists."""

    kind: ServiceKind
    code: str
    category: str
    name_zh: str
    price_fen: int
    name_en: str = ""
    unit_zh: str = "次"
    sort: int = 0


def items(
    session: Session, estate: Estate, kind: ServiceKind | None = None, *, active_only: bool = False
) -> list[PriceItem]:
    """The list in its printed order: by kind, category, the line's place, code."""
    query = select(PriceItem).where(PriceItem.estate_id == estate.id)
    if kind is not None:
        query = query.where(PriceItem.kind == kind)
    if active_only:
        query = query.where(PriceItem.active.is_(True))
    return list(session.scalars(query.order_by(PriceItem.kind, PriceItem.category, PriceItem.sort, PriceItem.code)))


def categories(session: Session, estate: Estate, kind: ServiceKind) -> list[str]:
    """The categories the list uses for `kind`, for the order forms' choices."""
    found = session.scalars(
        select(PriceItem.category).where(PriceItem.estate_id == estate.id, PriceItem.kind == kind).distinct()
    )
    return sorted(found)


def get_item(session: Session, estate: Estate, item_id: int) -> PriceItem:
    item = session.get(PriceItem, item_id)
    if item is None or item.estate_id != estate.id:
        raise NotFound("价目表中没有该项目", "no such line on the price list", code="price_item_not_found")
    return item


def _checked(line: PriceLine) -> PriceLine:
    missing = [name for name in ("category", "name_zh") if not getattr(line, name).strip()]
    if missing:
        raise DomainError("请填写类别和名称", "give the category and the name", code="missing_fields", fields=missing)
    if not 0 <= line.price_fen <= MAX_PRICE_FEN:
        raise DomainError(
            "价格须在 0 至 100,000 元之间", "the price must be between ¥0 and ¥100,000", code="bad_price", field="price"
        )
    if len(line.category.strip()) > 20 or len(line.name_zh.strip()) > 60 or len(line.name_en.strip()) > 80:
        raise DomainError("类别或名称过长", "the category or a name is too long", code="too_long")
    if not line.unit_zh.strip() or len(line.unit_zh.strip()) > 10:
        raise DomainError("请填写计价单位（如：次）", "give the unit priced (such as 次)", code="missing_fields")
    return line


def add_item(session: Session, actor: Actor, estate: Estate, line: PriceLine, at: datetime) -> PriceItem:
    """A new line; its code is unique within the estate's list of that kind."""
    _checked(line)
    code = line.code.strip().lower()
    if not CODE.fullmatch(code):
        raise DomainError(
            "编码只能用小写字母、数字和连字符（至多 20 个）",
            "a code is lower-case letters, digits and hyphens (at most 20)",
            code="bad_code",
            field="code",
        )
    taken = session.scalar(
        select(PriceItem.id).where(
            PriceItem.estate_id == estate.id, PriceItem.kind == line.kind, PriceItem.code == code
        )
    )
    if taken is not None:
        raise Conflict(f"编码「{code}」已在价目表中", f"the code {code!r} is already on the list", code="code_taken")
    item = PriceItem(estate_id=estate.id, kind=line.kind, code=code, active=True)
    _apply(item, line, actor, at)
    session.add(item)
    session.flush()
    audit.record(
        session, actor, "price_item.added", "price_item", item.id, estate_id=estate.id, code=code,
        kind=line.kind.value, price_fen=item.price_fen,
    )  # fmt: skip
    return item


def edit_item(session: Session, actor: Actor, estate: Estate, item_id: int, line: PriceLine, at: datetime) -> PriceItem:
    """Change a line's category, names, unit, price or place (not its code or kind: orders refer to them)."""
    item = get_item(session, estate, item_id)
    _checked(line)
    before = item.price_fen
    _apply(item, line, actor, at)
    session.flush()
    audit.record(
        session, actor, "price_item.edited", "price_item", item.id, estate_id=estate.id, code=item.code,
        price_before=before, price_fen=item.price_fen,
    )  # fmt: skip
    return item


def set_active(session: Session, actor: Actor, estate: Estate, item_id: int, active: bool, at: datetime) -> PriceItem:
    """Retire a line (new orders can no longer use it) or bring it back."""
    item = get_item(session, estate, item_id)
    if item.active == active:
        return item
    item.active, item.updated_by, item.updated_at = active, actor.label, at
    session.flush()
    action = "price_item.restored" if active else "price_item.retired"
    audit.record(session, actor, action, "price_item", item.id, estate_id=estate.id, code=item.code)
    return item


def _apply(item: PriceItem, line: PriceLine, actor: Actor, at: datetime) -> None:
    item.category = line.category.strip()
    item.name_zh = line.name_zh.strip()
    item.name_en = line.name_en.strip()
    item.unit_zh = line.unit_zh.strip()
    item.price_fen = line.price_fen
    item.sort = line.sort
    item.updated_by, item.updated_at = actor.label, at
