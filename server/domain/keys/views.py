"""What the console shows of the key register, read in a few plain queries: the cabinet's slot map (R-KEY-7), the
key loan register 《钥匙领用登记表》 with its filters (R-KEY-12), intakes with their checks (R-KEY-1…3), duplication
requests (R-KEY-11), the cabinet's events and open alarms, and the choices the console's forms offer."""

from __future__ import annotations

import enum
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import ColumnElement, Select, and_, func, or_, select
from sqlalchemy.orm import Session, aliased

from server.db.models import (
    AuditEntry,
    BorrowerKind,
    Building,
    CheckStage,
    DuplicationState,
    Estate,
    IntakeState,
    Key,
    KeyAlarm,
    KeyBoard,
    KeyCheck,
    KeyDuplication,
    KeyGroup,
    KeyIntake,
    KeyKind,
    KeyLoan,
    KeySet,
    KeySlot,
    LoanPurpose,
    LoanState,
    Occupancy,
    OccupancyKind,
    Person,
    StaffUser,
)
from server.domain import cabinet, clock
from server.domain.cabinet import ALERT_MARK
from server.domain.errors import DomainError, NotFound
from server.domain.keys.duplication import NEEDS_GENERAL_MANAGER, get_request
from server.domain.keys.intake import get_intake
from server.domain.keys.layout import PLANT_ROOMS
from server.domain.keys.register import OPEN_LOAN, get_key
from server.domain.paging import Page
from server.domain.permissions import Perm

# The audit actions of the cabinet's events: what the cabinet reported, what keys did in their slots, alarms.
EVENT_PREFIXES = ("cabinet.", "key.", "key_alarm.")


# --- the slot map (R-KEY-7) -----------------------------------------------------------------------------------------


class SlotState(enum.StrEnum):
    """What a person sees of a slot: the key's business state and the slot's presence, alarms first."""

    empty = "empty"  # no key's home
    pending = "pending"  # a key's home, its set not stored in the cabinet yet (R-KEY-4)
    present = "in"  # the key hangs in its home slot
    out = "out"  # on loan, the cabinet saw it leave
    overdue = "overdue"  # on loan past its due time
    alarm = "alarm"  # an open alarm at this slot (wrong slot, taken without a loan, unknown tag)
    handed_over = "handed_over"  # a move-in key the owner now keeps (R-KEY-8)


@dataclass(frozen=True)
class SlotView:
    board: int
    slot: int
    state: SlotState
    key_id: int | None = None
    label: str = ""
    tag: str = ""
    tm: bool = False
    block: str = ""  # the building number, or PLANT_ROOMS; "" for an empty slot
    colour: int = -1  # the block's colour, by the order the blocks hang in (R-KEY-7)
    building_start: bool = False  # the block's first slot, marked in its colour (R-KEY-7)
    borrower: str = ""  # the open loan's borrower (registered or out)
    loan_state: LoanState | None = None
    due_at: datetime | None = None
    alarm: KeyAlarm | None = None


@dataclass(frozen=True)
class BoardView:
    address: int
    channels: int
    label: str
    columns: int  # slots per row as drawn: numbers run left to right, top to bottom
    slots: list[SlotView]


def board_columns(channels: int) -> int:
    """Slots per row of a board as drawn and printed: the largest divisor of its channels from 4 to 10, so the rows
    come out even (12 → 6, 16 → 8, 50 → 10); 8 when none divides it."""
    fits = [n for n in range(10, 3, -1) if channels % n == 0]
    return fits[0] if fits else min(channels, 8)


def _natural(text: str) -> tuple[int, str]:
    return (int(text), "") if re.fullmatch(r"\d+", text) else (1 << 30, text)


