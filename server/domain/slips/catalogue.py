"""The editable catalogue of common items (R-REL-2: each item's name and quantity go on the slip)."""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy import func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.models import CatalogueItem, Estate, SlipItem
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound

CODE = re.compile(r"^[A-Z][A-Z0-9]{1,7}$")
MAX_NAME = 16

DEFAULT_ITEMS: tuple[tuple[str, str, str], ...] = (
    ("SOFA", "沙发", "sofa"),
    ("BED", "床", "bed"),
    ("MATT", "床垫", "mattress"),
    ("WARD", "衣柜", "wardrobe"),
    ("TABLE", "桌子", "table"),
    ("CHAIR", "椅子", "chair"),
    ("FRDG", "冰箱", "fridge"),
    ("WASH", "洗衣机", "washing machine"),
    ("TV", "电视机", "television"),
    ("AC", "空调", "air conditioner"),
    ("PC", "电脑", "computer"),
    ("BOX", "纸箱", "boxes"),
    ("BIKE", "自行车", "bicycle"),
    ("EBIKE", "电动车", "e-bike"),
    ("PIANO", "钢琴", "piano"),
)


def ensure_defaults(session: Session, estate: Estate) -> None:
    """Give an estate the common items the first time its catalogue is used. Several kiosks may ask at the same
    moment: an item another one added meanwhile is left as it is (ON CONFLICT DO NOTHING), never an error."""
    if session.scalar(select(func.count()).select_from(CatalogueItem).where(CatalogueItem.estate_id == estate.id)):
        return
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = [
        {"estate_id": estate.id, "code": code, "name": name, "name_en": name_en, "position": position, "active": True}
        for position, (code, name, name_en) in enumerate(DEFAULT_ITEMS)
    ]
    session.execute(insert(CatalogueItem).values(rows).on_conflict_do_nothing(index_elements=["estate_id", "code"]))


def items(session: Session, estate: Estate, *, active_only: bool = True) -> list[CatalogueItem]:
    ensure_defaults(session, estate)
    query = select(CatalogueItem).where(CatalogueItem.estate_id == estate.id)
    if active_only:
        query = query.where(CatalogueItem.active.is_(True))
    return list(session.scalars(query.order_by(CatalogueItem.position, CatalogueItem.id)))


def by_code(session: Session, estate: Estate) -> dict[str, CatalogueItem]:
    return {item.code: item for item in items(session, estate)}


def english_names(session: Session, estate: Estate) -> dict[str, str]:
    """Catalogue code → English name, for showing slip lines in English (a free-text line has none)."""
    return {item.code: item.name_en for item in items(session, estate, active_only=False) if item.name_en}


def line_name(line: SlipItem, language: str, english: Mapping[str, str]) -> str:
    """A slip line's item name in `language`: in English the catalogue's English name, else the slip's own name."""
    if language == "en" and line.code:
        return english.get(line.code, line.name)
    return line.name


def save_item(
    session: Session, actor: Actor, estate: Estate, code: str, name: str, name_en: str = "", active: bool = True
) -> CatalogueItem:
    """Add an item or change an existing one's names and whether it is offered."""
    code, name = code.strip().upper(), name.strip()
    if not CODE.match(code):
        raise DomainError(
            "物品代码应为 2–8 位大写字母或数字，以字母开头", "a code is 2–8 capital letters or digits", code="bad_code"
        )
    if not name or len(name) > MAX_NAME:
        raise DomainError(f"物品名称应为 1–{MAX_NAME} 个字", f"a name is 1–{MAX_NAME} characters", code="bad_name")
    ensure_defaults(session, estate)
    item = session.scalar(select(CatalogueItem).where(CatalogueItem.estate_id == estate.id, CatalogueItem.code == code))
    if item is None:
        last = session.scalar(select(func.max(CatalogueItem.position)).where(CatalogueItem.estate_id == estate.id))
        item = CatalogueItem(estate_id=estate.id, code=code, position=(last or 0) + 1)
        session.add(item)
    item.name, item.name_en, item.active = name, name_en.strip()[:40], active
    session.flush()
    audit.record(
        session, actor, "catalogue.save", "catalogue", item.id, estate_id=estate.id, code=code, name=name, active=active
    )
    return item


def set_active(session: Session, actor: Actor, estate: Estate, item_id: int, active: bool) -> CatalogueItem:
    item = session.get(CatalogueItem, item_id)
    if item is None or item.estate_id != estate.id:
        raise NotFound("目录中没有该物品", "no such catalogue item", code="unknown_catalogue_item")
    if item.active == active:
        raise Conflict("物品状态未变", "nothing to change", code="unchanged")
    item.active = active
    audit.record(session, actor, "catalogue.active", "catalogue", item.id, estate_id=estate.id, active=active)
    return item
