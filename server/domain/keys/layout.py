"""The cabinet's slot layout in the manual's order (R-KEY-7): building → floor → unit ascending, filling slots left to
right and top to bottom (slot numbers run that way on a board), each building's first slot marked in its colour.

Within a building the units' sets come first, then its public doors by entrance and floor; plant rooms follow the
buildings, by equipment, the in-use set before the spare."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Building, Estate, IntakeState, Key, KeyBoard, KeyGroup, KeyIntake, KeySet, SetCopy, Unit
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict
from server.domain.keys.register import open_loan

PLANT_ROOMS = "设备房"  # the block after the buildings, marked like a building of its own


@dataclass(frozen=True)
class Placement:
    key_id: int
    label: str
    block: str  # the building number, or PLANT_ROOMS
    board: int
    slot: int
    building_start: bool


def _natural(text: str) -> tuple[int, str]:
    """Building numbers sort as numbers (2 before 10), letters after them."""
    return (int(text), "") if re.fullmatch(r"\d+", text) else (1 << 30, text)


def _set_order(key_set: KeySet, buildings: dict[int, Building], units: dict[int, Unit]) -> tuple[Any, ...]:
    if key_set.opens == KeyGroup.plant_room:
        return ((2, ""), 0, 0, key_set.equipment, key_set.copy != SetCopy.in_use, key_set.id)
    building = buildings[key_set.building_id] if key_set.building_id is not None else None
    place = (1, *_natural(building.number)) if building is not None else (1, 1 << 30, "")
    if key_set.opens == KeyGroup.public_door:
        return (place, 1, key_set.floor or 0, key_set.entrance, False, key_set.id)
    unit = units[key_set.unit_id] if key_set.unit_id is not None else None
    return (place, 0, key_set.floor or 0, unit.label if unit else "", key_set.opens != KeyGroup.unit, key_set.id)


def plan(session: Session, estate: Estate) -> list[Placement]:
    """Where every key of the accepted intakes hangs, in the manual's order, over the boards by address."""
    sets = list(
        session.scalars(
            select(KeySet).join(KeyIntake).where(KeySet.estate_id == estate.id, KeyIntake.state == IntakeState.accepted)
        )
    )
    buildings = {b.id: b for b in session.scalars(select(Building).where(Building.estate_id == estate.id))}
    units = {u.id: u for u in session.scalars(select(Unit).where(Unit.estate_id == estate.id))}
    sets.sort(key=lambda s: _set_order(s, buildings, units))
    keys = [
        (k, PLANT_ROOMS if s.opens == KeyGroup.plant_room or s.building_id is None else buildings[s.building_id].number)
        for s in sets
        for k in s.keys
        if k.handed_over_at is None
    ]
    slots = [
        (b.address, n)
        for b in session.scalars(select(KeyBoard).where(KeyBoard.estate_id == estate.id).order_by(KeyBoard.address))
        for n in range(1, b.channels + 1)
    ]
    if len(keys) > len(slots):
        raise Conflict(
            f"钥匙柜只有 {len(slots)} 个格，需要 {len(keys)} 个",
            f"the cabinet has {len(slots)} slots: {len(keys)} needed",
            code="cabinet_full",
        )
    placements, previous = [], None
    for (key, block), (board, slot) in zip(keys, slots, strict=False):
        placements.append(Placement(key.id, key.label, block, board, slot, block != previous))
        previous = block
    return placements


def apply_layout(session: Session, actor: Actor, estate: Estate, at: datetime) -> list[Placement]:
    """Give every key its home slot from `plan`. Refused while any key is on loan: its return needs its slot."""
    placements = plan(session, estate)
    keys = {k.id: k for k in session.scalars(select(Key).where(Key.estate_id == estate.id))}
    lent = [k.label for k in keys.values() if open_loan(session, k) is not None]
    if lent:
        raise Conflict(
            f"钥匙 {'、'.join(lent)} 借出中，归还后才能重排柜位",
            f"keys {', '.join(lent)} are on loan: the layout can change once they are back",
            code="key_out",
        )
    for key in keys.values():  # cleared first: a slot moves from one key to another
        key.board = key.slot = None
        key.building_start = False
    session.flush()
    for p in placements:
        key = keys[p.key_id]
        key.board, key.slot, key.building_start = p.board, p.slot, p.building_start
    session.flush()
    audit.record(
        session,
        actor,
        "key.layout",
        "key_layout",
        estate.id,
        estate_id=estate.id,
        at=at,
        placements=[(p.key_id, p.board, p.slot) for p in placements],
    )
    return placements
