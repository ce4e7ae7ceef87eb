"""Resident feedback and complaints (DOMAIN.md R-FB-1…5) on the FEEDBACK process: recorded the same day on the
feedback form 《客户意见处理单》; answered the same day from the library of standard answers where one fits; otherwise
the form within 1 working day, passed to the responsible department the same day with the director's assistant
informed, the department's written reply within 1 working day, the supervisor's signature, the resident answered,
followed up and filed; and the monthly summary before the 30th.

Each function checks what it is given and takes one step of the process in the caller's transaction; a refused
request changes nothing."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session

from server.db.models import (
    CallOutcome,
    CallReason,
    CallTask,
    Estate,
    FeedbackCategory,
    FeedbackForm,
    FeedbackState,
    Role,
    StaffUser,
    StandardAnswer,
)
from server.domain import audit, clock, deadlines, workdays, workflow
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, Forbidden, NotFound
from server.domain.paging import Page
from server.domain.permissions import Perm, allowed
from server.domain.service import calls, history, intake
from server.domain.service.processes import FEEDBACK, MONTHLY_SUMMARY, ONE_WORKING_DAY, SAME_DAY

F = FeedbackState
# The departments a form can go to: every role that writes replies (R-FB-3).
DEPARTMENTS = tuple(r for r in Role if r != Role.admin and allowed(r, Perm.feedback_reply))
WAITING = (F.received, F.formed, F.referred)  # states whose due time is the centre's or a department's


def get_form(session: Session, estate: Estate, form_id: int) -> FeedbackForm:
    form = session.get(FeedbackForm, form_id)
    if form is None or form.estate_id != estate.id:
        raise NotFound("本小区没有该意见单", "no such feedback form in this estate", code="form_not_found")
    return form


def receive(
    session: Session, actor: Actor, estate: Estate, request: intake.FeedbackRequest, at: datetime, *, by: StaffUser
) -> FeedbackForm:
    """R-FB-1: recorded the day it comes in, from any channel; the form is due within 1 working day (R-FB-3)."""
    return intake.open_feedback(session, actor, estate, request, at, by=by)


# --- the library of standard answers (R-FB-2) -------------------------------------------------------------------------


@dataclass(frozen=True)
class AnswerDraft:
    topic: str
    question: str
    answer: str
    active: bool = True


def _check_draft(draft: AnswerDraft) -> AnswerDraft:
    clean = AnswerDraft(draft.topic.strip(), draft.question.strip(), draft.answer.strip(), draft.active)
    missing = [name for name in ("topic", "question", "answer") if not getattr(clean, name)]
    if missing:
        zh, en = "请填写主题、问题和答复", "give the topic, the question and the answer"
        raise DomainError(zh, en, code="missing_fields", fields=missing)
    for name, limit in (("topic", 60), ("question", 200), ("answer", 1000)):
        if len(getattr(clean, name)) > limit:
            zh, en = f"{name} 过长（最多 {limit} 字）", f"{name} is too long (at most {limit})"
            raise DomainError(zh, en, code="too_long", field=name)
    return clean


def add_answer(session: Session, actor: Actor, estate: Estate, draft: AnswerDraft, at: datetime) -> StandardAnswer:
    clean = _check_draft(draft)
    row = StandardAnswer(
        estate_id=estate.id, topic=clean.topic, question=clean.question, answer=clean.answer, active=clean.active,
        updated_by=actor.label, updated_at=at,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(session, actor, "standard_answer.added", "standard_answer", row.id, estate_id=estate.id)
    return row


def update_answer(session: Session, actor: Actor, row: StandardAnswer, draft: AnswerDraft, at: datetime) -> None:
    """Change an answer, or retire it (`active` False): forms answered with it keep pointing at it."""
    clean = _check_draft(draft)
    row.topic, row.question, row.answer, row.active = clean.topic, clean.question, clean.answer, clean.active
    row.updated_by, row.updated_at = actor.label, at
    session.flush()
    audit.record(
        session, actor, "standard_answer.updated", "standard_answer", row.id, estate_id=row.estate_id,
        active=row.active,
    )  # fmt: skip


def get_answer(session: Session, estate: Estate, answer_id: int) -> StandardAnswer:
    row = session.get(StandardAnswer, answer_id)
    if row is None or row.estate_id != estate.id:
        raise NotFound("没有该标准答复", "no such standard answer", code="answer_not_found")
    return row


def answers(session: Session, estate: Estate, *, active_only: bool = False, q: str = "") -> list[StandardAnswer]:
    query = select(StandardAnswer).where(StandardAnswer.estate_id == estate.id)
    if active_only:
        query = query.where(StandardAnswer.active.is_(True))
    if q.strip():
        like = f"%{q.strip()}%"
        query = query.where(
            StandardAnswer.topic.ilike(like) | StandardAnswer.question.ilike(like) | StandardAnswer.answer.ilike(like)
        )
    return list(session.scalars(query.order_by(StandardAnswer.topic, StandardAnswer.id)))


def answer_standard(
    session: Session,
    actor: Actor,
    form: FeedbackForm,
    answer: StandardAnswer,
    at: datetime,
    *,
    by: StaffUser,
    text: str = "",
) -> None:
    """R-FB-2: a question the library answers is answered the same day, with the library's words (or the desk's
    adaptation of them)."""
    if answer.estate_id != form.estate_id or not answer.active:
        raise NotFound("没有该标准答复", "no such standard answer", code="answer_not_found")
    estate = session.get_one(Estate, form.estate_id)
    same_day = clock.local_day(estate, at) == clock.local_day(estate, form.received_at)
    workflow.step(
        session, actor, FEEDBACK, form, "answer_standard", at, by=by, note=answer.topic[:200],
        fields={"answer_to_resident": (text.strip() or answer.answer)[:1000], "standard_answer_id": answer.id},
        same_day=same_day,
    )  # fmt: skip


# --- the form, the department, the reply (R-FB-3) --------------------------------------------------------------------


def fill_form(session: Session, actor: Actor, form: FeedbackForm, details: str, at: datetime, *, by: StaffUser) -> None:
    """The form filled in (within 1 working day of receipt); it goes to the department the same day."""
    workflow.step(session, actor, FEEDBACK, form, "form", at, by=by, fields={"details": details.strip()[:2000]})


def refer(
    session: Session,
    actor: Actor,
    form: FeedbackForm,
    department: str,
    at: datetime,
    *,
    by: StaffUser,
    assistant_informed: bool,
    note: str = "",
) -> None:
    """To the responsible department the same day the form was filled, with the director's assistant informed;
    the department's written reply is due within 1 working day."""
    if department not in {d.value for d in DEPARTMENTS}:
        zh, en = "请选择责任部门", "choose the responsible department"
        raise DomainError(zh, en, code="bad_department", field="department")
    if not assistant_informed:
        raise DomainError(
            "转交部门时须同时报告主任助理", "the director's assistant must be informed when the form is passed on",
            code="assistant_not_informed", field="assistant_informed",
        )  # fmt: skip
    workflow.step(
        session, actor, FEEDBACK, form, "refer", at, by=by, note=note.strip()[:200],
        fields={"department": department, "assistant_informed_at": at},
    )  # fmt: skip
    audit.record(
        session, actor, "feedback.assistant_informed", "feedback", form.id, estate_id=form.estate_id,
        department=department,
    )  # fmt: skip


