"""The key register: the cabinet's boards, key sets and their keys with tags and home slots (R-KEY-2, 4, 6, 10)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import (
    Building,
    Estate,
    Holder,
    IntakeState,
    Key,
    KeyBoard,
    KeyGroup,
    KeyIntake,
    KeyKind,
    KeyLoan,
    KeySet,
    LoanState,
    SetCopy,
)
from server.domain import audit, registry
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound

MAX_CHANNELS = 255  # a board's channels are addressed by one byte
TAG = re.compile(r"^[0-9A-F]{4,40}$")
OPEN_LOAN = (LoanState.requested, LoanState.out)


@dataclass(frozen=True)
class KeySpec:
    """One key of a set as registered: its label, the tag read from it, whether it is a TM electronic key."""

    label: str
    tag: str
    kind: KeyKind = KeyKind.mechanical


def add_board(session: Session, actor: Actor, estate: Estate, address: int, channels: int, label: str = "") -> KeyBoard:
    """A lock board of the cabinet, by its DIP-switch address and its number of channels (slots 1…channels)."""
    if not 0 <= address <= MAX_CHANNELS or not 1 <= channels <= MAX_CHANNELS:
        raise DomainError(
            f"锁控板地址应为 0–255，通道数应为 1–255（收到 {address}、{channels}）",
            f"a board address is 0–255 and its channels 1–255 (got {address}, {channels})",
            code="bad_board",
        )
    if board_at(session, estate, address) is not None:
        raise Conflict(f"锁控板 {address} 已登记", f"board {address} is already registered", code="board_taken")
    board = KeyBoard(estate_id=estate.id, address=address, channels=channels, label=label)
    session.add(board)
    session.flush()
    audit.record(
        session, actor, "key_board.add", "key_board", board.id, estate_id=estate.id, address=address, channels=channels
    )
    return board


def board_at(session: Session, estate: Estate, address: int) -> KeyBoard | None:
    return session.scalar(select(KeyBoard).where(KeyBoard.estate_id == estate.id, KeyBoard.address == address))


def check_slot(session: Session, estate: Estate, board: int, slot: int) -> KeyBoard:
    """The board of a slot that exists in this estate's cabinet; a clear error for any other."""
    found = board_at(session, estate, board)
    if found is None:
        raise NotFound(f"钥匙柜没有 {board} 号锁控板", f"the key cabinet has no board {board}", code="unknown_board")
    if not 1 <= slot <= found.channels:
        raise DomainError(
            f"{board} 号锁控板只有 1–{found.channels} 号格，没有 {slot} 号",
            f"board {board} has slots 1–{found.channels}: there is no slot {slot}",
            code="slot_outside_board",
        )
    return found


def normal_tag(tag: str) -> str:
    """A tag id as the readers give it (hex for TM/iButton, digits or hex for RFID), upper case, no separators."""
    normal = re.sub(r"[\s:\-]", "", tag).upper()
    if not TAG.match(normal):
        raise DomainError(
            f"钥匙标签 {tag!r} 不对：应为 4–40 位十六进制或数字",
            f"key tag {tag!r} should be 4–40 hex digits or digits",
            code="bad_tag",
        )
    return normal


def key_by_tag(session: Session, estate: Estate, tag: str) -> Key | None:
    return session.scalar(select(Key).where(Key.estate_id == estate.id, Key.tag == tag))


def key_at(session: Session, estate: Estate, board: int, slot: int) -> Key | None:
    """The key whose home is this slot."""
    return session.scalar(select(Key).where(Key.estate_id == estate.id, Key.board == board, Key.slot == slot))


def get_key(session: Session, estate: Estate, key_id: int) -> Key:
    key = session.get(Key, key_id)
    if key is None or key.estate_id != estate.id:
        raise NotFound(f"本小区没有钥匙 {key_id}", f"no key {key_id} in this estate", code="unknown_key")
    return key


