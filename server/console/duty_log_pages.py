"""The front desk's duty pages: the information log 《信息记录表》 with routing, escalation, closing, repeated-issue
reports and the calls of the day (R-DUTY-2, 3, 5, R-PHONE); the shift handover (R-DUTY-4); the supervisor's and
manager's checks of the log (R-DUTY-6); the daily check sheet 《客户服务中心工作日检表》 (R-DUTY-8). The rules are in
server.domain.duty; these pages show and call them."""

from __future__ import annotations

import contextlib
from datetime import date, datetime, timedelta
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console.key_pages import pdf_file, row_id, translator
from server.console.pages import form_action, language
from server.console.registers import Column, Register, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, view
from server.contract.fields import Text, parse_day
from server.db.models import Estate, PhoneCall, Role, StaffUser, Unit
from server.db.models.dutylog import CheckKind, LogEntry, LogState, Urgency
from server.domain import clock
from server.domain.duty import checks, daysheet, handover, log
from server.domain.errors import DomainError
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, Now, require
from server.web.params import ROW_ID, RowId

router = APIRouter()

Reader = Annotated[Console, require(Perm.log_read)]
Writer = Annotated[Console, require(Perm.log_write)]
Checker = Annotated[Console, require(Perm.log_check)]
SheetRecorder = Annotated[Console, require(Perm.daysheet_record)]
SheetSigner = Annotated[Console, require(Perm.daysheet_sign)]

Choice = Annotated[Text, Query(max_length=20)]
DayQ = Annotated[Text, Query(max_length=10)]
Short = Annotated[Text, Form(max_length=60)]
Long = Annotated[Text, Form(max_length=1000)]
Note = Annotated[Text, Form(max_length=400)]

DONE = frozenset(
    {
        "entry_written", "entry_routed", "entry_escalated", "entry_closed", "report_written", "call_logged",
        "handover_written", "handover_acknowledged", "check_recorded", "sheet_recorded", "defect_recorded",
        "sheet_signed",
    }
)  # fmt: skip
CALL_DAYS = 7  # the call counts shown on the log page


def _day(text: str, default: date) -> date:
    try:
        return parse_day(text) if text.strip() else default
    except ValueError:
        raise DomainError(f"日期不对：{text}", f"not a date: {text}", code="bad_day") from None


def _flash(done: str) -> str:
    return flash_key(done, DONE).replace("flash.", "dutylog.flash.", 1) if flash_key(done, DONE) else ""


def _names(db: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    return {u.id: u.display_name for u in db.scalars(select(StaffUser).where(StaffUser.id.in_(wanted)))}


def _units(db: Session, entries: list[LogEntry]) -> dict[int, str]:
    wanted = {e.unit_id for e in entries if e.unit_id is not None}
    if not wanted:
        return {}
    return {u.id: u.code for u in db.scalars(select(Unit).where(Unit.id.in_(wanted)))}


# --- the information log 《信息记录表》 (R-DUTY-2, 3, 5, R-PHONE) ---------------------------------------------------


def _log_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200,
    state: str = "", urgency: str = "", mine: str = "", day: str = "", **context: Any,
) -> HTMLResponse:  # fmt: skip
    estate = console.require_estate()
    today = clock.today(estate, now)
    f = log.LogFilter(
        state=LogState(state) if state in LogState.__members__ else None,
        urgency=Urgency(urgency) if urgency in Urgency.__members__ else None,
        mine=console.user if mine else None,
    )
    with contextlib.suppress(ValueError):
        f = log.LogFilter(f.state, f.urgency, parse_day(day) if day else None, f.mine)
    entries = log.entries(db, estate, f)
    calls = _calls_of(db, estate, today)
    logged = set(db.scalars(select(LogEntry.phone_call_id).where(LogEntry.phone_call_id.is_not(None))))
    return view(
        request, console, "duty/log/log.html", status=status, entries=entries,
        names=_names(db, {e.routed_to_id for e in entries} | {e.written_by_id for e in entries}),
        units=_units(db, entries), query={"state": state, "urgency": urgency, "mine": mine, "day": day},
        states=list(LogState), urgencies=list(Urgency), reports=log.open_reports(db, estate),
        calls=calls, logged_calls=logged,
        per_day=log.calls_per_day(db, estate, today - timedelta(days=CALL_DAYS - 1), today),
        pending=handover.pending_for(db, estate, console.user), can_write=console.can(Perm.log_write), **context,
    )  # fmt: skip