def slot_map(session: Session, estate: Estate, now: datetime) -> list[BoardView]:
    """Every board of the cabinet by address with every slot 1…channels, as the keys hang now."""
    boards = list(session.scalars(select(KeyBoard).where(KeyBoard.estate_id == estate.id).order_by(KeyBoard.address)))
    homes: dict[tuple[int, int], tuple[Key, KeySet, str]] = {}
    rows = session.execute(
        select(Key, KeySet, Building.number)
        .join(KeySet, Key.set_id == KeySet.id)
        .outerjoin(Building, KeySet.building_id == Building.id)
        .where(Key.estate_id == estate.id, Key.slot.is_not(None))
    )
    for key, key_set, building in rows:
        block = PLANT_ROOMS if key_set.opens == KeyGroup.plant_room or building is None else building
        homes[(key.board or 0, key.slot or 0)] = (key, key_set, block)
    loans = {
        loan.key_id: loan
        for loan in session.scalars(select(KeyLoan).where(KeyLoan.estate_id == estate.id, KeyLoan.state.in_(OPEN_LOAN)))
    }
    present = {(s.board, s.slot): s for s in session.scalars(select(KeySlot).where(KeySlot.estate_id == estate.id))}
    alarms: dict[tuple[int, int], KeyAlarm] = {}
    for raised in session.scalars(
        select(KeyAlarm).where(KeyAlarm.estate_id == estate.id, KeyAlarm.cleared_at.is_(None)).order_by(KeyAlarm.id)
    ):
        alarms.setdefault((raised.board, raised.slot), raised)
    colours: dict[str, int] = {}
    for home_slot in sorted(homes):
        colours.setdefault(homes[home_slot][2], len(colours))
    views = []
    for board in boards:
        slots = []
        for number in range(1, board.channels + 1):
            place = (board.address, number)
            home = homes.get(place)
            alarm = alarms.get(place)
            if home is None:
                state = SlotState.alarm if alarm else SlotState.empty
                slots.append(SlotView(board.address, number, state, alarm=alarm))
                continue
            key, key_set, block = home
            loan = loans.get(key.id)
            slot = present.get(place)
            slots.append(
                SlotView(
                    board.address,
                    number,
                    _state(key, key_set, loan, slot, alarm, now),
                    key_id=key.id,
                    label=key.label,
                    tag=key.tag,
                    tm=key.kind == KeyKind.tm,
                    block=block,
                    colour=colours[block],
                    building_start=key.building_start,
                    borrower=loan.borrower_name if loan else "",
                    loan_state=loan.state if loan else None,
                    due_at=loan.due_at if loan else None,
                    alarm=alarm,
                )
            )
        views.append(BoardView(board.address, board.channels, board.label, board_columns(board.channels), slots))
    return views


def _state(
    key: Key, key_set: KeySet, loan: KeyLoan | None, slot: KeySlot | None, alarm: KeyAlarm | None, now: datetime
) -> SlotState:
    if alarm is not None:
        return SlotState.alarm
    if key.handed_over_at is not None:
        return SlotState.handed_over
    if key_set.stored_at is None:
        return SlotState.pending
    if loan is not None and loan.state == LoanState.out:
        return SlotState.overdue if loan.due_at is not None and loan.due_at < now else SlotState.out
    if slot is not None and not slot.occupied:
        return SlotState.out
    return SlotState.present


def state_counts(boards: Sequence[BoardView]) -> dict[SlotState, int]:
    counts = dict.fromkeys(SlotState, 0)
    for board in boards:
        for slot in board.slots:
            counts[slot.state] += 1
    return counts


# --- the key loan register 《钥匙领用登记表》 (R-KEY-12) ------------------------------------------------------------


@dataclass(frozen=True)
class LoanFilter:
    state: LoanState | None = None
    purpose: LoanPurpose | None = None
    borrower: BorrowerKind | None = None
    group: KeyGroup | None = None
    since: date | None = None  # registered on or after this estate-local day
    until: date | None = None  # registered on or before this estate-local day


@dataclass(frozen=True)
class LoanRow:
    """A line of the register with what the page and the exports show beside the loan."""

    loan: KeyLoan
    key: Key
    group: KeyGroup
    registered_by: str
    accompanied_by: str
    overdue: bool


def _loan_rows(estate: Estate, f: LoanFilter) -> Select[KeyLoan, Key, KeyGroup, str, str]:
    registrar, companion = aliased(StaffUser), aliased(StaffUser)
    query = (
        select(KeyLoan, Key, KeySet.opens, registrar.display_name, companion.display_name)
        .join(Key, KeyLoan.key_id == Key.id)
        .join(KeySet, Key.set_id == KeySet.id)
        .join(registrar, KeyLoan.registered_by_id == registrar.id)
        .outerjoin(companion, KeyLoan.accompanied_by_id == companion.id)
        .where(KeyLoan.estate_id == estate.id)
    )
    conditions: list[ColumnElement[bool]] = []
    if f.state is not None:
        conditions.append(KeyLoan.state == f.state)
    if f.purpose is not None:
        conditions.append(KeyLoan.purpose == f.purpose)
    if f.borrower is not None:
        conditions.append(KeyLoan.borrower_kind == f.borrower)
    if f.group is not None:
        conditions.append(KeySet.opens == f.group)
    if f.since is not None:
        conditions.append(KeyLoan.registered_at >= clock.day_bounds(estate, f.since)[0])
    if f.until is not None:
        conditions.append(KeyLoan.registered_at < clock.day_bounds(estate, f.until)[1])
    return query.where(*conditions)