def open_loan(session: Session, key: Key) -> KeyLoan | None:
    """The key's loan that is registered or out, if any: its business state."""
    return session.scalar(select(KeyLoan).where(KeyLoan.key_id == key.id, KeyLoan.state.in_(OPEN_LOAN)))


def register_set(
    session: Session,
    actor: Actor,
    intake: KeyIntake,
    opens: KeyGroup,
    keys: Sequence[KeySpec],
    *,
    unit_code: str = "",
    building: str = "",
    entrance: str = "",
    floor: int | None = None,
    equipment: str = "",
    copy: SetCopy = SetCopy.only,
) -> KeySet:
    """Register one set with all its keys, ringed together (R-KEY-2, 4): a unit's keys by unit, public doors and
    windows by building entrance and floor, plant rooms by equipment in an in-use and a spare set (R-KEY-6, 10)."""
    estate = session.get_one(Estate, intake.estate_id)
    if intake.state != IntakeState.received:
        raise Conflict(
            "这批钥匙已开始验收，不能再加钥匙",
            "this intake is already being tested: no keys can be added",
            code="intake_closed",
        )
    if not keys:
        raise DomainError("一套钥匙至少一把", "a key set has at least one key", code="empty_set")
    key_set = KeySet(
        estate_id=estate.id, intake_id=intake.id, opens=opens, copy=SetCopy.only, holder=Holder.customer_service
    )
    _place(
        session,
        estate,
        key_set,
        unit_code=unit_code,
        building=building,
        entrance=entrance,
        floor=floor,
        equipment=equipment,
        copy=copy,
    )
    tags = [normal_tag(spec.tag) for spec in keys]
    _check_tags_free(session, estate, tags)
    session.add(key_set)
    session.flush()
    for spec, tag in zip(keys, tags, strict=True):
        label = spec.label.strip() or key_set.label
        session.add(Key(estate_id=estate.id, set_id=key_set.id, label=label[:60], tag=tag, kind=spec.kind))
    session.flush()
    audit.record(
        session,
        actor,
        "key_set.register",
        "key_set",
        key_set.id,
        estate_id=estate.id,
        intake=intake.id,
        opens=opens.value,
        label=key_set.label,
        copy=key_set.copy.value,
        keys=[{"label": s.label, "tag": t, "kind": s.kind.value} for s, t in zip(keys, tags, strict=True)],
    )
    return key_set


def _place(
    session: Session,
    estate: Estate,
    key_set: KeySet,
    *,
    unit_code: str,
    building: str,
    entrance: str,
    floor: int | None,
    equipment: str,
    copy: SetCopy,
) -> None:
    """Fill in what the set opens and its label (R-KEY-6: the label names the building, facility or plant room)."""
    if key_set.opens in (KeyGroup.unit, KeyGroup.rectification):
        unit = registry.get_unit(session, estate, unit_code)
        key_set.unit_id, key_set.building_id, key_set.floor = unit.id, unit.building_id, unit.floor
        key_set.label = f"{unit.code} 整改" if key_set.opens == KeyGroup.rectification else unit.code
    elif key_set.opens == KeyGroup.public_door:
        found = _building(session, estate, building)
        if not entrance.strip() or floor is None:
            raise DomainError(
                "公共门窗钥匙须写明单元和楼层", "public door keys name their entrance and floor", code="missing_fields"
            )
        key_set.building_id, key_set.entrance, key_set.floor = found.id, entrance.strip(), floor
        key_set.label = f"{found.number}栋{key_set.entrance}单元 {floor}层 公共门窗"
    else:
        _place_plant_room(session, estate, key_set, equipment.strip(), copy)
        if building:
            key_set.building_id = _building(session, estate, building).id