def _calls_of(db: Session, estate: Estate, day: date) -> list[PhoneCall]:
    from server.domain.service import phone  # the service desk's call log, reused

    return phone.calls_of_day(db, estate, day)


@router.get("/duty/log")
def log_page(
    request: Request, console: Reader, db: DbSession, now: Now, state: Choice = "", urgency: Choice = "",
    mine: Choice = "", day: DayQ = "", done: Text = "",
) -> Response:  # fmt: skip
    return _log_page(request, db, console, now, state=state, urgency=urgency, mine=mine, day=day, flash=_flash(done))


@router.post("/duty/log")
def write_entry(
    request: Request, console: Writer, db: DbSession, now: Now, urgency: Short = "", category: Short = "",
    unit: Short = "", place: Short = "", reporter: Short = "", summary: Long = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()
    values = {"urgency": urgency, "category": category, "unit": unit, "place": place, "reporter": reporter,
              "summary": summary}  # fmt: skip

    def write() -> Response:
        data = log.EntryIn(urgency, category, summary, reporter=reporter, unit=unit, place=place)
        entry = log.write(db, console.actor, estate, data, now, by=console.user)
        done = "entry_written"
        return RedirectResponse(f"/console/duty/log?done={done}#entry-{entry.id}", status_code=303)

    def again(status: int, error: str) -> Response:
        return _log_page(request, db, console, now, status=status, error=error, v=values)

    return form_action(request, db, write, again)


@router.get("/duty/log/export.{fmt}")
def export_log(request: Request, console: Reader, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"],
               day: DayQ = "") -> Response:  # fmt: skip
    """The day's information log 《信息记录表》 for the binder (PDF) or the office (XLSX)."""
    estate = console.require_estate()
    when = _day(day, clock.today(estate, now))
    entries = log.entries(db, estate, log.LogFilter(day=when), limit=1000)
    names, units = (
        _names(db, {e.routed_to_id for e in entries} | {e.written_by_id for e in entries}),
        _units(db, entries),
    )
    lang, t = language(request), translator(request)
    rows = [
        {
            "at": clock.local_text(estate, e.at), "urgency": t(f"dutylog.urgency.{e.urgency.value}"),
            "category": e.category, "where": units.get(e.unit_id or 0, e.place), "reporter": e.reporter,
            "summary": e.summary,
            "routed": t(f"role.{e.routed_role}") if e.routed_role else names.get(e.routed_to_id or 0, ""),
            "state": t(f"dutylog.state.{e.state.value if e.state else 'open'}")
            + (f"：{e.close_note}" if e.close_note else ""),
            "writer": names.get(e.written_by_id, ""),
        }
        for e in entries
    ]  # fmt: skip
    heading = f"{estate.name if lang == 'zh' else estate.name_en or estate.name} {when.isoformat()}"
    if fmt == "pdf":
        return pdf_file(register_pdf(LOG_REGISTER, rows, lang=lang, heading=heading), f"information-log-{when}.pdf")
    return Response(
        register_xlsx(LOG_REGISTER, rows, lang=lang, heading=heading), media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''information-log-{when}.xlsx"},
    )  # fmt: skip


LOG_REGISTER = Register(
    "information-log", "《信息记录表》", "Information log",
    (
        Column("at", "时间", "Time", 14), Column("urgency", "紧急程度", "Urgency", 8),
        Column("category", "类别", "Category", 10), Column("where", "房号/地点", "Unit / place", 10),
        Column("reporter", "反映人", "Reported by", 10), Column("summary", "内容", "What", 34),
        Column("routed", "转交", "Passed to", 12), Column("state", "处理结果", "Result", 18),
        Column("writer", "记录人", "Written by", 8),
    ),
    signatures=(("值班人", "On duty"), ("主管检查", "Checked by the supervisor")),
)  # fmt: skip


@router.get("/duty/log/{entry_id}")
def entry_page(
    request: Request, console: Reader, db: DbSession, now: Now, entry_id: RowId, done: Text = ""
) -> Response:
    return _entry_page(request, db, console, entry_id, flash=_flash(done))


def _entry_page(
    request: Request, db: Session, console: Console, entry_id: int, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    entry = log.get(db, estate, entry_id)
    steps = log.history(db, entry)
    return view(
        request, console, "duty/log/entry.html", status=status, entry=entry, steps=steps,
        names=_names(db, {entry.routed_to_id, entry.written_by_id} | {s.staff_id for s in steps}),
        units=_units(db, [entry]), staff=log.estate_staff(db, estate), roles=list(Role),
        levels=list(log.ESCALATION), can_write=console.can(Perm.log_write), **context,
    )  # fmt: skip


def _entry_step(request: Request, db: Session, console: Console, entry_id: int, take: Any, done: str) -> Response:
    entry = log.get(db, console.require_estate(), entry_id)

    def act() -> Response:
        take(entry)
        return RedirectResponse(f"/console/duty/log/{entry_id}?done={done}", status_code=303)

    def again(status: int, error: str) -> Response:
        return _entry_page(request, db, console, entry_id, status=status, error=error)

    return form_action(request, db, act, again)


@router.post("/duty/log/{entry_id}/route")
def route_entry(
    request: Request, console: Writer, db: DbSession, now: Now, entry_id: RowId,
    role: Annotated[Text, Form(max_length=40)] = "", staff_id: Annotated[Text, Form(max_length=10)] = "",
    note: Note = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()

    def take(entry: LogEntry) -> None:
        staff = row_id(staff_id, "员工", "staff member") if staff_id.strip() else None
        log.route(db, console.actor, estate, entry, now, by=console.user, role=role, staff_id=staff, note=note)

    return _entry_step(request, db, console, entry_id, take, "entry_routed")


@router.post("/duty/log/{entry_id}/escalate")
def escalate_entry(
    request: Request, console: Writer, db: DbSession, now: Now, entry_id: RowId,
    level: Annotated[Text, Form(max_length=10)] = "", note: Note = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()

    def take(entry: LogEntry) -> None:
        log.escalate(db, console.actor, estate, entry, level, now, by=console.user, note=note)

    return _entry_step(request, db, console, entry_id, take, "entry_escalated")


@router.post("/duty/log/{entry_id}/close")
def close_entry(
    request: Request, console: Writer, db: DbSession, now: Now, entry_id: RowId, note: Note = ""
) -> Response:
    estate = console.require_estate()

    def take(entry: LogEntry) -> None:
        log.close(db, console.actor, estate, entry, note, now, by=console.user)

    return _entry_step(request, db, console, entry_id, take, "entry_closed")


@router.post("/duty/log/calls/{call_id}")
def call_to_log(
    request: Request, console: Writer, db: DbSession, now: Now, call_id: RowId, urgency: Short = "normal",
    category: Short = "",
) -> Response:  # fmt: skip
    """R-PHONE: a call of the call log becomes an entry of the information log."""
    estate = console.require_estate()
    call = db.get(PhoneCall, call_id)

    def act() -> Response:
        if call is None or call.estate_id != estate.id:
            raise DomainError("没有这个来电", "no such call", code="call_not_found", status=404)
        entry = log.from_call(db, console.actor, estate, call, log.EntryIn(urgency, category, ""), now, by=console.user)
        return RedirectResponse(f"/console/duty/log/{entry.id}?done=call_logged", status_code=303)

    def again(status: int, error: str) -> Response:
        return _log_page(request, db, console, now, status=status, error=error)

    return form_action(request, db, act, again)


@router.post("/duty/log/reports/{report_id}")
def write_report(
    request: Request, console: Writer, db: DbSession, now: Now, report_id: RowId,
    text: Annotated[Text, Form(max_length=4000)] = "",
) -> Response:  # fmt: skip
    """R-DUTY-5: the written report to the supervisor of a repeated issue."""
    estate = console.require_estate()

    def act() -> Response:
        log.write_report(db, console.actor, estate, report_id, text, now, by=console.user)
        return RedirectResponse("/console/duty/log?done=report_written", status_code=303)

    def again(status: int, error: str) -> Response:
        return _log_page(request, db, console, now, status=status, error=error)

    return form_action(request, db, act, again)


# --- the shift handover (R-DUTY-4) ----------------------------------------------------------------------------------

ITEM_ROWS = 3  # empty lines for new open items on the handover form (item_0…item_2)


def _handover_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    recent = handover.recent(db, estate)
    items = {h.id: handover.items_of(db, h) for h in recent[:5]}
    carried = handover.carried_items(db, estate)
    people = {h.outgoing_id for h in recent} | {h.incoming_id for h in recent}
    owners = {i.owner_id for rows in items.values() for i in rows} | {i.owner_id for i in carried}
    return view(
        request, console, "duty/log/handover.html", status=status, recent=recent, items=items, carried=carried,
        names=_names(db, people | owners), staff=log.estate_staff(db, estate), item_rows=range(ITEM_ROWS),
        pending=handover.pending_for(db, estate, console.user), can_write=console.can(Perm.log_write), **context,
    )  # fmt: skip


@router.get("/duty/handover")
def handover_page(request: Request, console: Reader, db: DbSession, now: Now, done: Text = "") -> Response:
    return _handover_page(request, db, console, now, flash=_flash(done))


ItemText = Annotated[Text, Form(max_length=400)]
OwnerId = Annotated[Text, Form(max_length=10)]


@router.post("/duty/handover")
def write_handover(
    request: Request, console: Writer, db: DbSession, now: Now, incoming_id: Annotated[Text, Form(max_length=10)] = "",
    results: Annotated[Text, Form(max_length=4000)] = "", item_0: ItemText = "", owner_0: OwnerId = "",
    item_1: ItemText = "", owner_1: OwnerId = "", item_2: ItemText = "", owner_2: OwnerId = "",
    done: Annotated[list[Annotated[Text, Form(max_length=10)]], Form(max_length=50)] = [],  # noqa: B006
) -> Response:  # fmt: skip
    """The outgoing person's handover: results, carried items (ticked done or carried on) and new open items."""
    estate = console.require_estate()
    rows = ((item_0, owner_0), (item_1, owner_1), (item_2, owner_2))

    def act() -> Response:
        incoming = row_id(incoming_id, "接班人", "incoming person")
        items = [handover.OpenItem(text, row_id(owner, "未结事项的负责人", "owner of the open item"))
                 for text, owner in rows if text.strip()]  # fmt: skip
        done_ids = [int(v) for v in done if ROW_ID.fullmatch(v.strip())]
        handover.hand_over(
            db, console.actor, estate, now, by=console.user, incoming_id=incoming, results=results,
            items=items, done_ids=done_ids,
        )  # fmt: skip
        return RedirectResponse("/console/duty/handover?done=handover_written", status_code=303)

    def again(status: int, error: str) -> Response:
        return _handover_page(request, db, console, now, status=status, error=error)

    return form_action(request, db, act, again)


@router.get("/duty/handover/export.{fmt}")
def export_handovers(request: Request, console: Reader, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"],
                     day: DayQ = "") -> Response:  # fmt: skip
    """The day's shift handovers (R-DUTY-4) for the binder (PDF) or the office (XLSX): who handed over to whom, the
    results, each open item with its owner and whether it was done or carried on, and when it was acknowledged."""
    estate = console.require_estate()
    when = _day(day, clock.today(estate, now))
    rows_of = handover.between(db, estate, *clock.day_bounds(estate, when))
    items = {h.id: handover.items_of(db, h) for h in rows_of}
    names = _names(db, {h.outgoing_id for h in rows_of} | {h.incoming_id for h in rows_of}
                   | {i.owner_id for found in items.values() for i in found})  # fmt: skip
    lang, t = language(request), translator(request)
    rows = [
        {
            "at": clock.local_text(estate, h.at), "outgoing": names.get(h.outgoing_id, ""),
            "incoming": names.get(h.incoming_id, ""), "results": h.results,
            "items": "\n".join(
                f"{i.text}（{names.get(i.owner_id, '')}，{t(ITEM_STATE[i.done])}）" for i in items[h.id]
            ),
            "acknowledged": clock.local_text(estate, h.acknowledged_at) if h.acknowledged_at else "",
        }
        for h in rows_of
    ]  # fmt: skip
    heading = f"{estate.name if lang == 'zh' else estate.name_en or estate.name} {when.isoformat()}"
    if fmt == "pdf":
        return pdf_file(register_pdf(HANDOVER_REGISTER, rows, lang=lang, heading=heading), f"handovers-{when}.pdf")
    return Response(
        register_xlsx(HANDOVER_REGISTER, rows, lang=lang, heading=heading), media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''handovers-{when}.xlsx"},
    )  # fmt: skip


ITEM_STATE = {True: "dutylog.handover.item_done", False: "dutylog.handover.item_open"}
HANDOVER_REGISTER = Register(
    "handovers", "交接班记录", "Shift handovers",
    (
        Column("at", "交班时间", "Handed over", 14), Column("outgoing", "交班人", "Outgoing", 10),
        Column("incoming", "接班人", "Incoming", 10), Column("results", "工作结果", "Results", 30),
        Column("items", "未结事项（负责人）", "Open items (owner)", 30),
        Column("acknowledged", "接班确认", "Acknowledged", 14),
    ),
    signatures=(("交班人", "Outgoing"), ("接班人", "Incoming")),
)  # fmt: skip


@router.post("/duty/handover/{handover_id}/acknowledge")
def acknowledge_handover(request: Request, console: Writer, db: DbSession, now: Now, handover_id: RowId) -> Response:
    estate = console.require_estate()
    handover.get(db, estate, handover_id)

    def act() -> Response:
        handover.acknowledge(db, console.actor, estate, handover_id, now, by=console.user)
        return RedirectResponse("/console/duty/handover?done=handover_acknowledged", status_code=303)

    def again(status: int, error: str) -> Response:
        return _handover_page(request, db, console, now, status=status, error=error)

    return form_action(request, db, act, again)


# --- checks of the log (R-DUTY-6) -----------------------------------------------------------------------------------


def _checks_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    rows = checks.recent(db, estate)
    return view(
        request, console, "duty/log/checks.html", status=status, rows=rows, names=_names(db, {r.by_id for r in rows}),
        missing=checks.missing(db, estate, now), kinds=list(CheckKind), today=clock.today(estate, now),
        can_check=console.can(Perm.log_check), **context,
    )  # fmt: skip


@router.get("/duty/checks")
def checks_page(request: Request, console: Reader, db: DbSession, now: Now, done: Text = "") -> Response:
    return _checks_page(request, db, console, now, flash=_flash(done))


@router.post("/duty/checks")
def record_check(
    request: Request, console: Checker, db: DbSession, now: Now, kind: Short = "",
    day: Annotated[Text, Form(max_length=10)] = "", findings: Long = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()

    def act() -> Response:
        when = _day(day, clock.today(estate, now))
        checks.record(db, console.actor, estate, kind, when, findings, now, by=console.user)
        return RedirectResponse("/console/duty/checks?done=check_recorded", status_code=303)

    def again(status: int, error: str) -> Response:
        return _checks_page(request, db, console, now, status=status, error=error)

    return form_action(request, db, act, again)


# --- the daily check sheet 《客户服务中心工作日检表》 (R-DUTY-8) --------------------------------------------------


def _sheet_page(
    request: Request, db: Session, console: Console, now: datetime, day: date, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    sheet = daysheet.sheet_for(db, estate, day)
    season = daysheet.season_months(request.app.state.settings.ac_season_months)
    return view(
        request, console, "duty/log/daysheet.html", status=status, day=day, sheet=sheet,
        defects=daysheet.defects(db, sheet) if sheet else [],
        problems=daysheet.problems(sheet, season) if sheet else [],
        in_season=day.month in season, ticks=daysheet.TICKS, alarm_above=daysheet.ALARM_ABOVE,
        names=_names(db, {sheet.signed_by_id, sheet.recorded_by_id} if sheet else set()),
        can_sign=console.can(Perm.daysheet_sign), **context,
    )  # fmt: skip


@router.get("/duty/daysheet")
def daysheet_page(request: Request, console: SheetRecorder, db: DbSession, now: Now, day: DayQ = "",
                  done: Text = "") -> Response:  # fmt: skip
    estate = console.require_estate()
    try:
        when = _day(day, clock.today(estate, now))
    except DomainError:
        when = clock.today(estate, now)
    return _sheet_page(request, db, console, now, when, flash=_flash(done))


@router.post("/duty/daysheet")
def record_sheet(
    request: Request, console: SheetRecorder, db: DbSession, now: Now, day: Annotated[Text, Form(max_length=10)] = "",
    temp_am: Annotated[Text, Form(max_length=10)] = "", temp_pm: Annotated[Text, Form(max_length=10)] = "",
    archive_temp: Annotated[Text, Form(max_length=10)] = "",
    doors_closed_am: Annotated[bool, Form()] = False, doors_closed_pm: Annotated[bool, Form()] = False,
    lights_ok: Annotated[bool, Form()] = False, desks_tidy: Annotated[bool, Form()] = False,
    racks_tidy: Annotated[bool, Form()] = False, floors_tidy: Annotated[bool, Form()] = False,
    no_smoking: Annotated[bool, Form()] = False,
) -> Response:  # fmt: skip
    estate = console.require_estate()
    when = clock.today(estate, now)
    ticked = {"lights_ok": lights_ok, "desks_tidy": desks_tidy, "racks_tidy": racks_tidy, "floors_tidy": floors_tidy,
              "no_smoking": no_smoking}  # fmt: skip

    def act() -> Response:
        nonlocal when
        when = _day(day, when)
        entry = daysheet.Entry(
            temp_am=daysheet.parse_temperature(temp_am, "temp_am"),
            temp_pm=daysheet.parse_temperature(temp_pm, "temp_pm"),
            archive_temp=daysheet.parse_temperature(archive_temp, "archive_temp"),
            doors_closed_am=doors_closed_am, doors_closed_pm=doors_closed_pm,
            ticks=[k for k, v in ticked.items() if v],
        )  # fmt: skip
        daysheet.record(db, console.actor, estate, when, entry, now, by=console.user)
        return RedirectResponse(f"/console/duty/daysheet?day={when}&done=sheet_recorded", status_code=303)

    def again(status: int, error: str) -> Response:
        return _sheet_page(request, db, console, now, when, status=status, error=error)

    return form_action(request, db, act, again)


@router.post("/duty/daysheet/defects")
def record_defect(
    request: Request, console: SheetRecorder, db: DbSession, now: Now, day: Annotated[Text, Form(max_length=10)] = "",
    text: Note = "", fix: Note = "",
) -> Response:  # fmt: skip
    estate = console.require_estate()
    when = clock.today(estate, now)

    def act() -> Response:
        nonlocal when
        when = _day(day, when)
        daysheet.add_defect(db, console.actor, estate, when, text, fix, now, by=console.user)
        return RedirectResponse(f"/console/duty/daysheet?day={when}&done=defect_recorded", status_code=303)

    def again(status: int, error: str) -> Response:
        return _sheet_page(request, db, console, now, when, status=status, error=error)

    return form_action(request, db, act, again)


@router.post("/duty/daysheet/sign")
def sign_sheet(
    request: Request, console: SheetSigner, db: DbSession, now: Now, day: Annotated[Text, Form(max_length=10)] = ""
) -> Response:
    estate = console.require_estate()
    when = clock.today(estate, now)

    def act() -> Response:
        nonlocal when
        when = _day(day, when)
        daysheet.sign(db, console.actor, estate, when, now, by=console.user)
        return RedirectResponse(f"/console/duty/daysheet?day={when}&done=sheet_signed", status_code=303)

    def again(status: int, error: str) -> Response:
        return _sheet_page(request, db, console, now, when, status=status, error=error)

    return form_action(request, db, act, again)


SHEET_REGISTER = Register(
    "daily-check-sheet", "《客户服务中心工作日检表》", "Customer service centre daily check sheet",
    (
        Column("day", "日期", "Date", 12), Column("temp_am", "上午温度 ℃", "Morning °C", 9),
        Column("temp_pm", "下午温度 ℃", "Afternoon °C", 9),
        Column("archive_temp", "资料室温度 ℃", "Archive room °C", 9),
        Column("doors", "空调运行关门", "Doors closed", 10),
        Column("lights", "照明 8:30–18:00", "Lights 8:30–18:00", 10), Column("tidy", "台面/货架/地面整洁", "Tidy", 12),
        Column("no_smoking", "无吸烟", "No smoking", 8), Column("defects", "问题及整改", "Defects and fixes", 30),
        Column("signed", "经理签核", "Manager's sign-off", 14),
    ),
    signatures=(("客户服务中心经理", "CS centre manager"),),
)  # fmt: skip


@router.get("/duty/daysheet/export.{fmt}")
def export_sheets(request: Request, console: SheetRecorder, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"],
                  month: Annotated[Text, Query(max_length=7)] = "") -> Response:  # fmt: skip
    """The month's daily check sheets, a line a day."""
    estate = console.require_estate()
    today = clock.today(estate, now)
    try:
        first = parse_day(f"{month}-01") if month else today.replace(day=1)
    except ValueError:
        first = today.replace(day=1)
    last = (first.replace(day=28) + timedelta(days=4)).replace(day=1) - timedelta(days=1)
    sheets = daysheet.month(db, estate, first, last)
    names = _names(db, {s.signed_by_id for s in sheets})
    lang = language(request)

    def tick(value: bool) -> str:
        return "✓" if value else "✗"

    rows = [
        {
            "day": s.day.isoformat(), "temp_am": "" if s.temp_am is None else f"{s.temp_am:g}",
            "temp_pm": "" if s.temp_pm is None else f"{s.temp_pm:g}",
            "archive_temp": "" if s.archive_temp is None else f"{s.archive_temp:g}",
            "doors": f"{tick(s.doors_closed_am)} {tick(s.doors_closed_pm)}" if s.alarm else "",
            "lights": tick(s.lights_ok), "tidy": tick(s.desks_tidy and s.racks_tidy and s.floors_tidy),
            "no_smoking": tick(s.no_smoking),
            "defects": "；".join(f"{d.text} → {d.fix or '…'}" for d in daysheet.defects(db, s)),
            "signed": f"{names.get(s.signed_by_id or 0, '')} {clock.local_text(estate, s.signed_at)}".strip(),
        }
        for s in sheets
    ]  # fmt: skip
    heading = f"{estate.name} {first:%Y-%m}"
    if fmt == "pdf":
        return pdf_file(
            register_pdf(SHEET_REGISTER, rows, lang=lang, heading=heading), f"daily-check-{first:%Y-%m}.pdf"
        )
    return Response(
        register_xlsx(SHEET_REGISTER, rows, lang=lang, heading=heading), media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''daily-check-{first:%Y-%m}.xlsx"},
    )  # fmt: skip
