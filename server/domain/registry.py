"""The estate registry: estates, buildings and units, residents and their occupancies, arrears, kiosk credentials."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from sqlalchemy import func, or_, select
from sqlalchemy.orm import Session

from server.contract.zones import DEFAULT_ZONE
from server.db.base import utcnow
from server.db.models import (
    ArrearsChange,
    Building,
    Estate,
    LoginAttempt,
    Occupancy,
    OccupancyKind,
    Person,
    ResidentCredential,
    StaffUser,
    Unit,
)
from server.db.models.lifecycle import Vacancy
from server.domain import audit, clock, throttle
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound, Unauthorized
from server.domain.lifecycle import move_in_fees
from server.domain.paging import Page, paginate
from server.domain.secrets import hash_password, keyed_digest, verify_password

UNIT_CODE = re.compile(r"^(?P<building>[0-9A-Z]{1,4})-(?P<floor>[0-9]{1,3})(?P<label>[A-Z]{1,2})$")
PIN_PATTERN = re.compile(r"^[0-9]{6,8}$")  # as staff PINs: a 4-digit PIN falls to guessing across kiosks
MAX_CARD_FAILURES = 10  # unknown cards a kiosk may read in CARD_WINDOW (a resident fumbling takes a few)
CARD_WINDOW = timedelta(minutes=1)


@dataclass(frozen=True)
class UnitCode:
    building: str
    floor: int
    label: str

    def __str__(self) -> str:
        return f"{self.building}-{self.floor}{self.label}"


def parse_unit_code(code: str) -> UnitCode:
    """`5-8B` → building 5, floor 8, unit B. Full-width characters and spaces are tolerated."""
    normal = code.strip().upper().replace("－", "-").replace("—", "-").replace(" ", "")
    normal = normal.translate({c: c - 0xFEE0 for c in range(0xFF10, 0xFF5B)})
    m = UNIT_CODE.match(normal)
    if not m or int(m["floor"]) == 0:
        raise DomainError(
            f"房号 {code!r} 格式不对，应如 5-8B（5 栋 8 层 B 户）",
            f"unit {code!r} should look like 5-8B",
            code="bad_unit_code",
        )
    return UnitCode(m["building"], int(m["floor"]), m["label"])


def create_estate(
    session: Session, actor: Actor, code: str, name: str, name_en: str = "", *, timezone: str = DEFAULT_ZONE
) -> Estate:
    """A new estate; its zone (an IANA name such as Asia/Shanghai) sets its days and the times its pages show."""
    code = code.strip().upper()
    timezone = clock.check_zone(timezone)
    if not re.fullmatch(r"[A-Z]{2,8}", code):
        raise DomainError("小区代码应为 2–8 个字母", "an estate code is 2–8 letters", code="bad_estate_code")
    if session.scalar(select(Estate).where(Estate.code == code)):
        raise Conflict(f"小区代码 {code} 已存在", f"estate code {code} exists")
    estate = Estate(code=code, name=name, name_en=name_en, timezone=timezone)
    session.add(estate)
    session.flush()
    move_in_fees.seed(session, estate)  # the move-in fee list it starts with (R-MOVE)
    audit.record(
        session,
        actor,
        "estate.create",
        "estate",
        estate.id,
        estate_id=estate.id,
        code=code,
        name=name,
        timezone=timezone,
    )
    return estate


def find_unit(session: Session, estate: Estate, code: str) -> Unit | None:
    return session.scalar(select(Unit).where(Unit.estate_id == estate.id, Unit.code == str(parse_unit_code(code))))


def get_unit(session: Session, estate: Estate, code: str) -> Unit:
    unit = find_unit(session, estate, code)
    if unit is None:
        raise NotFound(f"本小区没有房号 {code}", f"no unit {code} in this estate", code="unknown_unit")
    return unit


def ensure_unit(session: Session, actor: Actor, estate: Estate, code: str) -> Unit:
    """The unit with this code, created (with its building) when the registry does not have it yet."""
    parsed = parse_unit_code(code)
    unit = find_unit(session, estate, code)
    if unit is not None:
        return unit
    building = session.scalar(
        select(Building).where(Building.estate_id == estate.id, Building.number == parsed.building)
    )
    if building is None:
        building = Building(estate_id=estate.id, number=parsed.building, name=f"{parsed.building}栋", floors=0)
        session.add(building)
        session.flush()
    building.floors = max(building.floors, parsed.floor)
    unit = Unit(
        estate_id=estate.id,
        building_id=building.id,
        code=str(parsed),
        floor=parsed.floor,
        label=parsed.label,
        arrears_fen=0,
    )
    session.add(unit)
    session.flush()
    audit.record(session, actor, "unit.create", "unit", unit.id, estate_id=estate.id, code=unit.code)
    return unit


def add_person(session: Session, actor: Actor, estate: Estate, name: str, phone: str = "", id_tail: str = "") -> Person:
    if not name.strip():
        raise DomainError("姓名不能为空", "a name is required", code="missing_name")
    person = Person(estate_id=estate.id, name=name.strip(), phone=phone.strip(), id_tail=id_tail.strip())
    session.add(person)
    session.flush()
    audit.record(session, actor, "person.create", "person", person.id, estate_id=estate.id, name=person.name)
    return person


def add_occupancy(
    session: Session,
    actor: Actor,
    unit: Unit,
    person: Person,
    kind: OccupancyKind,
    starts_on: date,
    ends_on: date | None = None,
) -> Occupancy:
    if unit.estate_id != person.estate_id:
        raise DomainError("住户与房屋不属于同一小区", "person and unit belong to different estates")
    if ends_on is not None and ends_on < starts_on:
        raise DomainError("结束日期早于开始日期", "the end date is before the start date", code="bad_dates")
    occ = Occupancy(
        estate_id=unit.estate_id, unit_id=unit.id, person_id=person.id, kind=kind, starts_on=starts_on, ends_on=ends_on
    )
    session.add(occ)
    session.flush()
    audit.record(
        session,
        actor,
        "occupancy.create",
        "occupancy",
        occ.id,
        estate_id=unit.estate_id,
        unit=unit.code,
        person=person.id,
        kind=kind.value,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    return occ


MAX_ARREARS_FEN = 1_000_000_000  # ¥10,000,000: far above any real balance, well inside a 32-bit column
# R-REL-5: finance confirms there are *no* arrears before a non-owner's slip, so any balance above this is arrears.
ARREARS_LIMIT_FEN = 0


def in_arrears(unit: Unit) -> bool:
    return owes(unit.arrears_fen)


def owes(arrears_fen: int) -> bool:
    """Whether a unit with this balance is in arrears (R-REL-5)."""
    return arrears_fen > ARREARS_LIMIT_FEN


def set_arrears(session: Session, actor: Actor, unit: Unit, balance_fen: int, note: str = "") -> ArrearsChange:
    """Finance sets a unit's arrears balance in fen; every change is kept (R-REL-5 reads the current balance)."""
    if balance_fen < 0:
        raise DomainError("欠费金额不能为负", "arrears cannot be negative", code="bad_amount")
    if balance_fen > MAX_ARREARS_FEN:
        raise DomainError("欠费金额超出上限 ¥10,000,000", "arrears above ¥10,000,000 are refused", code="bad_amount")
    change = ArrearsChange(
        estate_id=unit.estate_id,
        unit_id=unit.id,
        previous_fen=unit.arrears_fen,
        balance_fen=balance_fen,
        note=note,
        changed_by_id=actor.id if actor.kind == "user" else None,
    )
    unit.arrears_fen = balance_fen
    session.add(change)
    session.flush()
    audit.record(
        session,
        actor,
        "unit.arrears",
        "unit",
        unit.id,
        estate_id=unit.estate_id,
        previous_fen=change.previous_fen,
        balance_fen=balance_fen,
        note=note,
    )
    return change