def _row(found: tuple[KeyLoan, Key, KeyGroup, str, str | None], now: datetime) -> LoanRow:
    loan, key, group, registrar, companion = found
    late = loan.state == LoanState.out and loan.due_at is not None and loan.due_at < now
    return LoanRow(loan, key, group, registrar, companion or "", late)


def loans_page(session: Session, estate: Estate, f: LoanFilter, now: datetime, page: int, size: int) -> Page[LoanRow]:
    """The register as filtered, newest first, one page of it."""
    query = _loan_rows(estate, f)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // size))))
    found = session.execute(query.order_by(KeyLoan.id.desc()).limit(size).offset((page - 1) * size))
    return Page([_row(r, now) for r in found], total, page, size)


def loans_for_export(session: Session, estate: Estate, f: LoanFilter, now: datetime) -> list[LoanRow]:
    """Every line as filtered, in the order they were written into the register."""
    return [_row(r, now) for r in session.execute(_loan_rows(estate, f).order_by(KeyLoan.id))]


def overdue_rows(session: Session, estate: Estate, now: datetime, *, open_only: bool = False) -> list[LoanRow]:
    """Loans out past their due time, the longest overdue first, acknowledged or not (`open_only`: those nobody has
    acknowledged yet, the open alerts the dashboard counts, R-KEY-12)."""
    query = _loan_rows(estate, LoanFilter(state=LoanState.out)).where(KeyLoan.due_at < now)
    if open_only:
        query = query.where(KeyLoan.overdue_ack_at.is_(None))
    return [_row(r, now) for r in session.execute(query.order_by(KeyLoan.due_at, KeyLoan.id))]


# --- what the loan form offers and reads ----------------------------------------------------------------------------


@dataclass(frozen=True)
class KeyChoice:
    id: int
    label: str
    group: KeyGroup
    tm: bool
    board: int | None
    slot: int | None


def lendable_keys(session: Session, estate: Estate) -> list[KeyChoice]:
    """Keys hanging in the cabinet with no open loan, by slot: what the loan form offers."""
    lent = select(KeyLoan.key_id).where(KeyLoan.estate_id == estate.id, KeyLoan.state.in_(OPEN_LOAN))
    rows = session.execute(
        select(Key, KeySet.opens)
        .join(KeySet, Key.set_id == KeySet.id)
        .join(KeyIntake, KeySet.intake_id == KeyIntake.id)
        .where(
            Key.estate_id == estate.id,
            KeyIntake.state == IntakeState.accepted,
            Key.slot.is_not(None),
            Key.handed_over_at.is_(None),
            Key.id.not_in(lent),
        )
        .order_by(Key.board, Key.slot)
    )
    return [KeyChoice(k.id, k.label, g, k.kind == KeyKind.tm, k.board, k.slot) for k, g in rows]


def estate_staff(session: Session, estate: Estate) -> list[StaffUser]:
    """Active staff who work in this estate: borrowers and companions the loan form offers."""
    return list(
        session.scalars(
            select(StaffUser)
            .where(
                StaffUser.is_active.is_(True),
                or_(StaffUser.all_estates.is_(True), StaffUser.estates.any(Estate.id == estate.id)),
            )
            .order_by(StaffUser.display_name, StaffUser.id)
        )
    )


def staff_member(session: Session, estate: Estate, staff_id: int) -> StaffUser:
    """An active staff member of this estate; a clear error for anyone else."""
    found = session.get(StaffUser, staff_id)
    works_here = found is not None and (found.all_estates or any(e.id == estate.id for e in found.estates))
    if found is None or not works_here or not found.is_active:
        raise NotFound(
            "本小区没有这位在职员工", "no active staff member of that id in this estate", code="unknown_staff"
        )
    return found


def owner_of_key(session: Session, estate: Estate, key_id: int, name: str, day: date) -> Person:
    """The current owner named `name` of the unit whose key this is (R-KEY-13: an owner borrows their own keys)."""
    key = get_key(session, estate, key_id)
    unit_id = session.get_one(KeySet, key.set_id).unit_id
    if unit_id is None:
        raise DomainError(
            f"「{key.label}」不是住户的钥匙，业主不能借用",
            f"{key.label!r} is not a unit's key: an owner cannot borrow it",
            code="not_owner",
        )
    owners = [
        o.person
        for o in session.scalars(
            select(Occupancy).where(Occupancy.unit_id == unit_id, Occupancy.kind == OccupancyKind.owner)
        )
        if o.current_on(day) and o.person.name == name.strip()
    ]
    if not owners:
        raise DomainError(
            f"这套房没有名为“{name.strip()}”的现任业主",
            f"this unit has no current owner named {name.strip()!r}",
            code="not_owner",
        )
    return owners[0]


