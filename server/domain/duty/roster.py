"""The duty roster 《排班表》 (R-DUTY-1, 7): the front desk is on duty 8:00–23:00 in shifts declared as data
(`ShiftPattern`, early and late by default), generated per week as a rotation of the estate's front-desk staff and
edited by the supervisor (duty.manage): assign, move, remove. No person may hold two shifts that overlap: a change
that would make one is refused as a whole, and nothing of it is kept."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Estate, Role, StaffUser
from server.db.models.duty import DutyRequest, Shift, ShiftPattern
from server.domain import audit, clock
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.permissions import Perm, allowed

DUTY_START = time(8, 0)  # R-DUTY-1: the front desk is staffed 8:00–23:00
DUTY_END = time(23, 0)
# The default shift pattern of an estate, made on first use; the supervisor may change it (it is data).
DEFAULT_PATTERNS = (
    ("early", "早班", "Early", time(8, 0), time(15, 30)),
    ("late", "晚班", "Late", time(15, 30), time(23, 0)),
)


@dataclass(frozen=True)
class Slot:
    """One assignment asked for: `staff_id` (None: uncovered) on pattern `pattern` on `day`."""

    day: date
    pattern: str
    staff_id: int | None


def patterns(session: Session, estate: Estate) -> list[ShiftPattern]:
    """The estate's active shift patterns by start, the default ones made on first use."""
    found = list(
        session.scalars(
            select(ShiftPattern)
            .where(ShiftPattern.estate_id == estate.id, ShiftPattern.active)
            .order_by(ShiftPattern.starts, ShiftPattern.sort)
        )
    )
    if found or session.scalar(select(ShiftPattern.id).where(ShiftPattern.estate_id == estate.id).limit(1)):
        return found
    for sort, (code, zh, en, starts, ends) in enumerate(DEFAULT_PATTERNS):
        session.add(
            ShiftPattern(estate_id=estate.id, code=code, name_zh=zh, name_en=en, starts=starts, ends=ends, sort=sort)
        )
    session.flush()
    return patterns(session, estate)


def add_pattern(
    session: Session, estate: Estate, code: str, name_zh: str, starts: time, ends: time, name_en: str = ""
) -> ShiftPattern:
    """A further shift of the duty day; it must lie within 8:00–23:00 and end after it starts."""
    if not (DUTY_START <= starts < ends <= DUTY_END):
        raise DomainError(
            f"班次须在 08:00–23:00 之内且结束晚于开始：{starts:%H:%M}–{ends:%H:%M}",
            f"a shift lies within 08:00–23:00 and ends after it starts: {starts:%H:%M}–{ends:%H:%M}",
            code="bad_shift_time",
        )
    patterns(session, estate)
    if session.scalar(select(ShiftPattern.id).where(ShiftPattern.estate_id == estate.id, ShiftPattern.code == code)):
        raise Conflict(f"班次 {code} 已存在", f"shift {code} exists already", code="pattern_exists")
    pattern = ShiftPattern(estate_id=estate.id, code=code, name_zh=name_zh, name_en=name_en, starts=starts, ends=ends)
    session.add(pattern)
    session.flush()
    return pattern


def week_of(day: date) -> date:
    """The Monday of `day`'s week."""
    return day - timedelta(days=day.weekday())


def desk_staff(session: Session, estate: Estate) -> list[StaffUser]:
    """The estate's active front-desk staff, the people the roster rotates."""
    return list(
        session.scalars(
            select(StaffUser)
            .where(
                StaffUser.role == Role.front_desk, StaffUser.is_active, StaffUser.estates.any(Estate.id == estate.id)
            )
            .order_by(StaffUser.id)
        )
    )


def shifts_between(session: Session, estate: Estate, first: date, last: date) -> list[Shift]:
    return list(
        session.scalars(
            select(Shift)
            .where(Shift.estate_id == estate.id, Shift.day >= first, Shift.day <= last)
            .order_by(Shift.starts_at, Shift.id)
        )
    )


def week(session: Session, estate: Estate, monday: date) -> list[Shift]:
    return shifts_between(session, estate, monday, monday + timedelta(days=6))


def get_shift(session: Session, estate: Estate, shift_id: int) -> Shift:
    shift = session.get(Shift, shift_id)
    if shift is None or shift.estate_id != estate.id:
        raise NotFound("没有这个班次", "no such shift", code="not_found")
    return shift


def _pattern(session: Session, estate: Estate, code: str) -> ShiftPattern:
    for p in patterns(session, estate):
        if p.code == code:
            return p
    raise DomainError(f"没有班次 {code!r}", f"no shift {code!r}", code="unknown_pattern")


def desk_person(session: Session, estate: Estate, staff_id: int) -> StaffUser:
    """A member of the estate's active front-desk staff (another estate's staff are not found)."""
    person = session.get(StaffUser, staff_id)
    if person is None or estate not in person.estates:
        raise NotFound("本小区没有这位员工", "no such staff member in the estate", code="not_found")
    if not person.is_active or person.role != Role.front_desk:
        raise DomainError(
            "只能为本小区在职的前台人员排班",
            "only the estate's active front-desk staff are rostered",
            code="not_desk_staff",
        )
    return person


def bounds(estate: Estate, day: date, pattern: ShiftPattern) -> tuple[datetime, datetime]:
    zone = clock.zone(estate)
    starts = datetime.combine(day, pattern.starts, zone).astimezone(UTC)
    return starts, datetime.combine(day, pattern.ends, zone).astimezone(UTC)


