"""Feedback and complaints in the console (R-FB-1…5): the forms with their filters (late ones), recording one the
day it comes in, one form with its history and the steps the reader may take — a standard answer, the form, the
department and the director's assistant, the department's written reply, the supervisor's signature, the answer to
the resident, the follow-up, filing —, the printed 《客户意见处理单》, and the monthly summary as a page, XLSX and PDF.
Every step is one call of `server.domain.service.feedback`."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.key_pages import pdf_file
from server.console.pages import form_action, record_step
from server.console.registers import form_file, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, page_size, view, wants_fragment
from server.console.service_feedback_forms import (
    CATEGORY,
    CHANNEL,
    DEPARTMENT,
    FEEDBACK_FORM,
    SUMMARY,
    TIMELINESS,
    form_values,
)
from server.contract.fields import Text, parse_day
from server.db.models import Channel, Estate, FeedbackCategory, FeedbackForm, FeedbackState, StaffUser
from server.domain import clock, registry
from server.domain.errors import DomainError
from server.domain.permissions import Perm
from server.domain.service import feedback, history
from server.domain.service.intake import FeedbackRequest
from server.domain.service.processes import FEEDBACK
from server.web.deps import Console, DbSession, Now, require
from server.web.params import PageNo, RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.service_view)]
Intake = Annotated[Console, require(Perm.service_intake)]
Caller = Annotated[Console, require(Perm.service_callbacks)]
Replier = Annotated[Console, require(Perm.feedback_reply)]
Supervisor = Annotated[Console, require(Perm.service_supervise)]
Filer = Annotated[Console, require(Perm.service_file)]

BASE = "/console/service/feedback"
STEPS = ("received", "answered_standard", "formed", "referred", "replied", "signed", "answered", "followed_up", "filed")
DONE = frozenset(f"feedback_{step}" for step in STEPS)
Choice = Annotated[Text, Query(max_length=20)]
FormChoice = Annotated[Text, Form(max_length=20)]
Writing = Annotated[Text, Form(max_length=2000)]


def _day(text: str) -> date | None:
    try:
        return parse_day(text) if text else None
    except ValueError:
        return None


def _month(estate: Estate, text: str, now: datetime) -> date:
    try:
        return parse_day(f"{text}-01") if text else clock.today(estate, now).replace(day=1)
    except ValueError:
        return clock.today(estate, now).replace(day=1)


@router.get("/service/feedback")
def forms(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    state: Choice = "",
    category: Choice = "",
    department: Choice = "",
    late: bool = False,
    since: Choice = "",
    until: Choice = "",
    page: PageNo = 1,
    done: Text = "",
) -> Response:
    estate = console.require_estate()
    f = feedback.FeedbackFilter(
        state=FeedbackState(state) if state in FeedbackState.__members__ else None,
        category=FeedbackCategory(category) if category in FeedbackCategory.__members__ else None,
        department=department if department in {d.value for d in feedback.DEPARTMENTS} else "",
        late=late,
        since=_day(since),
        until=_day(until),
    )
    found = feedback.forms_page(db, estate, f, now, page, page_size(request))
    query = {"state": state, "category": category, "department": department, "late": late, "since": since,
             "until": until}  # fmt: skip
    template = "service/feedback/list_table.html" if wants_fragment(request) else "service/feedback/list.html"
    return view(
        request, console, template, page=found, query=query, states=list(FeedbackState),
        categories=list(FeedbackCategory), departments=feedback.DEPARTMENTS, now_utc=now, is_late=feedback.is_late,
        month=clock.today(estate, now).strftime("%Y-%m"), flash=flash_key(done, DONE),
    )  # fmt: skip


# --- the monthly summary (R-FB-5) ------------------------------------------------------------------------------------


def _summary_rows(summary: feedback.Summary, lang: str) -> tuple[list[dict[str, object]], list[dict[str, object]]]:
    zh = lang == "zh"
    lines = [
        {**row, "category": CATEGORY[str(row["category"])] if zh else row["category"],
         "channel": CHANNEL[str(row["channel"])] if zh else row["channel"],
         "department": DEPARTMENT.get(str(row["department"]), row["department"]) if zh else row["department"],
         "timeliness": TIMELINESS[str(row["timeliness"])] if zh else row["timeliness"]}
        for row in summary.rows
    ]  # fmt: skip
    counts: list[dict[str, object]] = []
    for group, names, counter in (
        ("类别" if zh else "category", CATEGORY, summary.by_category),
        ("渠道" if zh else "channel", CHANNEL, summary.by_channel),
        ("部门" if zh else "department", DEPARTMENT, summary.by_department),
    ):
        counts += [
            {"group": group, "name": names.get(k, k) if zh else k, "count": n} for k, n in sorted(counter.items())
        ]
    timeliness = (("on_time", summary.on_time), ("late", summary.late), ("open", summary.open))
    counts += [{"group": "时效" if zh else "timeliness", "name": TIMELINESS[k] if zh else k, "count": n}
               for k, n in timeliness]  # fmt: skip
    return lines, counts


@router.get("/service/feedback/summary")
def summary_page(request: Request, console: Viewer, db: DbSession, now: Now, month: Choice = "") -> Response:
    estate = console.require_estate()
    first = _month(estate, month, now)
    summary = feedback.monthly_summary(db, estate, first, now)
    lines, counts = _summary_rows(summary, "zh")
    return view(
        request, console, "service/feedback/summary.html", summary=summary, lines=lines, counts=counts,
        month=f"{first:%Y-%m}", due_late=summary.due_at < now,
    )  # fmt: skip


@router.get("/service/feedback/summary.{fmt}")
def summary_export(
    console: Viewer, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"], month: Choice = ""
) -> Response:
    """R-FB-5 as files: the lines of the month and the counts by category, channel, department and timeliness."""
    estate = console.require_estate()
    first = _month(estate, month, now)
    summary = feedback.monthly_summary(db, estate, first, now)
    lines, counts = _summary_rows(summary, "zh")
    heading = f"{estate.name} · {first:%Y-%m} · 共 {summary.total} 件，按时 {summary.on_time}，逾期 {summary.late}"
    name = f"feedback-summary-{first:%Y-%m}.{fmt}"
    if fmt == "pdf":
        return pdf_file(register_pdf(SUMMARY, [*lines, *_count_lines(counts)], heading=heading), name)
    return Response(
        register_xlsx(SUMMARY, [*lines, *_count_lines(counts)], heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


def _count_lines(counts: list[dict[str, object]]) -> list[dict[str, object]]:
    """The counts under the lines, in the summary's own columns: group in the number's, item and count beside."""
    return [{"number": f"【{c['group']}】", "received_at": c["name"], "category": c["count"]} for c in counts]


# --- recording (R-FB-1) ----------------------------------------------------------------------------------------------


def _new_page(
    request: Request, console: Console, *, status: int = 200, values: dict[str, Any] | None = None, error: str = ""
) -> HTMLResponse:
    return view(
        request, console, "service/feedback/new.html", status=status, error=error,
        v=values or {"channel": "phone", "category": "complaint", "contact_back": "phone"},
        channels=list(Channel), categories=list(FeedbackCategory),
    )  # fmt: skip


@router.get("/service/feedback/new")
def new_form(request: Request, console: Intake) -> Response:
    return _new_page(request, console)


@router.post("/service/feedback/new")
def receive(
    request: Request,
    console: Intake,
    db: DbSession,
    now: Now,
    channel: FormChoice = "",
    category: FormChoice = "",
    unit: Annotated[Text, Form(max_length=16)] = "",
    contact_name: Annotated[Text, Form(max_length=40)] = "",
    contact_phone: FormChoice = "",
    contact_back: FormChoice = "phone",
    subject: Annotated[Text, Form(max_length=100)] = "",
    details: Writing = "",
) -> Response:
    estate = console.require_estate()
    values = {
        "channel": channel, "category": category, "unit": unit, "contact_name": contact_name,
        "contact_phone": contact_phone, "contact_back": contact_back, "subject": subject, "details": details,
    }  # fmt: skip

    def save() -> Response:
        if channel not in Channel.__members__ or category not in FeedbackCategory.__members__:
            raise DomainError("请选择渠道和类别", "choose the channel and the category", code="missing_fields")
        if not contact_name.strip():
            raise DomainError("请填写住户姓名", "give the resident's name", code="missing_fields")
        found = registry.get_unit(db, estate, unit) if unit.strip() else None
        form = feedback.receive(
            db, console.actor, estate,
            FeedbackRequest(Channel(channel), FeedbackCategory(category), contact_name, subject, details,
                            contact_phone, contact_back or "phone", found.id if found else None),
            now, by=console.user,
        )  # fmt: skip
        return RedirectResponse(f"{BASE}/{form.id}?done=feedback_received", status_code=303)

    def again(status: int, error: str) -> Response:
        return _new_page(request, console, status=status, values=values, error=error)

    return form_action(request, db, save, again)


# --- one form --------------------------------------------------------------------------------------------------------


def _supervisor(db: Session, form: FeedbackForm) -> str:
    if form.supervisor_signed_by_id is None:
        return ""
    user = db.get(StaffUser, form.supervisor_signed_by_id)
    return user.display_name if user is not None else ""


def _form_page(
    request: Request, db: Session, console: Console, form: FeedbackForm, now: datetime, *, status: int = 200,
    **context: Any,
) -> HTMLResponse:  # fmt: skip
    estate = console.require_estate()
    return view(
        request, console, "service/feedback/detail.html", status=status, form=form, late=feedback.is_late(form, now),
        steps=history.steps(db, FEEDBACK, form), answers=feedback.answers(db, estate, active_only=True),
        departments=feedback.DEPARTMENTS, supervisor=_supervisor(db, form),
        may_reply=console.can(Perm.feedback_reply) and console.user.role.value in ("admin", form.department),
        **context,
    )  # fmt: skip


@router.get("/service/feedback/{feedback_id}")
def form_page(
    request: Request, console: Viewer, db: DbSession, now: Now, feedback_id: RowId, done: Text = ""
) -> Response:
    form = feedback.get_form(db, console.require_estate(), feedback_id)
    return _form_page(request, db, console, form, now, flash=flash_key(done, DONE))


def _step(
    request: Request, db: Session, console: Console, now: datetime, feedback_id: int,
    take: Callable[[FeedbackForm], None], done: str,
) -> Response:  # fmt: skip
    return record_step(
        request, db, lambda: feedback.get_form(db, console.require_estate(), feedback_id), take,
        lambda form: f"{BASE}/{form.id}?done=feedback_{done}",
        lambda form, status, error: _form_page(request, db, console, form, now, status=status, error=error),
    )  # fmt: skip


@router.post("/service/feedback/{feedback_id}/answer-standard")
def answer_standard(
    request: Request, console: Intake, db: DbSession, now: Now, feedback_id: RowId,
    answer_id: FormChoice = "", text: Writing = "",
) -> Response:  # fmt: skip
    """R-FB-2: answered the same day from the library."""

    def take(form: FeedbackForm) -> None:
        if not answer_id.isdigit():
            raise DomainError("请选择标准答复", "choose a standard answer", code="missing_fields")
        row = feedback.get_answer(db, console.require_estate(), int(answer_id))
        feedback.answer_standard(db, console.actor, form, row, now, by=console.user, text=text)

    return _step(request, db, console, now, feedback_id, take, "answered_standard")


@router.post("/service/feedback/{feedback_id}/form")
def fill_form(
    request: Request, console: Intake, db: DbSession, now: Now, feedback_id: RowId, details: Writing = ""
) -> Response:
    def take(form: FeedbackForm) -> None:
        feedback.fill_form(db, console.actor, form, details, now, by=console.user)

    return _step(request, db, console, now, feedback_id, take, "formed")


@router.post("/service/feedback/{feedback_id}/refer")
def refer(
    request: Request, console: Intake, db: DbSession, now: Now, feedback_id: RowId, department: FormChoice = "",
    assistant_informed: Annotated[bool, Form()] = False, note: Annotated[Text, Form(max_length=200)] = "",
) -> Response:  # fmt: skip
    """R-FB-3: to the department the same day, the director's assistant informed."""

    def take(form: FeedbackForm) -> None:
        feedback.refer(
            db, console.actor, form, department, now, by=console.user, assistant_informed=assistant_informed, note=note
        )

    return _step(request, db, console, now, feedback_id, take, "referred")


