"""The front desk's duty in the console (R-DUTY-1, 7): the duty landing page (who is on duty now, my next shifts,
the 上岗/下岗 button, relief alerts, lateness and absence), the week's roster 《排班表》 with the supervisor's edits
and its printable PDF and XLSX, and leave and swap requests with the supervisor's queue.

Record ids travel in the forms' fields; every one is looked up within the console's estate (another estate's
record is not found)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console.key_pages import pdf_file
from server.console.pages import form_action, language
from server.console.registers import Column, Register, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, view
from server.contract.fields import Text, parse_day
from server.db.models import Estate, StaffUser
from server.db.models.duty import RequestKind, Shift, ShiftPattern
from server.domain import clock
from server.domain.actors import Actor
from server.domain.duty import attendance, requests, roster
from server.domain.errors import DomainError
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, Now, require

router = APIRouter()

Viewer = Annotated[Console, require(Perm.duty_view)]
Manager = Annotated[Console, require(Perm.duty_manage)]
Field = Annotated[Text, Form(max_length=40)]
Note = Annotated[Text, Form(max_length=500)]
WeekQ = Annotated[Text, Query(max_length=10)]
REVIEW = Actor(kind="system", name="duty review")
WEEKDAYS = ("一", "二", "三", "四", "五", "六", "日")
DONE = frozenset(
    {"duty_signed_in", "duty_signed_out", "roster_generated", "roster_assigned", "roster_moved", "roster_removed",
     "request_asked", "request_approved", "request_refused", "request_withdrawn"}
)  # fmt: skip

ROSTER = Register(
    "duty-roster", "排班表", "Duty roster",
    (Column("day", "日期", "Date", 14), Column("weekday", "星期", "Day", 8), Column("shift", "班次", "Shift", 10),
     Column("hours", "时间", "Hours", 16), Column("staff", "值班人员", "On duty", 18),
     Column("signed_in", "上岗", "Signed in", 12), Column("signed_out", "下岗", "Signed out", 12),
     Column("remark", "备注", "Remarks", 20)),
    signatures=(("制表人", "Prepared by"), ("主管审批", "Approved by the supervisor")),
)  # fmt: skip


def _int(text: str) -> int | None:
    text = text.strip()
    return int(text) if text.isdigit() and len(text) < 10 else None


def _need_int(text: str, name: str) -> int:
    value = _int(text)
    if value is None:
        raise DomainError(f"缺少必填项：{name}", f"missing: {name}", code="missing_fields", fields=[name])
    return value


def _day(text: str, fallback: date | None = None) -> date:
    if not text:
        if fallback is None:
            raise DomainError("缺少必填项：日期", "missing: date", code="missing_fields", fields=["day"])
        return fallback
    try:
        return parse_day(text)
    except ValueError:
        if fallback is not None:
            return fallback
        raise DomainError(f"日期无效：{text}", f"not a date: {text}", code="bad_date") from None


def _names(db: Session, ids: Iterable[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.display_name for u in db.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)))}


def _patterns(db: Session, estate: Estate) -> dict[int, ShiftPattern]:
    roster.patterns(db, estate)
    return {p.id: p for p in db.scalars(select(ShiftPattern).where(ShiftPattern.estate_id == estate.id))}


def _page(request: Request, console: Console, template: str, status: int = 200, **context: Any) -> HTMLResponse:
    lang = language(request)
    return view(
        request,
        console,
        template,
        status=status,
        pattern_name=lambda p: p.name_zh if lang == "zh" or not p.name_en else p.name_en,
        hm=lambda at: clock.local_text(console.estate, at)[11:] if at else "",
        **context,
    )


# --- the duty landing page: on duty now, my next shifts, 上岗/下岗, relief alerts ----------------------------------


def _landing(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, error: str = "",
    flash: str = "",
) -> HTMLResponse:  # fmt: skip
    estate = console.require_estate()
    alerts = attendance.review(db, REVIEW, estate, now)
    today = clock.local_day(estate, now)
    mine = [
        s for s in roster.shifts_between(db, estate, today, today + timedelta(days=13))
        if s.staff_id == console.user.id and s.signed_out_at is None and s.ends_at > now
    ]  # fmt: skip
    on_duty = attendance.on_duty(db, estate, now)
    monday = roster.week_of(today)
    lapses = attendance.lapses(db, estate, *clock.day_bounds(estate, monday - timedelta(days=7))[:1],
                               clock.day_bounds(estate, today)[1]) if console.can(Perm.duty_manage) else []  # fmt: skip
    shown = [*mine, *on_duty, *lapses, *(a.shift for a in alerts), *(w for a in alerts for w in a.waiting_for)]
    return _page(
        request, console, "duty/roster/landing.html", status=status,
        today=today, on_duty=on_duty, mine=mine, alerts=alerts, lapses=lapses,
        open_shift=attendance.open_shift(db, estate, console.user),
        can_sign_in=attendance.current_shift(db, estate, console.user, now) is not None,
        names=_names(db, (s.staff_id for s in shown)), patterns=_patterns(db, estate),
        flash=flash, error=error, weekdays=WEEKDAYS,
    )  # fmt: skip


@router.get("/duty")
def landing(request: Request, console: Viewer, db: DbSession, now: Now, done: Text = "") -> Response:
    return _landing(request, db, console, now, flash=flash_key(done, DONE))


@router.post("/duty/sign")
def sign(request: Request, console: Viewer, db: DbSession, now: Now, action: Field = "") -> Response:
    """上岗/下岗: sign in to one's current shift, or sign out of the open one (refused while the relief is missing:
    the refusal and the supervisor's alert are kept)."""
    estate = console.require_estate()

    def act() -> Response:
        if action == "out":
            attendance.sign_out(db, console.actor, estate, console.user, now)
            return RedirectResponse("/console/duty?done=duty_signed_out", status_code=303)
        attendance.sign_in(db, console.actor, estate, console.user, now)
        return RedirectResponse("/console/duty?done=duty_signed_in", status_code=303)

    return form_action(request, db, act, lambda status, error: _landing(request, db, console, now, status=status,
                                                                        error=error))  # fmt: skip