def check_overlaps(session: Session, estate: Estate) -> None:
    """Refuse the roster as it stands in the session when anyone holds two overlapping shifts (the caller's changes
    are then rolled back: nothing of them is kept)."""
    session.flush()
    held: dict[int, list[Shift]] = {}
    for shift in session.scalars(
        select(Shift).where(Shift.estate_id == estate.id, Shift.staff_id.is_not(None)).order_by(Shift.starts_at)
    ):
        assert shift.staff_id is not None
        for other in held.get(shift.staff_id, []):
            if shift.starts_at < other.ends_at and other.starts_at < shift.ends_at:
                person = session.get_one(StaffUser, shift.staff_id)
                when = f"{clock.local_text(estate, other.starts_at)} / {clock.local_text(estate, shift.starts_at)}"
                raise Conflict(
                    f"{person.display_name} 的班次重叠：{when}",
                    f"{person.display_name} would hold overlapping shifts: {when}",
                    code="overlapping_shifts",
                )
        held.setdefault(shift.staff_id, []).append(shift)


def _manage(by: StaffUser) -> None:
    if not allowed(by.role, Perm.duty_manage):
        raise Forbidden("排班由主管编排（需要 duty.manage）", "the supervisor makes the roster (needs duty.manage)")


def place(
    session: Session, actor: Actor, estate: Estate, by: StaffUser, slots: Iterable[Slot], at: datetime
) -> list[Shift]:
    """Add the shifts `slots`; refused as a whole when anyone would hold two that overlap."""
    _manage(by)
    made: list[Shift] = []
    for slot in slots:
        pattern = _pattern(session, estate, slot.pattern)
        if slot.staff_id is not None:
            desk_person(session, estate, slot.staff_id)
        starts, ends = bounds(estate, slot.day, pattern)
        shift = Shift(
            estate_id=estate.id,
            day=slot.day,
            pattern_id=pattern.id,
            staff_id=slot.staff_id,
            starts_at=starts,
            ends_at=ends,
            updated_by=actor.label,
            updated_at=at,
        )
        session.add(shift)
        made.append(shift)
    check_overlaps(session, estate)
    for shift in made:
        audit.record(
            session, actor, "duty.assign", "shift", shift.id, estate_id=estate.id, day=shift.day.isoformat(),
            staff_id=shift.staff_id,
        )  # fmt: skip
    return made


def generate_week(
    session: Session, actor: Actor, estate: Estate, by: StaffUser, monday: date, at: datetime,
    staff_ids: Sequence[int] | None = None,
) -> list[Shift]:  # fmt: skip
    """The week of `monday` as a rotation of the front-desk staff over the shift patterns: each day every shift
    goes to the next person in turn, the rotation moving on by one each week. Shifts already in the week are kept;
    only the empty slots are filled."""
    monday = week_of(monday)
    people = list(staff_ids) if staff_ids is not None else [p.id for p in desk_staff(session, estate)]
    if not people:
        raise DomainError("本小区没有前台人员可排班", "the estate has no front-desk staff to roster", code="no_staff")
    taken = {(s.day, s.pattern_id) for s in week(session, estate, monday)}
    turn = monday.toordinal() // 7
    slots = []
    for offset in range(7):
        day = monday + timedelta(days=offset)
        for index, pattern in enumerate(patterns(session, estate)):
            if (day, pattern.id) not in taken:
                slots.append(Slot(day, pattern.code, people[(turn + offset + index) % len(people)]))
    return place(session, actor, estate, by, slots, at)


def move(
    session: Session, actor: Actor, estate: Estate, by: StaffUser, shift_id: int, staff_id: int | None, at: datetime,
    *, day: date | None = None, pattern: str = "",
) -> Shift:  # fmt: skip
    """Give shift `shift_id` to `staff_id` (None: uncovered), or move it to another day or shift pattern."""
    _manage(by)
    shift = get_shift(session, estate, shift_id)
    if shift.signed_in_at is not None:
        raise Conflict("已上岗的班次不能再调整", "a shift already signed in cannot be changed", code="shift_started")
    before = shift.staff_id
    if staff_id is not None:
        desk_person(session, estate, staff_id)
    shift.staff_id = staff_id
    if day is not None or pattern:
        chosen = _pattern(session, estate, pattern) if pattern else session.get_one(ShiftPattern, shift.pattern_id)
        shift.day = day or shift.day
        shift.pattern_id = chosen.id
        shift.starts_at, shift.ends_at = bounds(estate, shift.day, chosen)
    shift.updated_by, shift.updated_at = actor.label, at
    check_overlaps(session, estate)
    audit.record(
        session, actor, "duty.move", "shift", shift.id, estate_id=estate.id, from_staff=before, to_staff=staff_id,
        day=shift.day.isoformat(),
    )  # fmt: skip
    return shift


def remove(session: Session, actor: Actor, estate: Estate, by: StaffUser, shift_id: int) -> None:
    _manage(by)
    shift = get_shift(session, estate, shift_id)
    if shift.signed_in_at is not None:
        raise Conflict("已上岗的班次不能删除", "a shift already signed in cannot be removed", code="shift_started")
    if session.scalar(select(DutyRequest.id).where(DutyRequest.shift_id == shift.id).limit(1)):
        raise Conflict(
            "该班次有请假或调班申请，请改为调整人员", "the shift has a leave or swap request: move it instead",
            code="shift_has_requests",
        )  # fmt: skip
    audit.record(
        session, actor, "duty.remove", "shift", shift.id, estate_id=estate.id, day=shift.day.isoformat(),
        staff_id=shift.staff_id,
    )  # fmt: skip
    session.delete(shift)
    session.flush()
