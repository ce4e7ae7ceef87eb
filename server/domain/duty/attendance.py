"""Sign-in and sign-out on duty (R-DUTY-1): no leaving the post, lateness and absence recorded, and a relief that
does not arrive keeps the person on duty.

- Signing in after the shift's start plus `GRACE` records the minutes late (`duty.late`).
- A shift that ended without a sign-in is recorded absent (`duty.absent`), once.
- Signing out is refused before the shift ends, and while the next shift's person has not signed in: the shift
  stays open and the person is asked to stay. The supervisor is alerted (`relief_alerted_at` and the audit entry
  `duty.relief_missing`) once per shift, claimed by a conditional update so two readers alert once.

`review` brings absences and missing reliefs up to date; the duty pages call it on every read, and sign-out calls
it when it refuses, so the alert does not wait for anyone to open a page."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, select, update
from sqlalchemy.orm import Session

from server.db.models import Estate, StaffUser
from server.db.models.duty import Shift
from server.domain import audit, clock
from server.domain.actors import Actor
from server.domain.errors import Conflict

GRACE = timedelta(minutes=5)  # signed in later than the start plus this: late
EARLY = timedelta(minutes=30)  # a sign-in counts for a shift starting within this


@dataclass(frozen=True)
class ReliefAlert:
    shift: Shift  # the shift kept open
    waiting_for: list[Shift]  # the next shifts, none signed in


def _local(estate: Estate, at: datetime) -> str:
    return clock.local_text(estate, at)


def open_shift(session: Session, estate: Estate, staff: StaffUser) -> Shift | None:
    """The staff member's shift signed in and not yet signed out."""
    return session.scalar(
        select(Shift)
        .where(Shift.estate_id == estate.id, Shift.staff_id == staff.id, Shift.signed_in_at.is_not(None))
        .where(Shift.signed_out_at.is_(None))
        .order_by(Shift.starts_at)
        .limit(1)
    )


def current_shift(session: Session, estate: Estate, staff: StaffUser, at: datetime) -> Shift | None:
    """The staff member's shift they may sign in to at `at`: starting within `EARLY`, not yet over."""
    return session.scalar(
        select(Shift)
        .where(Shift.estate_id == estate.id, Shift.staff_id == staff.id, Shift.signed_in_at.is_(None))
        .where(Shift.starts_at <= at + EARLY, Shift.ends_at > at)
        .order_by(Shift.starts_at)
        .limit(1)
    )