# --- the week's roster 《排班表》 ------------------------------------------------------------------------------------


def _week_rows(db: Session, estate: Estate, monday: date, lang: str) -> list[dict[str, object]]:
    shifts = roster.week(db, estate, monday)
    names, patterns = _names(db, (s.staff_id for s in shifts)), _patterns(db, estate)
    rows: list[dict[str, object]] = []
    for s in shifts:
        p = patterns[s.pattern_id]
        remark = []
        if s.late_minutes:
            remark.append(f"迟到 {s.late_minutes} 分钟" if lang == "zh" else f"late {s.late_minutes} min")
        if s.absent:
            remark.append("缺勤" if lang == "zh" else "absent")
        rows.append({
            "day": s.day.isoformat(), "weekday": WEEKDAYS[s.day.weekday()] if lang == "zh" else f"{s.day:%a}",
            "shift": p.name_zh if lang == "zh" or not p.name_en else p.name_en,
            "hours": f"{p.starts:%H:%M}–{p.ends:%H:%M}",
            "staff": names.get(s.staff_id, "") if s.staff_id else ("待安排" if lang == "zh" else "uncovered"),
            "signed_in": clock.local_text(estate, s.signed_in_at)[11:],
            "signed_out": clock.local_text(estate, s.signed_out_at)[11:],
            "remark": "；".join(remark),
        })  # fmt: skip
    return rows


def _roster_page(
    request: Request, db: Session, console: Console, now: datetime, week: str, *, status: int = 200,
    error: str = "", flash: str = "",
) -> HTMLResponse:  # fmt: skip
    estate = console.require_estate()
    attendance.review(db, REVIEW, estate, now)
    monday = roster.week_of(_day(week, clock.local_day(estate, now)))
    shifts = roster.week(db, estate, monday)
    patterns = list(roster.patterns(db, estate))
    grid = {
        (s.day, s.pattern_id): [x for x in shifts if (x.day, x.pattern_id) == (s.day, s.pattern_id)] for s in shifts
    }
    staff = roster.desk_staff(db, estate)
    return _page(
        request, console, "duty/roster/roster.html", status=status,
        monday=monday, days=[monday + timedelta(days=i) for i in range(7)], patterns=patterns, grid=grid,
        staff=staff, names=_names(db, [*(s.staff_id for s in shifts), *(u.id for u in staff)]),
        prev_week=(monday - timedelta(days=7)).isoformat(), next_week=(monday + timedelta(days=7)).isoformat(),
        can_manage=console.can(Perm.duty_manage), weekdays=WEEKDAYS, error=error, flash=flash,
    )  # fmt: skip