@router.post("/service/feedback/{feedback_id}/reply")
def reply(
    request: Request, console: Replier, db: DbSession, now: Now, feedback_id: RowId, reply: Writing = ""
) -> Response:
    """R-FB-3: the department's written reply, within 1 working day."""

    def take(form: FeedbackForm) -> None:
        feedback.reply(db, console.actor, form, reply, now, by=console.user)

    return _step(request, db, console, now, feedback_id, take, "replied")


@router.post("/service/feedback/{feedback_id}/sign")
def sign(request: Request, console: Supervisor, db: DbSession, now: Now, feedback_id: RowId) -> Response:
    def take(form: FeedbackForm) -> None:
        feedback.sign(db, console.actor, form, now, by=console.user)

    return _step(request, db, console, now, feedback_id, take, "signed")


@router.post("/service/feedback/{feedback_id}/answer")
def answer(
    request: Request, console: Caller, db: DbSession, now: Now, feedback_id: RowId, text: Writing = ""
) -> Response:
    """R-FB-4: the resident is told the signed answer."""

    def take(form: FeedbackForm) -> None:
        feedback.answer_resident(db, console.actor, form, text, now, by=console.user)

    return _step(request, db, console, now, feedback_id, take, "answered")


@router.post("/service/feedback/{feedback_id}/follow-up")
def follow_up(
    request: Request, console: Intake, db: DbSession, now: Now, feedback_id: RowId,
    text: Annotated[Text, Form(max_length=500)] = "",
) -> Response:  # fmt: skip
    def take(form: FeedbackForm) -> None:
        feedback.follow_up(db, console.actor, form, text, now, by=console.user)

    return _step(request, db, console, now, feedback_id, take, "followed_up")


@router.post("/service/feedback/{feedback_id}/file")
def file(request: Request, console: Filer, db: DbSession, now: Now, feedback_id: RowId) -> Response:
    def take(form: FeedbackForm) -> None:
        feedback.file(db, console.actor, form, now, by=console.user)

    return _step(request, db, console, now, feedback_id, take, "filed")


@router.get("/service/feedback/{feedback_id}/form.{fmt}")
def form_print(console: Viewer, db: DbSession, feedback_id: RowId, fmt: Literal["pdf", "xlsx"]) -> Response:
    """《客户意见处理单》 as it stands, for the binder."""
    estate = console.require_estate()
    form = feedback.get_form(db, estate, feedback_id)
    values = form_values(form, estate, _supervisor(db, form))
    return form_file(fmt, FEEDBACK_FORM, values, form.number, heading=estate.name)
