"""The repair registers in the console (R-REP-9…12), each a page, an XLSX and a printable PDF from one declaration
(server.console.registers): the 17:30 handover of the day's completed orders, the Wednesday closing totals for
engineering, the unreturned-order register 《未返回维修单记录表》 with engineering's reasons due by Friday, the
month's filing by order number (and the filing itself, on or after the 1st), and finance's copy of paid orders."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import date, datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from server.console.key_pages import pdf_file, translator
from server.console.pages import form_action, language
from server.console.registers import Column, Register, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, yuan
from server.console.service_repair_pages import repair_view
from server.contract.fields import Text, parse_day
from server.db.models import Estate, ServiceOrder
from server.domain import clock
from server.domain.permissions import Perm
from server.domain.service import repair_registers as reg
from server.web.deps import Console, DbSession, Now, require

router = APIRouter()

Viewer = Annotated[Console, require(Perm.service_view)]
Filer = Annotated[Console, require(Perm.service_file)]
Finance = Annotated[Console, require(Perm.service_finance)]
DayQ = Annotated[Text, Query(max_length=10)]
MonthQ = Annotated[Text, Query(max_length=7)]
Fmt = Literal["xlsx", "pdf"]
Row = Mapping[str, object]

_ORDER = (Column("number", "单号", "Number", 26), Column("unit", "房号", "Unit", 12),
          Column("category", "类别", "Category", 14), Column("engineer", "维修人员", "Repairer", 14))  # fmt: skip
HANDOVER = Register(
    "repair-handover", "当日完工维修单交接表", "Handover of the day's completed repair orders",
    (*_ORDER, Column("done", "完工时间", "Finished", 18), Column("returned", "返回时间", "Returned", 18),
     Column("late", "逾期未返回", "Late", 10)),
    signatures=(("工程部交单人", "Handed over by"), ("客服中心接收人", "Received by")),
)  # fmt: skip
CLOSING = Register(
    "repair-closing", "维修记录周汇总（周三结算）", "Wednesday closing: the week's repair records",
    (Column("category", "类别", "Category", 18), Column("received", "受理", "Received", 10),
     Column("done", "完工", "Finished", 10), Column("returned", "返回", "Returned", 10),
     Column("called_back", "已回访", "Called back", 10), Column("unfinished", "未完成", "Unfinished", 10),
     Column("open", "未完工", "Open", 10), Column("paid", "有偿单", "Paid orders", 10),
     Column("billed", "应收（财务结算）", "To bill (finance)", 16)),
    signatures=(("客服管理员", "CS admin"), ("工程部", "Engineering")),
)  # fmt: skip
UNRETURNED = Register(
    "unreturned-repairs", "未返回维修单记录表", "Register of unreturned repair orders",
    (*_ORDER, Column("done", "完工时间", "Finished", 18), Column("reason", "未返回原因（工程部填写）",
     "Reason (engineering)", 40), Column("late", "周五前未填", "No reason by Friday", 12)),
    signatures=(("工程部", "Engineering"), ("客服中心", "CS centre")),
)  # fmt: skip
FILING = Register(
    "repair-filing", "维修单归档清单", "Repair orders filed",
    (*_ORDER, Column("done", "完工时间", "Finished", 18), Column("filed", "归档时间", "Filed", 18)),
    signatures=(("归档人", "Filed by"),),
)  # fmt: skip
FINANCE = Register(
    "repair-finance-copy", "有偿维修单（财务联）", "Paid repair orders (finance copy)",
    (Column("number", "单号", "Number", 26), Column("unit", "房号", "Unit", 12),
     Column("contact", "联系人", "Contact", 18), Column("category", "类别", "Category", 14),
     Column("price", "价目/报价", "Listed or quoted", 14), Column("actual", "实际费用", "Actual cost", 14),
     Column("billed", "应收", "To bill", 14), Column("done", "完工时间", "Finished", 18)),
    signatures=(("客服中心", "CS centre"), ("财务部", "Finance")),
)  # fmt: skip


def _day(estate: Estate, text: str, now: datetime) -> date:
    try:
        return parse_day(text) if text else clock.today(estate, now)
    except ValueError:
        return clock.today(estate, now)


def _month(estate: Estate, text: str, now: datetime) -> date:
    """A month typed as YYYY-MM (its first day); the last month when none or no month is given."""
    try:
        return parse_day(f"{text}-01")
    except ValueError:
        first = clock.today(estate, now).replace(day=1)
        return (
            first.replace(year=first.year - 1, month=12) if first.month == 1 else first.replace(month=first.month - 1)
        )


def _order_row(estate: Estate, order: ServiceOrder, names: Mapping[int, str]) -> dict[str, object]:
    return {
        "id": order.id, "number": order.number, "unit": order.unit.code, "category": order.category,
        "engineer": names.get(order.assignee_id or 0, ""), "done": clock.local_text(estate, order.done_at),
    }  # fmt: skip


def _file(register: Register, rows: Sequence[Row], fmt: Fmt, request: Request, heading: str) -> Response:
    lang = language(request)
    if fmt == "pdf":
        return pdf_file(register_pdf(register, rows, lang=lang, heading=heading), f"{register.code}.pdf")
    return Response(
        register_xlsx(register, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{register.code}.xlsx"},
    )


def _page(
    request: Request, console: Console, register: Register, rows: Sequence[Row], heading: str, export: str,
    *, status: int = 200, **context: Any,
) -> HTMLResponse:  # fmt: skip
    lang = language(request)
    return repair_view(
        request, console, "service/repairs/register.html", status=status, register=register,
        title=register.title(lang), headers=register.headers(lang), keys=[c.key for c in register.columns],
        rows=rows, heading=heading, export=export, **context,
    )  # fmt: skip


# --- the 17:30 handover (R-REP-9) -----------------------------------------------------------------------------------


def _handover(request: Request, db: Any, estate: Estate, day: date, now: datetime) -> tuple[list[Row], str]:
    t = translator(request)
    lines = reg.handover(db, estate, day, now)
    names = reg.staff_names(db, {line.order.assignee_id for line in lines})
    rows: list[Row] = [
        {**_order_row(estate, line.order, names), "returned": clock.local_text(estate, line.order.returned_at)
         or t("repairs.not_returned"), "late": t("repairs.yes") if line.late else ""}
        for line in lines
    ]  # fmt: skip
    return rows, t("repairs.handover.heading", day=day.isoformat(), count=len(rows))


@router.get("/service/repairs/handover")
def handover(request: Request, console: Viewer, db: DbSession, now: Now, day: DayQ = "") -> Response:
    estate = console.require_estate()
    chosen = _day(estate, day, now)
    rows, heading = _handover(request, db, estate, chosen, now)
    return _page(request, console, HANDOVER, rows, heading, f"handover.{{fmt}}?day={chosen}", day=chosen.isoformat(),
                 day_filter=True)  # fmt: skip


@router.get("/service/repairs/handover.{fmt}")
def handover_file(request: Request, console: Viewer, db: DbSession, now: Now, fmt: Fmt, day: DayQ = "") -> Response:
    estate = console.require_estate()
    rows, heading = _handover(request, db, estate, _day(estate, day, now), now)
    return _file(HANDOVER, rows, fmt, request, heading)


# --- the Wednesday closing (R-REP-10) -------------------------------------------------------------------------------


def _closing(request: Request, db: Any, estate: Estate, day: date) -> tuple[list[Row], str]:
    t = translator(request)
    closing = reg.closing_totals(db, estate, day)

    def row(line: reg.ClosingLine, name: str) -> Row:
        counts = {
            k: getattr(line, k) for k in ("received", "done", "returned", "called_back", "unfinished", "open", "paid")
        }
        return {"category": name, **counts, "billed": yuan(line.billed_fen)}

    rows = [row(line, line.category) for line in closing.lines] + [row(closing.total, t("repairs.total"))]
    return rows, t("repairs.closing.heading", since=closing.since.isoformat(), until=closing.until.isoformat())


@router.get("/service/repairs/closing")
def closing(request: Request, console: Viewer, db: DbSession, now: Now, day: DayQ = "") -> Response:
    estate = console.require_estate()
    chosen = _day(estate, day, now)
    rows, heading = _closing(request, db, estate, chosen)
    return _page(request, console, CLOSING, rows, heading, f"closing.{{fmt}}?day={chosen}", day=chosen.isoformat(),
                 day_filter=True)  # fmt: skip


@router.get("/service/repairs/closing.{fmt}")
def closing_file(request: Request, console: Viewer, db: DbSession, now: Now, fmt: Fmt, day: DayQ = "") -> Response:
    estate = console.require_estate()
    rows, heading = _closing(request, db, estate, _day(estate, day, now))
    return _file(CLOSING, rows, fmt, request, heading)


# --- the unreturned-order register (R-REP-11) -----------------------------------------------------------------------


def _unreturned(request: Request, db: Any, estate: Estate, now: datetime) -> tuple[list[Row], str]:
    t = translator(request)
    found = reg.unreturned(db, estate, now)
    names = reg.staff_names(db, {line.order.assignee_id for line in found.lines})
    rows: list[Row] = [
        {**_order_row(estate, line.order, names), "reason": line.order.unreturned_reason,
         "late": t("repairs.yes") if line.reason_late else ""}
        for line in found.lines
    ]  # fmt: skip
    due = clock.local_text(estate, found.reasons_due)
    return rows, t("repairs.unreturned.heading", week=found.week_start.isoformat(), due=due)


@router.get("/service/repairs/unreturned")
def unreturned(request: Request, console: Viewer, db: DbSession, now: Now) -> Response:
    rows, heading = _unreturned(request, db, console.require_estate(), now)
    return _page(
        request, console, UNRETURNED, rows, heading, "unreturned.{fmt}", reason_forms=console.can(Perm.repairs_work)
    )


@router.get("/service/repairs/unreturned.{fmt}")
def unreturned_file(request: Request, console: Viewer, db: DbSession, now: Now, fmt: Fmt) -> Response:
    rows, heading = _unreturned(request, db, console.require_estate(), now)
    return _file(UNRETURNED, rows, fmt, request, heading)


# --- monthly filing and finance's copy (R-REP-12) -------------------------------------------------------------------


def _filing(request: Request, db: Any, estate: Estate, month: date) -> tuple[list[Row], list[Row], str]:
    t = translator(request)
    waiting = reg.to_file(db, estate, month)
    done = reg.filed(db, estate, month)
    names = reg.staff_names(db, {o.assignee_id for o in [*waiting, *done]})

    def row(order: ServiceOrder) -> Row:
        return {**_order_row(estate, order, names), "filed": clock.local_text(estate, order.filed_at)}

    return [row(o) for o in done], [row(o) for o in waiting], t("repairs.filing.heading", month=f"{month:%Y-%m}")


def _filing_page(
    request: Request, db: Any, console: Console, now: datetime, month: date, *, status: int = 200, **context: Any
) -> HTMLResponse:
    done, waiting, heading = _filing(request, db, console.require_estate(), month)
    return _page(
        request, console, FILING, done, heading, f"filing.{{fmt}}?month={month:%Y-%m}", status=status,
        month=f"{month:%Y-%m}", waiting=waiting, can_file=console.can(Perm.service_file),
        can_finance=console.can(Perm.service_finance), **context,
    )  # fmt: skip


FILED = frozenset({"repairs_filed"})


@router.get("/service/repairs/filing")
def filing(request: Request, console: Viewer, db: DbSession, now: Now, month: MonthQ = "", done: Text = "") -> Response:
    chosen = _month(console.require_estate(), month, now)
    return _filing_page(request, db, console, now, chosen, flash=flash_key(done, FILED))


@router.post("/service/repairs/filing")
def file_month(
    request: Request, console: Filer, db: DbSession, now: Now, month: Annotated[Text, Form(max_length=7)] = ""
) -> Response:
    """R-REP-12: on the 1st (or later) the month's completed orders are filed by order number."""
    estate = console.require_estate()
    chosen = _month(estate, month, now)

    def file_it() -> Response:
        reg.file_month(db, console.actor, estate, chosen, now, by=console.user)
        return RedirectResponse(
            f"/console/service/repairs/filing?month={chosen:%Y-%m}&done=repairs_filed", status_code=303
        )

    again: Callable[[int, str], Response] = lambda status, error: _filing_page(  # noqa: E731
        request, db, console, now, chosen, status=status, error=error
    )
    return form_action(request, db, file_it, again)


