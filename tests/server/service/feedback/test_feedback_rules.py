"""Feedback and complaints (DOMAIN.md R-FB-1…5) with the clock controlled: recorded the same day, standard answers
the same day, the form and the department's written reply each within 1 working day on the working-day calendar
(a weekend, the National Day holiday, a make-up Saturday), the supervisor's signature, the answer, filing, and the
monthly summary before the 30th."""

from __future__ import annotations

from datetime import date

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import (
    CallReason,
    CallTask,
    Channel,
    FeedbackCategory,
    FeedbackForm,
    FeedbackState,
    StandardAnswer,
    StepHistory,
)
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.service import feedback
from server.domain.service.intake import FeedbackRequest
from tests.server.service.feedback.conftest import SHANGHAI, Centre, actor, local

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def count(db: Session, model: type) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def test_r_fb_1_feedback_is_recorded_the_day_it_comes_in(db: Session, centre: Centre) -> None:
    form = centre.receive(db, "2026-11-04 16:00")
    assert form.number.startswith("GH-YJ-202611-") and form.state == FeedbackState.received
    assert form.received_at == local("2026-11-04 16:00") and form.contact_name == "王建国"
    db.commit()
    before = count(db, FeedbackForm)
    with pytest.raises(DomainError) as empty:
        request = FeedbackRequest(Channel.email, FeedbackCategory.suggestion, "李", " ")
        feedback.receive(db, actor(centre.desk), centre.estate, request, local("2026-11-04 16:00"), by=centre.desk)
    db.rollback()
    assert empty.value.code == "missing_fields" and count(db, FeedbackForm) == before


@pytest.mark.parametrize(
    ("received", "due"),
    [
        ("2026-11-04 16:00", "2026-11-05"),  # Wednesday: Thursday
        ("2026-11-06 10:00", "2026-11-09"),  # Friday: across the weekend, Monday
        ("2026-09-30 10:00", "2026-10-08"),  # the eve of National Day (1–7 October): the first day back
        ("2026-10-03 10:00", "2026-10-08"),  # in the holiday
        ("2026-10-09 10:00", "2026-10-10"),  # Friday before the make-up Saturday: that Saturday
        ("2026-09-24 10:00", "2026-09-28"),  # before the Mid-Autumn Friday and the weekend
    ],
)
def test_r_fb_3_the_form_is_due_within_1_working_day(db: Session, centre: Centre, received: str, due: str) -> None:
    form = centre.receive(db, received)
    assert form.due_at is not None and form.due_at.astimezone(SHANGHAI) == local(f"{due} 23:59:59")


def test_r_fb_2_a_standard_answer_answers_it_the_same_day(db: Session, centre: Centre) -> None:
    draft = feedback.AnswerDraft("物业费", "物业费怎么交？", "可在财务部或银行代扣缴纳。")
    row = feedback.add_answer(db, actor(centre.admin), centre.estate, draft, local("2026-11-01 09:00"))
    form = centre.receive(db, "2026-11-04 16:00", category=FeedbackCategory.question)
    feedback.answer_standard(db, actor(centre.desk), form, row, local("2026-11-04 16:05"), by=centre.desk)
    assert form.state == FeedbackState.answered and form.answer_to_resident == "可在财务部或银行代扣缴纳。"
    assert form.standard_answer_id == row.id
    assert feedback.was_late(db, centre.estate, form, local("2026-11-30 09:00")) is False
    late = centre.receive(db, "2026-11-04 17:00", category=FeedbackCategory.question)
    feedback.answer_standard(db, actor(centre.desk), late, row, local("2026-11-05 09:00"), by=centre.desk, text="改写")
    assert late.answer_to_resident == "改写" and feedback.was_late(db, centre.estate, late, local("2026-11-30")) is True