def reply(session: Session, actor: Actor, form: FeedbackForm, text: str, at: datetime, *, by: StaffUser) -> None:
    """The referred department's written reply (R-FB-3): only a member of that department (or an administrator)
    writes it; a form already filed takes no reply."""
    if form.state == F.filed:
        raise Conflict(
            f"意见单 {form.number} 已归档，不能再回复", f"form {form.number} is filed: it takes no more replies",
            code="form_filed",
        )  # fmt: skip
    if form.state == F.referred and by.role not in (Role.admin, Role(form.department)):
        zh, en = "只有被转交的部门可以回复", "only the department the form was passed to may reply"
        raise Forbidden(zh, en, code="not_your_department")
    workflow.step(
        session, actor, FEEDBACK, form, "reply", at, by=by,
        fields={"reply": text.strip()[:2000], "replied_by": by.display_name or by.username},
        late=bool(form.due_at is not None and at > form.due_at),
    )  # fmt: skip


def sign(session: Session, actor: Actor, form: FeedbackForm, at: datetime, *, by: StaffUser) -> CallTask:
    """R-FB-4: the supervisor signs the reply; the desk then owes the resident the answer."""
    workflow.step(session, actor, FEEDBACK, form, "sign", at, by=by, fields={"supervisor_signed_by_id": by.id})
    estate = session.get_one(Estate, form.estate_id)
    return calls.open_task(session, actor, estate, CallReason.feedback_answer, at, feedback=form)


def answer_resident(
    session: Session, actor: Actor, form: FeedbackForm, text: str, at: datetime, *, by: StaffUser
) -> None:
    """The resident is told the signed answer: the call task is closed with it (R-FB-4)."""
    fields = {"answer_to_resident": text.strip()[:1000]}
    workflow.check(FEEDBACK, form, "answer", by=by, fields=fields)
    task = session.scalars(
        select(CallTask).where(
            CallTask.feedback_id == form.id, CallTask.reason == CallReason.feedback_answer, CallTask.done_at.is_(None)
        )
    ).first()
    if task is not None:
        calls.close_task(session, actor, task, CallOutcome.reached_satisfied, at, by=by, note=text.strip()[:300])
    workflow.step(session, actor, FEEDBACK, form, "answer", at, by=by, fields=fields)


def follow_up(session: Session, actor: Actor, form: FeedbackForm, text: str, at: datetime, *, by: StaffUser) -> None:
    workflow.step(session, actor, FEEDBACK, form, "follow_up", at, by=by, fields={"follow_up": text.strip()[:500]})