def arrears_history(session: Session, unit: Unit) -> list[tuple[ArrearsChange, str]]:
    """A unit's arrears changes, newest first, with the display name of who made each (empty for the system)."""
    rows = session.execute(
        select(ArrearsChange, StaffUser.display_name)
        .outerjoin(StaffUser, StaffUser.id == ArrearsChange.changed_by_id)
        .where(ArrearsChange.unit_id == unit.id)
        .order_by(ArrearsChange.changed_at.desc(), ArrearsChange.id.desc())
    )
    return [(change, name or "") for change, name in rows]


# Units in natural order, the same in SQLite and PostgreSQL (1-1A, 1-2A, 1-10A, then 2-…, 10-…): the building as
# `buildings` sorts it, then the floor as a number, then the unit's letter.
UNIT_ORDER = (func.length(Building.number), Building.number, Unit.floor, Unit.label)


def buildings(session: Session, estate: Estate) -> list[Building]:
    """The estate's buildings in natural order (2 before 10)."""
    rows = session.scalars(select(Building).where(Building.estate_id == estate.id))
    return sorted(rows, key=lambda b: (len(b.number), b.number))


def set_credentials(
    session: Session, actor: Actor, person: Person, *, card: str | None = None, pin: str | None = None
) -> ResidentCredential:
    """Set a resident's kiosk card number and/or PIN; both are stored only hashed."""
    cred = session.scalar(select(ResidentCredential).where(ResidentCredential.person_id == person.id))
    if cred is None:
        cred = ResidentCredential(estate_id=person.estate_id, person_id=person.id, failed_pins=0)
        session.add(cred)
    if card is not None:
        if not card.strip().isalnum():
            raise DomainError("卡号只能包含字母和数字", "a card number holds letters and digits only", code="bad_card")
        digest = keyed_digest(session, card)
        other = session.scalar(select(ResidentCredential).where(ResidentCredential.card_digest == digest))
        if other is not None and other.person_id != person.id:
            raise Conflict("该卡已登记给其他住户", "this card belongs to another resident", code="card_taken")
        cred.card_digest = digest
    if pin is not None:
        if not PIN_PATTERN.match(pin):
            raise DomainError("PIN 应为 6–8 位数字", "a PIN is 6–8 digits", code="bad_pin")
        cred.pin_hash = hash_password(pin)
        cred.failed_pins = 0
        cred.locked_until = None
    session.flush()
    audit.record(
        session,
        actor,
        "resident.credentials",
        "person",
        person.id,
        estate_id=person.estate_id,
        card_set=card is not None,
        pin_set=pin is not None,
    )
    return cred