# --- intakes (R-KEY-1…3) --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class IntakeSummary:
    intake: KeyIntake
    received_by: str
    registered: int  # keys registered against the handover record's count


def intakes(session: Session, estate: Estate) -> list[IntakeSummary]:
    counted = (
        select(KeySet.intake_id, func.count(Key.id).label("keys"))
        .join(Key, Key.set_id == KeySet.id)
        .where(KeySet.estate_id == estate.id)
        .group_by(KeySet.intake_id)
        .subquery()
    )
    rows = session.execute(
        select(KeyIntake, StaffUser.display_name, counted.c["keys"])
        .join(StaffUser, KeyIntake.received_by_id == StaffUser.id)
        .outerjoin(counted, counted.c["intake_id"] == KeyIntake.id)
        .where(KeyIntake.estate_id == estate.id)
        .order_by(KeyIntake.id.desc())
    )
    return [IntakeSummary(i, name, n or 0) for i, name, n in rows]


@dataclass(frozen=True)
class IntakeDetail:
    intake: KeyIntake
    received_by: str
    sets: list[KeySet]
    keys: list[Key]
    acceptance: dict[int, bool | None] = field(default_factory=dict)  # key id → passed, for the 100% test
    spot: dict[int, bool | None] = field(default_factory=dict)  # key id → passed (None: drawn, not tried yet)

    @property
    def spot_keys(self) -> list[Key]:
        return [k for k in self.keys if k.id in self.spot]


def intake_detail(session: Session, estate: Estate, intake_id: int) -> IntakeDetail:
    intake = get_intake(session, estate, intake_id)
    sets = list(session.scalars(select(KeySet).where(KeySet.intake_id == intake.id).order_by(KeySet.id)))
    keys = [k for s in sets for k in s.keys]
    checks: dict[CheckStage, dict[int, bool | None]] = {CheckStage.acceptance: {}, CheckStage.spot: {}}
    for check in session.scalars(select(KeyCheck).where(KeyCheck.intake_id == intake.id)):
        checks[check.stage][check.key_id] = check.passed
    receiver = session.get_one(StaffUser, intake.received_by_id).display_name
    return IntakeDetail(intake, receiver, sets, keys, checks[CheckStage.acceptance], checks[CheckStage.spot])


def get_set(session: Session, estate: Estate, set_id: int) -> KeySet:
    found = session.get(KeySet, set_id)
    if found is None or found.estate_id != estate.id:
        raise NotFound(f"没有这套钥匙 {set_id}", f"no key set {set_id}", code="unknown_set")
    return found


# --- duplication requests (R-KEY-11) --------------------------------------------------------------------------------


@dataclass(frozen=True)
class DuplicationRow:
    request: KeyDuplication
    key: Key
    group: KeyGroup
    requested_by: str
    decided_by: str

    @property
    def needs_general_manager(self) -> bool:
        return self.group in NEEDS_GENERAL_MANAGER


# Which requests still wait for a decision, by who decides them (R-KEY-11): the general manager (public door and
# plant-room keys) or the key keeper (a unit's keys).
WAITING = ("general_manager", "keeper")


def duplications(session: Session, estate: Estate, waiting: str = "") -> list[DuplicationRow]:
    """The estate's requests, newest first; `waiting` (one of WAITING): only those still waiting for that decider."""
    requester, decider = aliased(StaffUser), aliased(StaffUser)
    query = (
        select(KeyDuplication, Key, KeySet.opens, requester.display_name, decider.display_name)
        .join(Key, KeyDuplication.key_id == Key.id)
        .join(KeySet, Key.set_id == KeySet.id)
        .join(requester, KeyDuplication.requested_by_id == requester.id)
        .outerjoin(decider, KeyDuplication.decided_by_id == decider.id)
        .where(KeyDuplication.estate_id == estate.id)
    )
    if waiting in WAITING:
        gm_only = KeySet.opens.in_(NEEDS_GENERAL_MANAGER)
        query = query.where(
            KeyDuplication.state == DuplicationState.requested, gm_only if waiting == "general_manager" else ~gm_only
        )
    rows = session.execute(query.order_by(KeyDuplication.id.desc()))
    return [DuplicationRow(r, k, g, by, decided or "") for r, k, g, by, decided in rows]