@router.get("/duty/roster")
def roster_page(
    request: Request, console: Viewer, db: DbSession, now: Now, week: WeekQ = "", done: Text = ""
) -> Response:
    return _roster_page(request, db, console, now, week, flash=flash_key(done, DONE))


@router.get("/duty/roster/export.{fmt}")
def roster_export(
    request: Request, console: Viewer, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"], week: WeekQ = ""
) -> Response:
    """The week's 《排班表》: PDF for the notice board and the binder, XLSX for the office."""
    estate = console.require_estate()
    monday = roster.week_of(_day(week, clock.local_day(estate, now)))
    lang = language(request)
    rows = _week_rows(db, estate, monday, lang)
    name = estate.name if lang == "zh" else (estate.name_en or estate.name)
    heading = f"{name}  {monday} – {monday + timedelta(days=6)}"
    if fmt == "pdf":
        return pdf_file(register_pdf(ROSTER, rows, lang=lang, heading=heading), f"duty-roster-{monday}.pdf")
    return Response(
        register_xlsx(ROSTER, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''duty-roster-{monday}.xlsx"},
    )


def _roster_form(request: Request, db: Session, console: Console, now: datetime, week: str, act: Any) -> Response:
    def again(status: int, error: str) -> Response:
        return _roster_page(request, db, console, now, week, status=status, error=error)

    return form_action(request, db, act, again)


def _back(week: str | date, done: str) -> RedirectResponse:
    return RedirectResponse(f"/console/duty/roster?week={week}&done={done}", status_code=303)


@router.post("/duty/roster/generate")
def generate(request: Request, console: Manager, db: DbSession, now: Now, week: Field = "") -> Response:
    estate = console.require_estate()

    def act() -> Response:
        monday = roster.week_of(_day(week, clock.local_day(estate, now)))
        roster.generate_week(db, console.actor, estate, console.user, monday, now)
        return _back(monday, "roster_generated")

    return _roster_form(request, db, console, now, week, act)


@router.post("/duty/roster/assign")
def assign(
    request: Request, console: Manager, db: DbSession, now: Now, day: Field = "", pattern: Field = "",
    staff_id: Field = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()

    def act() -> Response:
        on = _day(day)
        roster.place(db, console.actor, estate, console.user, [roster.Slot(on, pattern, _int(staff_id))], now)
        return _back(roster.week_of(on), "roster_assigned")

    return _roster_form(request, db, console, now, day, act)


@router.post("/duty/roster/move")
def move(
    request: Request, console: Manager, db: DbSession, now: Now, shift_id: Field = "", staff_id: Field = "",
    week: Field = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()

    def act() -> Response:
        shift = roster.move(
            db, console.actor, estate, console.user, _need_int(shift_id, "shift_id"), _int(staff_id), now
        )
        return _back(roster.week_of(shift.day), "roster_moved")

    return _roster_form(request, db, console, now, week, act)


@router.post("/duty/roster/remove")
def remove(
    request: Request, console: Manager, db: DbSession, now: Now, shift_id: Field = "", week: Field = ""
) -> Response:
    estate = console.require_estate()

    def act() -> Response:
        roster.remove(db, console.actor, estate, console.user, _need_int(shift_id, "shift_id"))
        return _back(week, "roster_removed")

    return _roster_form(request, db, console, now, week, act)


# --- leave and swap requests (R-DUTY-7) ----------------------------------------------------------------------------


def _requests_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, error: str = "",
    flash: str = "", values: dict[str, str] | None = None,
) -> HTMLResponse:  # fmt: skip
    estate = console.require_estate()
    today = clock.local_day(estate, now)
    upcoming = roster.shifts_between(db, estate, today + timedelta(days=1), today + timedelta(days=27))
    mine = [s for s in upcoming if s.staff_id == console.user.id]
    others = [s for s in upcoming if s.staff_id not in (None, console.user.id)]
    my_requests = requests.mine(db, estate, console.user)
    queue = requests.queue(db, estate) if console.can(Perm.duty_manage) else []
    shift_ids = {r.shift_id for r in [*my_requests, *queue]} | {
        r.colleague_shift_id for r in [*my_requests, *queue] if r.colleague_shift_id
    }
    shifts = {s.id: s for s in db.scalars(select(Shift).where(Shift.id.in_(shift_ids)))} if shift_ids else {}
    people = [*(r.requester_id for r in queue), *(r.colleague_id for r in [*my_requests, *queue])]
    staff = [u for u in roster.desk_staff(db, estate) if u.id != console.user.id]
    return _page(
        request, console, "duty/roster/requests.html", status=status,
        mine=mine, others=others, my_requests=my_requests, queue=queue, shifts=shifts, staff=staff,
        names=_names(db, [*people, *(s.staff_id for s in others), *(u.id for u in staff)]),
        patterns=_patterns(db, estate), kinds=list(RequestKind), weekdays=WEEKDAYS,
        error=error, flash=flash, v=values or {},
    )  # fmt: skip


@router.get("/duty/requests")
def requests_page(request: Request, console: Viewer, db: DbSession, now: Now, done: Text = "") -> Response:
    return _requests_page(request, db, console, now, flash=flash_key(done, DONE))


@router.post("/duty/requests")
def ask(
    request: Request, console: Viewer, db: DbSession, now: Now, shift_id: Field = "", kind: Field = "leave",
    colleague_id: Field = "", colleague_shift_id: Field = "", reason: Note = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()
    values = {"shift_id": shift_id, "kind": kind, "colleague_id": colleague_id,
              "colleague_shift_id": colleague_shift_id, "reason": reason}  # fmt: skip

    def act() -> Response:
        chosen = RequestKind(kind) if kind in RequestKind.__members__ else RequestKind.leave
        requests.ask(
            db, console.actor, estate, console.user, _need_int(shift_id, "shift_id"), chosen, now, reason=reason,
            colleague_id=_int(colleague_id), colleague_shift_id=_int(colleague_shift_id),
        )  # fmt: skip
        return RedirectResponse("/console/duty/requests?done=request_asked", status_code=303)

    return form_action(request, db, act, lambda status, error: _requests_page(
        request, db, console, now, status=status, error=error, values=values))  # fmt: skip


@router.post("/duty/requests/decide")
def decide(
    request: Request, console: Manager, db: DbSession, now: Now, request_id: Field = "", decision: Field = "",
    note: Note = "",
) -> Response:  # fmt: skip
    """The supervisor approves (the roster changes) or refuses (with the reason) a request."""
    estate = console.require_estate()

    def act() -> Response:
        approve = decision == "approve"
        requests.decide(db, console.actor, estate, console.user, _need_int(request_id, "request_id"), approve, now,
                        note)  # fmt: skip
        done = "request_approved" if approve else "request_refused"
        return RedirectResponse(f"/console/duty/requests?done={done}", status_code=303)

    return form_action(request, db, act, lambda status, error: _requests_page(
        request, db, console, now, status=status, error=error))  # fmt: skip


@router.post("/duty/requests/withdraw")
def withdraw(request: Request, console: Viewer, db: DbSession, now: Now, request_id: Field = "") -> Response:
    estate = console.require_estate()

    def act() -> Response:
        requests.withdraw(db, console.actor, estate, console.user, _need_int(request_id, "request_id"), now)
        return RedirectResponse("/console/duty/requests?done=request_withdrawn", status_code=303)

    return form_action(request, db, act, lambda status, error: _requests_page(
        request, db, console, now, status=status, error=error))  # fmt: skip