def sign_in(session: Session, actor: Actor, estate: Estate, staff: StaffUser, at: datetime) -> Shift:
    """上岗: sign in to the current shift; late when after its start plus `GRACE` (recorded)."""
    shift = current_shift(session, estate, staff, at)
    if shift is None:
        raise Conflict("您现在没有可上岗的班次", "you have no shift to sign in to now", code="no_shift_now")
    shift.signed_in_at = at
    late = at - shift.starts_at
    if late > GRACE:
        shift.late_minutes = int(late.total_seconds() // 60)
    audit.record(
        session, actor, "duty.sign_in", "shift", shift.id, estate_id=estate.id, late_minutes=shift.late_minutes
    )
    if shift.late_minutes:
        audit.record(session, actor, "duty.late", "shift", shift.id, estate_id=estate.id, minutes=shift.late_minutes)
    return shift


def next_shifts(session: Session, shift: Shift) -> list[Shift]:
    """The shifts that take over from `shift`: those of its estate starting when it ends, with a person."""
    return list(
        session.scalars(
            select(Shift).where(
                Shift.estate_id == shift.estate_id, Shift.starts_at == shift.ends_at, Shift.staff_id.is_not(None)
            )
        )
    )


def _relief_missing(session: Session, shift: Shift) -> list[Shift]:
    following = next_shifts(session, shift)
    if not following or any(s.signed_in_at is not None for s in following):
        return []
    return following


def sign_out(session: Session, actor: Actor, estate: Estate, staff: StaffUser, at: datetime) -> Shift:
    """下岗: refused before the shift ends, and while the relief has not signed in — then the supervisor is alerted
    (kept, though the sign-out is refused) and the person stays on duty."""
    shift = open_shift(session, estate, staff)
    if shift is None:
        raise Conflict("您没有在岗的班次", "you are not signed in to a shift", code="not_on_duty")
    if at < shift.ends_at:
        raise Conflict(
            f"班次 {_local(estate, shift.ends_at)} 结束，不得离岗",
            f"the shift ends at {_local(estate, shift.ends_at)}: do not leave the post",
            code="shift_not_over",
        )
    waiting = _relief_missing(session, shift)
    if waiting:
        _alert(session, actor, estate, shift, waiting, at)
        raise Conflict(
            "接班人员尚未上岗，请继续值班；已通知主管",
            "the relief has not signed in: please stay on duty; the supervisor has been alerted",
            code="relief_missing",
            keep_changes=True,
        )
    shift.signed_out_at = at
    audit.record(session, actor, "duty.sign_out", "shift", shift.id, estate_id=estate.id)
    return shift


def _alert(session: Session, actor: Actor, estate: Estate, shift: Shift, waiting: list[Shift], at: datetime) -> bool:
    claimed = session.execute(
        update(Shift)
        .where(Shift.id == shift.id, Shift.relief_alerted_at.is_(None))
        .values(relief_alerted_at=at)
        .execution_options(synchronize_session=False)
    )
    if not claimed.rowcount:  # type: ignore[attr-defined]
        return False
    session.refresh(shift, ["relief_alerted_at"])
    audit.record(
        session, actor, "duty.relief_missing", "shift", shift.id, estate_id=estate.id, on_duty=shift.staff_id,
        relief=[s.staff_id for s in waiting],
    )  # fmt: skip
    return True


def _absent(now: datetime) -> ColumnElement[bool]:
    """A shift over without a sign-in, not yet recorded absent."""
    return and_(
        Shift.ends_at <= now, Shift.signed_in_at.is_(None), Shift.staff_id.is_not(None), Shift.absent.is_(False)
    )


def _kept_open(now: datetime) -> ColumnElement[bool]:
    """A shift over, signed in and not signed out, whose supervisor was not alerted yet."""
    return and_(
        Shift.ends_at <= now, Shift.signed_in_at.is_not(None), Shift.signed_out_at.is_(None),
        Shift.relief_alerted_at.is_(None),
    )  # fmt: skip


def estates_to_review(session: Session, now: datetime) -> list[int]:
    """The estates where `review` would record something now (a read: an idle server's sweep writes nothing). A
    shift kept open counts only when its relief has not signed in."""
    absent = set(session.scalars(select(Shift.estate_id).where(_absent(now)).distinct()))
    open_ = [s for s in session.scalars(select(Shift).where(_kept_open(now))) if _relief_missing(session, s)]
    return sorted(absent | {s.estate_id for s in open_})


def sweep(session: Session, actor: Actor, now: datetime) -> int:
    """`review` in every estate that needs it (the app's periodic sweep): absences recorded and supervisors alerted
    of missing reliefs without anyone opening a page; how many estates were reviewed."""
    ids = estates_to_review(session, now)
    for estate_id in ids:
        review(session, actor, session.get_one(Estate, estate_id), now)
    return len(ids)


def review(session: Session, actor: Actor, estate: Estate, now: datetime) -> list[ReliefAlert]:
    """Bring the estate's attendance up to date at `now`: shifts over without a sign-in recorded absent (once);
    open shifts whose relief has not arrived alerted (once each). The relief alerts standing now."""
    for shift in session.scalars(select(Shift).where(Shift.estate_id == estate.id, _absent(now))).all():
        claimed = session.execute(
            update(Shift).where(Shift.id == shift.id, _absent(now)).values(absent=True)
            .execution_options(synchronize_session=False)
        )  # fmt: skip
        if not claimed.rowcount:  # type: ignore[attr-defined]
            continue  # another reader recorded it first
        session.refresh(shift, ["absent"])
        audit.record(session, actor, "duty.absent", "shift", shift.id, estate_id=estate.id, staff_id=shift.staff_id)
    alerts = []
    for shift in session.scalars(
        select(Shift)
        .where(Shift.estate_id == estate.id, Shift.ends_at <= now, Shift.signed_in_at.is_not(None))
        .where(Shift.signed_out_at.is_(None))
        .order_by(Shift.ends_at)
    ).all():
        waiting = _relief_missing(session, shift)
        if waiting:
            _alert(session, actor, estate, shift, waiting, now)
            alerts.append(ReliefAlert(shift, waiting))
    session.flush()
    return alerts


def on_duty(session: Session, estate: Estate, now: datetime) -> list[Shift]:
    """Who is on duty now: signed in and not signed out, and the shifts running now (signed in or not)."""
    return list(
        session.scalars(
            select(Shift)
            .where(Shift.estate_id == estate.id, Shift.staff_id.is_not(None))
            .where(
                (Shift.signed_in_at.is_not(None) & Shift.signed_out_at.is_(None))
                | ((Shift.starts_at <= now) & (Shift.ends_at > now))
            )
            .order_by(Shift.starts_at)
        )
    )


def lapses(session: Session, estate: Estate, since: datetime, until: datetime) -> list[Shift]:
    """The shifts between `since` and `until` with a lateness or an absence, for the supervisor's list."""
    return list(
        session.scalars(
            select(Shift)
            .where(Shift.estate_id == estate.id, Shift.starts_at >= since, Shift.starts_at < until)
            .where((Shift.late_minutes > 0) | Shift.absent)
            .order_by(Shift.starts_at)
        )
    )