def unit_code_letters(session: Session, estate: Estate) -> list[str]:
    """The letters the estate's unit codes use (the B of 5-8B, lettered buildings), A→Z: what a keypad offers."""
    codes = session.scalars(select(Unit.code).where(Unit.estate_id == estate.id))
    return sorted({char for code in codes for char in code if char.isalpha()})


def identify(
    session: Session,
    estate: Estate,
    *,
    card: str | None,
    unit: str = "",
    pin: str = "",
    kiosk_id: int,
    now: datetime | None = None,
) -> Person:
    """The resident a kiosk is talking to: by card, or by unit and PIN. Whose occupancy is current is judged by the
    estate's local day at `now`, as the slip request judges it (at 00:30 in Shanghai it is already the new day)."""
    now = now or utcnow()
    if card is not None:
        return _by_card(session, estate, card, kiosk_id=kiosk_id, now=now)
    return _by_pin(session, estate, unit, pin, now=now)


def card_attempts(kiosk_id: int) -> str:
    """Under what name a kiosk's unknown cards are counted (`LoginAttempt.username`)."""
    return f"card:kiosk:{kiosk_id}"


def _by_card(session: Session, estate: Estate, card: str, *, kiosk_id: int, now: datetime) -> Person:
    """Unknown cards count per kiosk: after a few a minute the kiosk must wait, so card numbers cannot be guessed
    at speed."""
    key = card_attempts(kiosk_id)
    throttle.serialize(session, key)
    failures = session.scalar(
        select(func.count()).where(
            LoginAttempt.username == key, LoginAttempt.success.is_(False), LoginAttempt.at >= now - CARD_WINDOW
        )
    )
    if (failures or 0) >= MAX_CARD_FAILURES:
        raise Unauthorized(
            "未识别的卡过多，请稍候一分钟再试",
            "too many unknown cards at this kiosk, wait a minute",
            code="card_throttled",
            status=429,
        )
    cred = session.scalar(
        select(ResidentCredential).where(
            ResidentCredential.card_digest == keyed_digest(session, card), ResidentCredential.estate_id == estate.id
        )
    )
    if cred is None:
        session.add(LoginAttempt(username=key, ip="", success=False, at=now))
        session.flush()
        raise Unauthorized("未登记的住户卡", "this card is not registered", code="unknown_card", keep_changes=True)
    return cred.person