def duplicable_keys(session: Session, estate: Estate) -> list[KeyChoice]:
    """Keys of accepted intakes still kept (not handed to an owner), by group and label."""
    rows = session.execute(
        select(Key, KeySet.opens)
        .join(KeySet, Key.set_id == KeySet.id)
        .join(KeyIntake, KeySet.intake_id == KeyIntake.id)
        .where(Key.estate_id == estate.id, KeyIntake.state == IntakeState.accepted, Key.handed_over_at.is_(None))
        .order_by(KeySet.opens, Key.label, Key.id)
    )
    return [KeyChoice(k.id, k.label, g, k.kind == KeyKind.tm, k.board, k.slot) for k, g in rows]


def decision_perm(session: Session, estate: Estate, request_id: int) -> Perm:
    """Who decides a request: the general manager for a public door or plant-room key (R-KEY-11), the key keeper
    for a unit's key."""
    request = get_request(session, estate, request_id)
    opens = session.scalar(select(KeySet.opens).join(Key, Key.set_id == KeySet.id).where(Key.id == request.key_id))
    return Perm.keys_approve_duplication if opens in NEEDS_GENERAL_MANAGER else Perm.keys_manage


# --- the cabinet's events and alarms --------------------------------------------------------------------------------


def _event_actions(prefix: str) -> ColumnElement[bool]:
    chosen = [p for p in EVENT_PREFIXES if p == prefix] or list(EVENT_PREFIXES)
    return or_(*(AuditEntry.action.startswith(p, autoescape=True) for p in chosen))


@dataclass(frozen=True)
class EventFilter:
    """What the cabinet's events are narrowed to (issue 21, item 3); empty parts keep everything."""

    prefix: str = ""  # one of EVENT_PREFIXES: what the cabinet reported, keys in slots, or the alarms
    device_id: int | None = None  # the cabinet (its enrolled device) that reported
    board: int | None = None
    slot: int | None = None
    alerts: bool | None = None  # True: only what a person must look at; False: only the rest
    since: datetime | None = None  # only what was recorded since (the dashboard's alerts of the last day)
    acknowledged: bool | None = None  # False: the cabinet's alerts nobody has acknowledged; True: those acknowledged


def cabinet_events(
    session: Session, estate: Estate, page: int, size: int, only: EventFilter = EventFilter()
) -> Page[AuditEntry]:
    """The estate's cabinet events from the audit trail, newest first: what the cabinet reported (`cabinet.`), keys
    taken and put back (`key.`) and the alarms they raised (`key_alarm.`), narrowed by `only`."""
    query = select(AuditEntry).where(and_(AuditEntry.estate_id == estate.id, _event_actions(only.prefix)))
    if only.device_id is not None:
        query = query.where(AuditEntry.device_id == only.device_id)
    if only.board is not None and only.slot is not None:  # cabinet events name `device:board-slot`, keys `board-slot`
        place = f"{only.board}-{only.slot}"
        query = query.where(or_(AuditEntry.entity_id == place, AuditEntry.entity_id.endswith(f":{place}")))
    if only.alerts is not None:
        marked = AuditEntry.detail.contains(ALERT_MARK, autoescape=True)
        query = query.where(marked if only.alerts else ~marked)
    if only.since is not None:
        query = query.where(AuditEntry.at >= only.since)
    if only.acknowledged is True:
        query = query.where(cabinet.acknowledged())  # EXISTS: only an alert is ever acknowledged
    elif only.acknowledged is False:
        query = query.where(cabinet.open_alert_condition(estate.id))  # an alert, NOT EXISTS its acknowledgement
    total = session.scalar(select(func.count()).select_from(query.subquery())) or 0
    page = max(1, min(page, max(1, -(-total // size))))
    items = list(session.scalars(query.order_by(AuditEntry.seq.desc()).limit(size).offset((page - 1) * size)))
    return Page(items, total, page, size)


def open_alarms(session: Session, estate: Estate) -> list[tuple[KeyAlarm, Key | None]]:
    """Alarms not settled yet, oldest first, with the key each concerns."""
    rows = session.execute(
        select(KeyAlarm, Key)
        .outerjoin(Key, KeyAlarm.key_id == Key.id)
        .where(KeyAlarm.estate_id == estate.id, KeyAlarm.cleared_at.is_(None))
        .order_by(KeyAlarm.id)
    )
    return list(rows)