def file(session: Session, actor: Actor, form: FeedbackForm, at: datetime, *, by: StaffUser) -> None:
    workflow.step(session, actor, FEEDBACK, form, "file", at, by=by, fields={"filed_at": at})


# --- listings ---------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FeedbackFilter:
    state: FeedbackState | None = None
    category: FeedbackCategory | None = None
    department: str = ""
    late: bool = False
    since: date | None = None
    until: date | None = None


def _filtered(estate: Estate, f: FeedbackFilter, now: datetime) -> Select[FeedbackForm]:
    query = select(FeedbackForm).where(FeedbackForm.estate_id == estate.id)
    if f.state is not None:
        query = query.where(FeedbackForm.state == f.state)
    if f.category is not None:
        query = query.where(FeedbackForm.category == f.category)
    if f.department:
        query = query.where(FeedbackForm.department == f.department)
    if f.late:
        query = query.where(FeedbackForm.state.in_(WAITING), FeedbackForm.due_at < now)
    if f.since is not None:
        query = query.where(FeedbackForm.received_at >= clock.day_bounds(estate, f.since)[0])
    if f.until is not None:
        query = query.where(FeedbackForm.received_at < clock.day_bounds(estate, f.until)[1])
    return query


def forms_page(
    session: Session, estate: Estate, f: FeedbackFilter, now: datetime, page: int, size: int
) -> Page[FeedbackForm]:
    query = _filtered(estate, f, now)
    total = session.scalar(select(func.count()).select_from(query.order_by(None).subquery())) or 0
    page = max(1, min(page, max(1, -(-total // size))))
    found = session.scalars(query.order_by(FeedbackForm.id.desc()).limit(size).offset((page - 1) * size))
    return Page(list(found), total, page, size)


def is_late(form: FeedbackForm, now: datetime) -> bool:
    """Late: its current step, the centre's or the department's, is past its due time (a query, no flag)."""
    return form.state in WAITING and form.due_at is not None and form.due_at < now


# --- the monthly summary (R-FB-5) ------------------------------------------------------------------------------------


def summary_due(estate: Estate, at: datetime) -> datetime:
    """When the summary of the month `at` falls in is due: before the 30th (in February, by its last day)."""
    return deadlines.due(MONTHLY_SUMMARY, at, clock.zone(estate)).at


@dataclass
class Summary:
    month: date
    due_at: datetime
    total: int = 0
    by_category: Counter[str] = field(default_factory=Counter)
    by_channel: Counter[str] = field(default_factory=Counter)
    by_department: Counter[str] = field(default_factory=Counter)
    on_time: int = 0
    late: int = 0
    open: int = 0  # not answered yet, and not late yet
    rows: list[dict[str, object]] = field(default_factory=list)


def was_late(session: Session, estate: Estate, form: FeedbackForm, now: datetime) -> bool | None:
    """Whether the form missed a deadline of R-FB-2, 3 — the standard answer the same day, the form within 1 working
    day, the department the same day, the reply within 1 working day —, from its history; None while it is still
    within its time."""
    zone, work = clock.zone(estate), workdays.estate_calendar(session, estate)
    at = {s.transition: s.at for s in history.steps(session, FEEDBACK, form)}
    start = at.get("receive") or at.get("submit") or form.received_at
    checks: list[tuple[str, deadlines.Clock, datetime | None]] = [
        ("answer_standard", SAME_DAY, start),
        ("form", ONE_WORKING_DAY, start),
        ("refer", SAME_DAY, at.get("form")),
        ("reply", ONE_WORKING_DAY, at.get("refer")),
    ]
    checks = checks[:1] if "answer_standard" in at else checks[1:]
    for step_name, rule, since in checks:
        if since is None:
            break
        due = deadlines.due(rule, since, zone, work).at
        done = at.get(step_name)
        if (done or now) > due:
            return True
        if done is None:
            return None
    return False


def monthly_summary(session: Session, estate: Estate, month: date, now: datetime) -> Summary:
    """R-FB-5: the month's forms counted by category, channel and department, on time and late."""
    start, end = clock.month_bounds(estate, month)
    summary = Summary(month.replace(day=1), summary_due(estate, start))
    query = select(FeedbackForm).where(
        FeedbackForm.estate_id == estate.id, FeedbackForm.received_at >= start, FeedbackForm.received_at < end
    )
    for form in session.scalars(query.order_by(FeedbackForm.number)):
        summary.total += 1
        summary.by_category[form.category.value] += 1
        summary.by_channel[form.channel.value] += 1
        summary.by_department[form.department or "-"] += 1
        late = was_late(session, estate, form, now)
        if late is None:
            summary.open += 1
        elif late:
            summary.late += 1
        else:
            summary.on_time += 1
        summary.rows.append(
            {
                "number": form.number,
                "received_at": clock.local_text(estate, form.received_at),
                "category": form.category.value,
                "channel": form.channel.value,
                "subject": form.subject,
                "department": form.department,
                "state": form.state.value,
                "timeliness": "open" if late is None else ("late" if late else "on_time"),
            }
        )
    return summary