def _by_pin(session: Session, estate: Estate, unit_code: str, pin: str, *, now: datetime) -> Person:
    """A current resident of `unit_code` whose PIN matches. Wrong PINs count per resident; too many lock the PIN."""
    unit = get_unit(session, estate, unit_code)
    today = clock.local_day(estate, now)
    people = [o.person for o in unit.occupancies if o.current_on(today)]
    # One attempt at a time per resident, so concurrent guesses cannot all be checked against the same count.
    throttle.serialize(session, *(f"pin:person:{p.id}" for p in people))
    creds = session.scalars(
        select(ResidentCredential)
        .where(ResidentCredential.person_id.in_([p.id for p in people]))
        .execution_options(populate_existing=True)
    ).all()
    usable = [c for c in creds if c.pin_hash and (c.locked_until is None or c.locked_until <= now)]
    if creds and not usable and any(c.locked_until and c.locked_until > now for c in creds):
        raise Unauthorized(
            "PIN 错误次数过多，已暂时锁定，请到前台办理",
            "too many wrong PINs; ask the front desk",
            code="pin_locked",
            status=429,
        )
    for cred in usable:
        if verify_password(cred.pin_hash or "", pin):
            cred.failed_pins = 0
            return cred.person
    for cred in usable:
        cred.failed_pins += 1
        if cred.failed_pins >= throttle.LOCK_OUT.max_failures:
            cred.locked_until = now + throttle.LOCK_OUT.window
            cred.failed_pins = 0
    raise Unauthorized("房号或 PIN 不正确", "wrong unit or PIN", code="wrong_pin", keep_changes=True)


def search_units(
    session: Session,
    estate: Estate,
    *,
    q: str = "",
    building: str = "",
    in_arrears: bool = False,
    vacant: bool = False,
    page: int = 1,
    size: int = 25,
) -> Page[Unit]:
    query = select(Unit).join(Building).where(Unit.estate_id == estate.id)
    if vacant:  # R-VAC: taken over from the developer, not yet moved into
        query = query.where(Unit.id.in_(select(Vacancy.unit_id).where(Vacancy.ends_on.is_(None))))
    if q.strip():
        query = query.where(Unit.code.contains(q.strip().upper()))
    if building:
        query = query.where(Building.number == building)
    if in_arrears:
        query = query.where(Unit.arrears_fen > ARREARS_LIMIT_FEN)
    query = query.order_by(*UNIT_ORDER)
    return paginate(session, query, page, size)


def search_residents(
    session: Session,
    estate: Estate,
    *,
    q: str = "",
    kind: OccupancyKind | None = None,
    current_on: date | None = None,
    page: int = 1,
    size: int = 25,
) -> Page[Occupancy]:
    """Occupancies (a resident in a unit) matching a name, phone or unit code fragment."""
    query = select(Occupancy).join(Person).join(Unit).join(Building).where(Occupancy.estate_id == estate.id)
    if q.strip():
        text = q.strip()
        query = query.where(
            or_(Person.name.contains(text), Person.phone.contains(text), Unit.code.contains(text.upper()))
        )
    if kind is not None:
        query = query.where(Occupancy.kind == kind)
    if current_on is not None:
        query = query.where(
            Occupancy.starts_on <= current_on, or_(Occupancy.ends_on.is_(None), Occupancy.ends_on >= current_on)
        )
    query = query.order_by(*UNIT_ORDER, Occupancy.kind, Person.name)
    return paginate(session, query, page, size)
