"""The front desk's work on one resident at a time: their details, their occupancies (moving in and out, which
R-REL-5 reads), their kiosk card and PIN, and unlocking a PIN locked by wrong guesses."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import date

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, Occupancy, OccupancyKind, Person, ResidentCredential
from server.domain import audit, registry
from server.domain.actors import Actor
from server.domain.errors import DomainError, NotFound

PIN_DIGITS = 6  # a PIN the desk draws for a resident


@dataclass(frozen=True)
class PersonDetails:
    name: str
    phone: str = ""
    id_tail: str = ""


def _check(details: PersonDetails) -> PersonDetails:
    name, phone, id_tail = details.name.strip(), details.phone.strip(), details.id_tail.strip().upper()
    if not name:
        raise DomainError("姓名不能为空", "a name is required", code="missing_name")
    if len(name) > 60:
        raise DomainError("姓名最多 60 个字", "a name has at most 60 characters", code="bad_name")
    if phone and not (len(phone) <= 20 and all(c.isdigit() or c in "+- " for c in phone)):
        raise DomainError(
            "电话号码只能包含数字、空格、+ 和 -", "a phone number holds digits, spaces, + and -", code="bad_phone"
        )
    if id_tail and not (len(id_tail) == 4 and id_tail.isascii() and id_tail.isalnum()):
        raise DomainError("身份证后四位应为 4 位数字或字母", "the ID tail is 4 digits or letters", code="bad_id_tail")
    return PersonDetails(name, phone, id_tail)


def get_person(session: Session, estate: Estate, person_id: int) -> Person:
    person = session.get(Person, person_id)
    if person is None or person.estate_id != estate.id:
        raise NotFound("本小区没有这位住户", "no such resident in this estate", code="unknown_person")
    return person


def get_occupancy(session: Session, estate: Estate, occupancy_id: int) -> Occupancy:
    occupancy = session.get(Occupancy, occupancy_id)
    if occupancy is None or occupancy.estate_id != estate.id:
        raise NotFound("本小区没有这条入住记录", "no such occupancy in this estate", code="unknown_occupancy")
    return occupancy


def credential(session: Session, person: Person) -> ResidentCredential | None:
    return session.scalar(select(ResidentCredential).where(ResidentCredential.person_id == person.id))


def create_person(session: Session, actor: Actor, estate: Estate, details: PersonDetails) -> Person:
    checked = _check(details)
    return registry.add_person(session, actor, estate, checked.name, checked.phone, checked.id_tail)


def update_person(session: Session, actor: Actor, person: Person, details: PersonDetails) -> Person:
    checked = _check(details)
    person.name, person.phone, person.id_tail = checked.name, checked.phone, checked.id_tail
    session.flush()
    audit.record(session, actor, "person.update", "person", person.id, estate_id=person.estate_id, name=checked.name)
    return person


def move_in(
    session: Session,
    actor: Actor,
    estate: Estate,
    person: Person,
    unit_code: str,
    kind: OccupancyKind,
    starts_on: date,
    ends_on: date | None = None,
) -> Occupancy:
    """A new occupancy of an existing unit (the registry's units come from the import or the estate's set-up)."""
    unit = registry.get_unit(session, estate, unit_code)
    return registry.add_occupancy(session, actor, unit, person, kind, starts_on, ends_on)


def update_occupancy(
    session: Session, actor: Actor, occupancy: Occupancy, kind: OccupancyKind, starts_on: date, ends_on: date | None
) -> Occupancy:
    """Correct an occupancy's kind or dates."""
    if ends_on is not None and ends_on < starts_on:
        raise DomainError("结束日期早于开始日期", "the end date is before the start date", code="bad_dates")
    occupancy.kind, occupancy.starts_on, occupancy.ends_on = kind, starts_on, ends_on
    session.flush()
    audit.record(
        session,
        actor,
        "occupancy.update",
        "occupancy",
        occupancy.id,
        estate_id=occupancy.estate_id,
        kind=kind.value,
        starts_on=starts_on,
        ends_on=ends_on,
    )
    return occupancy


def end_occupancy(session: Session, actor: Actor, occupancy: Occupancy, ends_on: date) -> Occupancy:
    """The move-out date: from the day after it the person no longer lives in the unit. R-REL-5: a tenant moving
    out asks for a slip for their things, and that slip waits for finance to confirm the unit owes nothing."""
    if ends_on < occupancy.starts_on:
        raise DomainError(
            f"搬出日期 {ends_on} 早于入住日期 {occupancy.starts_on}",
            f"the move-out date {ends_on} is before the move-in date {occupancy.starts_on}",
            code="ends_before_start",
        )
    previous = occupancy.ends_on
    occupancy.ends_on = ends_on
    session.flush()
    audit.record(
        session,
        actor,
        "occupancy.end",
        "occupancy",
        occupancy.id,
        estate_id=occupancy.estate_id,
        unit=occupancy.unit.code,
        person=occupancy.person_id,
        kind=occupancy.kind.value,
        ends_on=ends_on,
        previous=previous,
    )
    return occupancy


def issue_card(session: Session, actor: Actor, person: Person, card: str) -> ResidentCredential:
    """Give the resident a kiosk card, or replace the one they had (the old card stops working at once). The number
    is typed, or read by a desk reader that types it; only its keyed digest is kept."""
    number = card.strip()
    if not number or len(number) > 40:
        raise DomainError(
            "请刷卡或输入卡号（最多 40 位）", "read or type the card number (up to 40 characters)", code="bad_card"
        )
    return registry.set_credentials(session, actor, person, card=number)


def set_pin(session: Session, actor: Actor, person: Person, pin: str | None = None) -> str:
    """Set the resident's kiosk PIN (a new random one when `pin` is None) and return it, to be shown once: only its
    argon2 hash is kept. A new PIN also lifts a lock-out."""
    chosen = pin.strip() if pin is not None else f"{secrets.randbelow(10**PIN_DIGITS):0{PIN_DIGITS}d}"
    registry.set_credentials(session, actor, person, pin=chosen)
    return chosen


def unlock(session: Session, actor: Actor, person: Person) -> ResidentCredential:
    """Lift a PIN lock-out after the desk has checked who the resident is; the PIN stays as it was."""
    cred = credential(session, person)
    if cred is None or cred.pin_hash is None:
        raise DomainError("该住户没有 PIN", "this resident has no PIN", code="no_pin")
    cred.locked_until = None
    cred.failed_pins = 0
    session.flush()
    audit.record(session, actor, "resident.unlock", "person", person.id, estate_id=person.estate_id)
    return cred