def test_r_fb_2_the_library_is_kept_and_retired_answers_are_not_offered(db: Session, centre: Centre) -> None:
    with pytest.raises(DomainError) as missing:
        feedback.add_answer(
            db, actor(centre.admin), centre.estate, feedback.AnswerDraft("a", "", ""), local("2026-11-01")
        )
    assert missing.value.code == "missing_fields" and count(db, StandardAnswer) == 0
    row = feedback.add_answer(db, actor(centre.admin), centre.estate, feedback.AnswerDraft("停车", "月卡？", "找前台"),
                              local("2026-11-01 09:00"))  # fmt: skip
    feedback.update_answer(db, actor(centre.admin), row, feedback.AnswerDraft("停车", "月卡？", "找前台", active=False),
                           local("2026-11-02 09:00"))  # fmt: skip
    assert feedback.answers(db, centre.estate, active_only=True) == []
    assert feedback.answers(db, centre.estate, q="月卡") == [row]
    form = centre.receive(db, "2026-11-04 16:00")
    with pytest.raises(NotFound):
        feedback.answer_standard(db, actor(centre.desk), form, row, local("2026-11-04 16:05"), by=centre.desk)
    assert form.state == FeedbackState.received


def test_r_fb_3_referred_the_same_day_with_the_assistant_told_and_replied_by_that_department(
    db: Session, centre: Centre
) -> None:
    form = centre.receive(db, "2026-11-06 10:00")  # a Friday
    feedback.fill_form(db, actor(centre.desk), form, "楼道灯坏了三天", local("2026-11-06 11:00"), by=centre.desk)
    assert form.due_at is not None and form.due_at.astimezone(SHANGHAI) == local("2026-11-06 23:59:59")
    steps = count(db, StepHistory)
    with pytest.raises(DomainError) as untold:
        feedback.refer(db, actor(centre.desk), form, "engineering", local("2026-11-06 11:05"), by=centre.desk,
                       assistant_informed=False)  # fmt: skip
    with pytest.raises(DomainError) as nowhere:
        feedback.refer(db, actor(centre.desk), form, "admin", local("2026-11-06 11:05"), by=centre.desk,
                       assistant_informed=True)  # fmt: skip
    assert (untold.value.code, nowhere.value.code) == ("assistant_not_informed", "bad_department")
    assert form.state == FeedbackState.formed and count(db, StepHistory) == steps
    feedback.refer(db, actor(centre.desk), form, "engineering", local("2026-11-06 11:05"), by=centre.desk,
                   assistant_informed=True)  # fmt: skip
    assert form.assistant_informed_at == local("2026-11-06 11:05") and form.department == "engineering"
    assert form.due_at is not None and form.due_at.astimezone(SHANGHAI) == local("2026-11-09 23:59:59")  # Monday
    with pytest.raises(Forbidden) as other:
        feedback.reply(
            db, actor(centre.environment), form, "不归我们管", local("2026-11-09 09:00"), by=centre.environment
        )
    assert other.value.code == "not_your_department" and form.state == FeedbackState.referred
    assert feedback.is_late(form, local("2026-11-10 00:00"))  # a query: past its due time, still referred
    feedback.reply(db, actor(centre.engineering), form, "已更换灯泡", local("2026-11-09 15:00"), by=centre.engineering)
    assert form.state == FeedbackState.replied and form.replied_by == centre.engineering.display_name
    assert feedback.was_late(db, centre.estate, form, local("2026-11-30 09:00")) is False


@pytest.mark.parametrize(
    ("referred", "in_time", "too_late"),
    [
        ("2026-09-30 16:00", "2026-10-08 17:00", "2026-10-09 09:00"),  # over National Day
        ("2026-10-09 16:00", "2026-10-10 17:00", "2026-10-11 09:00"),  # the make-up Saturday counts
    ],
)
def test_r_fb_3_the_written_reply_is_due_within_1_working_day(
    db: Session, centre: Centre, referred: str, in_time: str, too_late: str
) -> None:
    on_time, late = centre.receive(db, referred), centre.receive(db, referred)
    for form in (on_time, late):
        centre.refer(db, form, referred)
    feedback.reply(db, actor(centre.engineering), on_time, "已处理", local(in_time), by=centre.engineering)
    feedback.reply(db, actor(centre.engineering), late, "已处理", local(too_late), by=centre.engineering)
    assert feedback.was_late(db, centre.estate, on_time, local("2026-10-30")) is False
    assert feedback.was_late(db, centre.estate, late, local("2026-10-30")) is True