@router.get("/service/repairs/filing.{fmt}")
def filing_file(request: Request, console: Viewer, db: DbSession, now: Now, fmt: Fmt, month: MonthQ = "") -> Response:
    done, _waiting, heading = _filing(
        request, db, console.require_estate(), _month(console.require_estate(), month, now)
    )
    return _file(FILING, done, fmt, request, heading)


@router.get("/service/repairs/finance.xlsx")
def finance_copy(request: Request, console: Finance, db: DbSession, now: Now, month: MonthQ = "") -> Response:
    """R-REP-12: the paid orders finished in the month, for finance to bill (no cash is taken)."""
    estate = console.require_estate()
    chosen = _month(estate, month, now)
    t = translator(request)
    rows = [
        {"number": o.number, "unit": o.unit.code, "contact": f"{o.contact_name} {o.contact_phone}",
         "category": o.category, "price": yuan(o.price_fen or 0),
         "actual": yuan(o.actual_fen) if o.actual_fen is not None else "", "billed": yuan(reg.billed_fen(o)),
         "done": clock.local_text(estate, o.done_at)}
        for o in reg.paid_orders(db, estate, chosen)
    ]  # fmt: skip
    return _file(FINANCE, rows, "xlsx", request, t("repairs.filing.heading", month=f"{chosen:%Y-%m}"))
