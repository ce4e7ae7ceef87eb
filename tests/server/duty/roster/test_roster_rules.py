"""The duty roster's rules (R-DUTY-1, R-DUTY-7), with the clock controlled: shifts, overlaps, leave and swap
requests, sign-in, lateness, absence and the relief that does not arrive."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Estate, Role, StaffUser, StepHistory
from server.db.models.duty import DutyRequest, RequestKind, RequestState, Shift
from server.domain.actors import Actor
from server.domain.duty import attendance, requests, roster
from server.domain.duty.roster import Slot
from server.domain.errors import Conflict, DomainError, Forbidden

SQLITE = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
MONDAY = date(2026, 12, 7)


def local(day: date, hh: int, mm: int = 0) -> datetime:
    """A wall-clock time in the estate (Asia/Shanghai, UTC+8) as UTC."""
    return datetime(day.year, day.month, day.day, hh, mm, tzinfo=UTC).replace(tzinfo=UTC) - _offset


_offset = datetime(2026, 1, 1, 8) - datetime(2026, 1, 1, 0)


def actor(user: StaffUser) -> Actor:
    return Actor("user", user.id, user.username)


class World:
    def __init__(self, db: Session, estate: Estate, make_user: Callable[..., StaffUser]) -> None:
        self.db, self.estate = db, estate
        self.boss = make_user(Role.cs_manager, "boss")
        self.ann, self.bob, self.cat = (make_user(Role.front_desk, n) for n in ("ann", "bob", "cat"))

    def place(self, *slots: Slot) -> list[Shift]:
        made = roster.place(self.db, actor(self.boss), self.estate, self.boss, slots, local(MONDAY, 0) - _week)
        self.db.commit()
        return made

    def count(self, model: type) -> int:
        return self.db.scalar(select(func.count()).select_from(model)) or 0


_week = datetime(2026, 1, 8) - datetime(2026, 1, 1)


@pytest.fixture
def w(db: Session, estate: Estate, make_user: Callable[..., StaffUser]) -> World:
    return World(db, estate, make_user)


def test_r_duty_1_generated_week_rotates_the_desk_staff_over_early_and_late(w: World) -> None:
    made = roster.generate_week(w.db, actor(w.boss), w.estate, w.boss, MONDAY, local(MONDAY, 0) - _week)
    w.db.commit()
    assert len(made) == 14
    assert {s.staff_id for s in made} == {w.ann.id, w.bob.id, w.cat.id}
    first = min(made, key=lambda s: s.starts_at)
    assert first.starts_at == local(MONDAY, 8) and first.ends_at == local(MONDAY, 15, 30)
    assert max(s.ends_at for s in made) == local(MONDAY.replace(day=13), 23)
    again = roster.generate_week(w.db, actor(w.boss), w.estate, w.boss, MONDAY, local(MONDAY, 0) - _week)
    assert again == []  # the filled slots are kept


@SQLITE
def test_r_duty_1_overlapping_shifts_for_one_person_refused_and_nothing_changed(w: World) -> None:
    roster.add_pattern(w.db, w.estate, "mid", "中班", time(11, 0), time(19, 0))
    w.place(Slot(MONDAY, "early", w.ann.id))
    before = (w.count(Shift), w.count(AuditEntry))
    with pytest.raises(Conflict) as refused:
        w.place(Slot(MONDAY, "late", w.bob.id), Slot(MONDAY, "mid", w.ann.id))
    assert refused.value.code == "overlapping_shifts"
    w.db.rollback()
    assert (w.count(Shift), w.count(AuditEntry)) == before
    with pytest.raises(DomainError) as bad:
        roster.add_pattern(w.db, w.estate, "night", "夜班", time(22, 0), time(23, 30))
    assert bad.value.code == "bad_shift_time"


@SQLITE
def test_r_duty_7_staff_cannot_edit_the_roster_for_themselves(w: World) -> None:
    (shift,) = w.place(Slot(MONDAY, "early", w.ann.id))
    with pytest.raises(Forbidden):
        roster.move(w.db, actor(w.ann), w.estate, w.ann, shift.id, w.bob.id, local(MONDAY, 0))
    w.db.rollback()
    assert w.db.get_one(Shift, shift.id).staff_id == w.ann.id


@SQLITE
def test_r_duty_7_a_swap_asked_the_same_day_is_refused(w: World) -> None:
    (shift,) = w.place(Slot(MONDAY, "late", w.ann.id))
    with pytest.raises(Conflict) as refused:  # 00:10 on the shift's own day, in the estate's zone
        requests.ask(w.db, actor(w.ann), w.estate, w.ann, shift.id, RequestKind.swap, local(MONDAY, 0, 10),
                     colleague_id=w.bob.id)  # fmt: skip
    assert refused.value.code == "too_late"
    w.db.rollback()
    assert w.count(DutyRequest) == 0
    # 23:50 the evening before, by the estate's calendar (15:50 UTC the day before): a day ahead
    request = requests.ask(w.db, actor(w.ann), w.estate, w.ann, shift.id, RequestKind.swap,
                           local(MONDAY.replace(day=6), 23, 50), colleague_id=w.bob.id)  # fmt: skip
    assert request.state == RequestState.asked


@SQLITE
def test_r_duty_7_leave_asked_the_same_day_is_refused_and_an_approved_leave_leaves_the_shift_to_fill(w: World) -> None:
    """R-DUTY-7: leave, like a swap, is asked at least a day ahead; asked on the shift's own day it is refused with
    nothing recorded. Asked in time, a colleague cannot approve it; the supervisor's approval takes the person off
    the shift, which stays on the roster uncovered for the supervisor to fill."""
    (shift,) = w.place(Slot(MONDAY, "early", w.ann.id))
    with pytest.raises(Conflict) as refused:
        requests.ask(w.db, actor(w.ann), w.estate, w.ann, shift.id, RequestKind.leave, local(MONDAY, 6), reason="病假")
    assert refused.value.code == "too_late"
    w.db.rollback()
    assert w.count(DutyRequest) == 0
    day_before = local(MONDAY.replace(day=5), 10)
    request = requests.ask(w.db, actor(w.ann), w.estate, w.ann, shift.id, RequestKind.leave, day_before, reason="病假")
    w.db.commit()
    with pytest.raises(Forbidden):
        requests.decide(w.db, actor(w.bob), w.estate, w.bob, request.id, True, day_before)
    w.db.rollback()
    assert w.db.get_one(Shift, shift.id).staff_id == w.ann.id
    requests.decide(w.db, actor(w.boss), w.estate, w.boss, request.id, True, day_before, note="准假")
    w.db.commit()
    assert w.db.get_one(DutyRequest, request.id).state == RequestState.approved
    assert w.db.get_one(Shift, shift.id).staff_id is None  # uncovered: the supervisor fills it


def test_r_duty_7_a_self_arranged_swap_is_refused_and_the_supervisor_applies_an_approved_one(w: World) -> None:
    mine, theirs = w.place(Slot(MONDAY, "early", w.ann.id), Slot(MONDAY.replace(day=8), "late", w.bob.id))
    day_before = local(MONDAY.replace(day=5), 10)
    # nobody arranges their own swap: the person on the roster cannot hand the shift over …
    with pytest.raises(Forbidden):
        roster.move(w.db, actor(w.ann), w.estate, w.ann, mine.id, w.bob.id, day_before)
    w.db.rollback()
    # … nor swap with themselves, nor ask for someone else's shift
    with pytest.raises(DomainError) as self_swap:
        requests.ask(w.db, actor(w.ann), w.estate, w.ann, mine.id, RequestKind.swap, day_before, colleague_id=w.ann.id)
    assert self_swap.value.code == "self_swap"
    with pytest.raises(Forbidden):
        requests.ask(
            w.db, actor(w.ann), w.estate, w.ann, theirs.id, RequestKind.swap, day_before, colleague_id=w.bob.id
        )
    w.db.rollback()
    request = requests.ask(w.db, actor(w.ann), w.estate, w.ann, mine.id, RequestKind.swap, day_before,
                           colleague_id=w.bob.id, colleague_shift_id=theirs.id, reason="家中有事")  # fmt: skip
    w.db.commit()
    # a front-desk colleague cannot approve it; only the supervisor, who applies it to the roster
    with pytest.raises(Forbidden):
        requests.decide(w.db, actor(w.bob), w.estate, w.bob, request.id, True, day_before)
    requests.decide(w.db, actor(w.boss), w.estate, w.boss, request.id, True, day_before)
    w.db.commit()
    assert (w.db.get_one(Shift, mine.id).staff_id, w.db.get_one(Shift, theirs.id).staff_id) == (w.bob.id, w.ann.id)
    steps = w.db.scalars(select(StepHistory.transition).where(StepHistory.process == "duty_request")).all()
    assert steps == ["ask", "approve"]


@SQLITE
def test_r_duty_7_a_supervisor_cannot_approve_a_swap_involving_themselves(w: World, make_user) -> None:
    boss_desk = make_user(Role.cs_manager, "boss2")
    (shift,) = w.place(Slot(MONDAY, "early", w.ann.id))
    request = requests.ask(w.db, actor(w.ann), w.estate, w.ann, shift.id, RequestKind.leave, local(MONDAY, 0) - _week)
    w.db.commit()
    request.colleague_id = boss_desk.id  # a swap naming the supervisor
    request.kind = RequestKind.swap
    w.db.commit()
    with pytest.raises(Forbidden) as refused:
        requests.decide(w.db, actor(boss_desk), w.estate, boss_desk, request.id, True, local(MONDAY, 0) - _week)
    assert refused.value.code == "own_request"
    w.db.rollback()
    # a leave approved leaves the shift uncovered; a refusal needs its reason
    requests.decide(w.db, actor(w.boss), w.estate, w.boss, request.id, False, local(MONDAY, 0) - _week, "人手不足")
    assert w.db.get_one(DutyRequest, request.id).state == RequestState.refused


@SQLITE
def test_r_duty_1_lateness_and_absence_recorded(w: World) -> None:
    early, late = w.place(Slot(MONDAY, "early", w.ann.id), Slot(MONDAY, "late", w.bob.id))
    with pytest.raises(Conflict):  # too early for the shift
        attendance.sign_in(w.db, actor(w.ann), w.estate, w.ann, local(MONDAY, 7, 0))
    attendance.sign_in(w.db, actor(w.ann), w.estate, w.ann, local(MONDAY, 8, 4))  # within the grace
    assert early.late_minutes == 0
    attendance.review(w.db, actor(w.boss), w.estate, local(MONDAY, 22, 59))
    assert not late.absent
    attendance.review(w.db, actor(w.boss), w.estate, local(MONDAY, 23, 0))
    attendance.review(w.db, actor(w.boss), w.estate, local(MONDAY, 23, 30))
    assert late.absent
    absent = w.db.scalars(select(AuditEntry).where(AuditEntry.action == "duty.absent")).all()
    assert len(absent) == 1
    tuesday = MONDAY.replace(day=8)
    (tue,) = w.place(Slot(tuesday, "early", w.cat.id))
    attendance.sign_in(w.db, actor(w.cat), w.estate, w.cat, local(tuesday, 8, 17))
    assert tue.late_minutes == 17
    listed = attendance.lapses(w.db, w.estate, local(MONDAY, 0), local(MONDAY.replace(day=14), 0))
    assert [s.id for s in listed] == [late.id, tue.id]


def test_r_duty_1_a_missing_relief_keeps_the_shift_open_and_alerts_the_supervisor_once(w: World) -> None:
    early, late = w.place(Slot(MONDAY, "early", w.ann.id), Slot(MONDAY, "late", w.bob.id))
    attendance.sign_in(w.db, actor(w.ann), w.estate, w.ann, local(MONDAY, 7, 55))
    w.db.commit()
    with pytest.raises(Conflict) as leaving:
        attendance.sign_out(w.db, actor(w.ann), w.estate, w.ann, local(MONDAY, 15, 0))
    assert leaving.value.code == "shift_not_over"
    w.db.rollback()
    with pytest.raises(Conflict) as waiting:
        attendance.sign_out(w.db, actor(w.ann), w.estate, w.ann, local(MONDAY, 15, 31))
    assert waiting.value.code == "relief_missing" and waiting.value.keep_changes
    w.db.commit()  # as the console keeps a refusal that must stay recorded
    assert early.signed_out_at is None and early.relief_alerted_at == local(MONDAY, 15, 31)
    alerts = attendance.review(w.db, actor(w.boss), w.estate, local(MONDAY, 15, 40))
    assert [a.shift.id for a in alerts] == [early.id]
    assert [s.id for s in attendance.on_duty(w.db, w.estate, local(MONDAY, 15, 40))] == [early.id, late.id]
    count = select(func.count()).select_from(AuditEntry).where(AuditEntry.action == "duty.relief_missing")
    assert w.db.scalar(count) == 1  # alerted once for the shift
    attendance.sign_in(w.db, actor(w.bob), w.estate, w.bob, local(MONDAY, 15, 45))
    w.db.commit()
    assert late.late_minutes == 15
    assert attendance.sign_out(w.db, actor(w.ann), w.estate, w.ann, local(MONDAY, 15, 50)).signed_out_at
    assert attendance.review(w.db, actor(w.boss), w.estate, local(MONDAY, 16)) == []
    # the last shift of the day has no relief to wait for
    with pytest.raises(Conflict):
        attendance.sign_out(w.db, actor(w.bob), w.estate, w.bob, local(MONDAY, 22, 0))
    w.db.rollback()
    assert attendance.sign_out(w.db, actor(w.bob), w.estate, w.bob, local(MONDAY, 23, 1)).signed_out_at


@SQLITE
def test_r_duty_1_another_estates_shift_is_not_found(w: World, db: Session) -> None:
    from server.domain import registry
    from server.domain.actors import SYSTEM
    from server.domain.errors import NotFound

    (shift,) = w.place(Slot(MONDAY, "early", w.ann.id))
    other = registry.create_estate(db, SYSTEM, "XY", "西苑", "Xiyuan")
    db.commit()
    with pytest.raises(NotFound):
        roster.move(db, actor(w.boss), other, w.boss, shift.id, None, local(MONDAY, 0))
    with pytest.raises(NotFound):
        requests.decide(db, actor(w.boss), other, w.boss, 999, True, local(MONDAY, 0))


@SQLITE
def test_r_duty_1_the_periodic_sweep_alerts_a_missing_relief_without_anyone_reading(w: World) -> None:
    """The app's duty sweep (server.web.app.sweep_duty) reviews every estate: the relief's absence is recorded
    and the supervisor alerted though nobody opened a page or tried to sign out; an idle sweep finds nothing."""
    early, late = w.place(Slot(MONDAY, "early", w.ann.id), Slot(MONDAY, "late", w.bob.id))
    attendance.sign_in(w.db, actor(w.ann), w.estate, w.ann, local(MONDAY, 8))
    w.db.commit()
    assert attendance.estates_to_review(w.db, local(MONDAY, 15, 29)) == []
    assert attendance.sweep(w.db, actor(w.boss), local(MONDAY, 15, 40)) == 1
    w.db.commit()
    assert early.relief_alerted_at == local(MONDAY, 15, 40) and early.signed_out_at is None
    assert attendance.estates_to_review(w.db, local(MONDAY, 16)) == []
    assert attendance.sweep(w.db, actor(w.boss), local(MONDAY, 23, 5)) == 1  # the relief never came: absent
    assert late.absent
    actions = w.db.scalars(select(AuditEntry.action).where(AuditEntry.action.like("duty.%"))).all()
    assert actions.count("duty.relief_missing") == 1 and actions.count("duty.absent") == 1