def test_r_fb_4_signed_answered_followed_up_filed_and_no_reply_after_filing(db: Session, centre: Centre) -> None:
    """R-FB-4: the supervisor signs the reply, the resident is answered, followed up and the form filed; no reply
    is taken after filing."""
    form = centre.receive(db, "2026-11-04 09:00")
    centre.refer(db, form, "2026-11-04 10:00")
    feedback.reply(db, actor(centre.engineering), form, "已更换灯泡", local("2026-11-04 15:00"), by=centre.engineering)
    with pytest.raises(Forbidden):  # the desk does not sign
        feedback.sign(db, actor(centre.desk), form, local("2026-11-04 16:00"), by=centre.desk)
    task = feedback.sign(db, actor(centre.supervisor), form, local("2026-11-04 16:00"), by=centre.supervisor)
    assert form.supervisor_signed_by_id == centre.supervisor.id
    assert (task.reason, task.feedback_id, task.opens_at) == (CallReason.feedback_answer, form.id, None)
    feedback.answer_resident(db, actor(centre.desk), form, "灯已修好", local("2026-11-04 17:00"), by=centre.desk)
    assert task.done_at is not None and form.state == FeedbackState.answered
    feedback.follow_up(db, actor(centre.desk), form, "住户确认灯亮", local("2026-11-05 10:00"), by=centre.desk)
    feedback.file(db, actor(centre.admin), form, local("2026-11-05 11:00"), by=centre.admin)
    db.commit()
    assert form.state == FeedbackState.filed and form.filed_at == local("2026-11-05 11:00")
    steps, tasks = count(db, StepHistory), count(db, CallTask)
    with pytest.raises(Conflict) as filed:
        feedback.reply(db, actor(centre.engineering), form, "补充", local("2026-11-06 09:00"), by=centre.engineering)
    db.rollback()
    assert filed.value.code == "form_filed"
    assert (form.reply, form.state, count(db, StepHistory), count(db, CallTask)) == (
        "已更换灯泡", FeedbackState.filed, steps, tasks
    )  # fmt: skip


def test_r_fb_5_the_monthly_summary_counts_and_is_due_before_the_30th(db: Session, centre: Centre) -> None:
    on_time = centre.receive(db, "2026-11-04 09:00")
    centre.refer(db, on_time, "2026-11-04 10:00")
    feedback.reply(db, actor(centre.engineering), on_time, "好", local("2026-11-05 09:00"), by=centre.engineering)
    late = centre.receive(db, "2026-11-10 09:00", FeedbackCategory.suggestion, Channel.email)
    centre.refer(db, late, "2026-11-12 09:00", department="environment")  # the form came two days later
    centre.receive(db, "2026-11-27 09:00", FeedbackCategory.praise)  # still within its time
    centre.receive(db, "2026-12-01 09:00")  # next month
    summary = feedback.monthly_summary(db, centre.estate, date(2026, 11, 1), local("2026-11-27 12:00"))
    assert summary.total == 3 and (summary.on_time, summary.late, summary.open) == (1, 1, 1)
    assert summary.by_category == {"complaint": 1, "suggestion": 1, "praise": 1}
    assert summary.by_channel == {"phone": 2, "email": 1}
    assert summary.by_department == {"engineering": 1, "environment": 1, "-": 1}
    assert summary.due_at.astimezone(SHANGHAI) == local("2026-11-29 23:59:59")
    due = feedback.summary_due
    assert due(centre.estate, local("2027-02-10 09:00")).astimezone(SHANGHAI) == local("2027-02-28 23:59:59")
    assert due(centre.estate, local("2026-11-30 09:00")).astimezone(SHANGHAI) == local("2026-12-29 23:59:59")