def _place_plant_room(session: Session, estate: Estate, key_set: KeySet, equipment: str, copy: SetCopy) -> None:
    """R-KEY-10: a plant room's keys are two sets, one in use and one spare, both held by engineering."""
    if not equipment or copy == SetCopy.only:
        raise DomainError(
            "设备房钥匙须写明设备，并分为在用和备用两套",
            "plant-room keys name their equipment and are either the in-use or the spare set",
            code="plant_room_sets",
        )
    taken = session.scalar(
        select(func.count())
        .select_from(KeySet)
        .where(
            KeySet.estate_id == estate.id,
            KeySet.opens == KeyGroup.plant_room,
            KeySet.equipment == equipment,
            KeySet.copy == copy,
        )
    )
    if taken:
        raise Conflict(
            f"{equipment} 的{_COPY_ZH[copy]}一套已登记",
            f"the {copy.value} set of {equipment} exists",
            code="set_exists",
        )
    key_set.equipment, key_set.copy, key_set.holder = equipment, copy, Holder.engineering
    key_set.label = f"{equipment}（{_COPY_ZH[copy]}）"


_COPY_ZH = {SetCopy.in_use: "在用", SetCopy.spare: "备用", SetCopy.only: ""}


def _building(session: Session, estate: Estate, number: str) -> Building:
    found = session.scalar(select(Building).where(Building.estate_id == estate.id, Building.number == number.strip()))
    if found is None:
        raise NotFound(f"本小区没有 {number} 栋", f"no building {number} in this estate", code="unknown_building")
    return found


def _check_tags_free(session: Session, estate: Estate, tags: list[str]) -> None:
    """A tag identifies one key in the estate: registering it twice is refused, naming the key that has it."""
    repeated = sorted({t for t in tags if tags.count(t) > 1})
    if repeated:
        raise Conflict(
            f"标签 {repeated[0]} 在这套钥匙里重复", f"tag {repeated[0]} is given twice in this set", code="tag_taken"
        )
    for tag in tags:
        holder = key_by_tag(session, estate, tag)
        if holder is not None:
            raise Conflict(
                f"标签 {tag} 已登记在钥匙「{holder.label}」上",
                f"tag {tag} is already registered to key {holder.label!r}",
                code="tag_taken",
                key_id=holder.id,
            )


def set_home_slot(session: Session, actor: Actor, key: Key, board: int, slot: int) -> Key:
    """Give a key its home slot by hand (the generated layout does it for all); one key per slot."""
    estate = session.get_one(Estate, key.estate_id)
    check_slot(session, estate, board, slot)
    other = key_at(session, estate, board, slot)
    if other is not None and other.id != key.id:
        raise Conflict(
            f"{board}-{slot} 号格已是钥匙「{other.label}」的位置",
            f"slot {board}-{slot} is already the home of key {other.label!r}",
            code="slot_taken",
        )
    if open_loan(session, key) is not None:
        raise Conflict("钥匙借出中，不能换位置", "the key is on loan: its slot cannot change", code="key_out")
    before = (key.board, key.slot)
    key.board, key.slot = board, slot
    session.flush()
    audit.record(
        session, actor, "key.home_slot", "key", key.id, estate_id=estate.id, before=before, board=board, slot=slot
    )
    return key


def store_set(session: Session, actor: Actor, key_set: KeySet, at: datetime) -> KeySet:
    """Put one accepted set in the cabinet, every key at its home slot (R-KEY-4: one set at a time)."""
    intake = session.get_one(KeyIntake, key_set.intake_id)
    if intake.state != IntakeState.accepted:
        raise Conflict(
            "这批钥匙还没有验收通过，不能入柜",
            "the intake is not accepted yet: keys cannot be stored",
            code="intake_not_accepted",
        )
    if key_set.stored_at is not None:
        raise Conflict(f"「{key_set.label}」已入柜", f"{key_set.label!r} is already stored", code="set_stored")
    homeless = [k.label for k in key_set.keys if k.slot is None]
    if homeless:
        raise Conflict(
            f"钥匙 {'、'.join(homeless)} 还没有柜位", f"keys {', '.join(homeless)} have no slot yet", code="no_slot"
        )
    key_set.stored_at = at
    session.flush()
    audit.record(
        session,
        actor,
        "key_set.store",
        "key_set",
        key_set.id,
        estate_id=key_set.estate_id,
        slots=[(k.board, k.slot) for k in key_set.keys],
    )
    return key_set
