"""What the repair orders add up to (R-REP-9…12): the order list with its filters, the 17:30 handover of the day's
completed orders, the Wednesday closing totals for engineering, the unreturned-order register 《未返回维修单记录表》
with its Friday deadline, the month's filing by order number and finance's copy of paid orders. All are queries
over `service_orders`: nothing here changes an order except `file_month`, which takes each order's `file` step."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Select, and_, select
from sqlalchemy.orm import Session

from server.db.models import Estate, OrderState, ServiceKind, ServiceOrder, StaffUser
from server.domain import clock, deadlines
from server.domain.actors import Actor
from server.domain.errors import DomainError
from server.domain.paging import Page, paginate
from server.domain.service import repairs
from server.domain.service.processes import REPAIR_RETURN

CLOSING_DAY = 2  # Wednesday (R-REP-10)
UNRETURNED_DUE = deadlines.ByWeekday(4)  # engineering's reasons by Friday (R-REP-11)
LATE_STATES = (OrderState.done, OrderState.returned)  # their due time is the return, then the callback window
S = OrderState


def _repairs(estate: Estate) -> Select[ServiceOrder]:
    return select(ServiceOrder).where(ServiceOrder.estate_id == estate.id, ServiceOrder.kind == ServiceKind.repair)


def is_late(order: ServiceOrder, now: datetime) -> bool:
    return order.state in LATE_STATES and order.due_at is not None and order.due_at < now


@dataclass(frozen=True)
class RepairFilter:
    state: OrderState | None = None
    late: bool = False
    category: str = ""
    engineer_id: int | None = None
    day: date | None = None  # the day the order was opened


def orders_page(
    session: Session, estate: Estate, f: RepairFilter, now: datetime, page: int, size: int
) -> Page[ServiceOrder]:
    """The repair orders, newest first, as filtered."""
    query = _repairs(estate)
    if f.state is not None:
        query = query.where(ServiceOrder.state == f.state)
    if f.late:
        query = query.where(ServiceOrder.state.in_(LATE_STATES), ServiceOrder.due_at < now)
    if f.category:
        query = query.where(ServiceOrder.category == f.category)
    if f.engineer_id is not None:
        query = query.where(ServiceOrder.assignee_id == f.engineer_id)
    if f.day is not None:
        start, end = clock.day_bounds(estate, f.day)
        query = query.where(ServiceOrder.created_at >= start, ServiceOrder.created_at < end)
    return paginate(session, query.order_by(ServiceOrder.created_at.desc(), ServiceOrder.id.desc()), page, size)


def staff_names(session: Session, ids: set[int | None]) -> dict[int, str]:
    wanted = {i for i in ids if i is not None}
    if not wanted:
        return {}
    found = session.execute(select(StaffUser.id, StaffUser.display_name).where(StaffUser.id.in_(wanted)))
    return {staff_id: name for staff_id, name in found}


# --- the 17:30 handover (R-REP-9) -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class HandoverLine:
    order: ServiceOrder
    returned: bool  # back at the CS centre
    late: bool  # not back by its due time (17:30 that day, or the next day's for work finished after it)


def handover(session: Session, estate: Estate, day: date, now: datetime) -> list[HandoverLine]:
    """R-REP-9: the orders finished on `day` and whether each has come back, for the 17:30 handover; the CS centre
    calls back all of them that evening."""
    start, end = clock.day_bounds(estate, day)
    found = session.scalars(
        _repairs(estate)
        .where(ServiceOrder.done_at >= start, ServiceOrder.done_at < end)
        .order_by(ServiceOrder.done_at, ServiceOrder.number)
    )
    lines = []
    for order in found:
        returned = order.returned_at is not None
        due = handover_due(estate, order)
        late = (order.returned_at > due) if order.returned_at is not None else due < now
        lines.append(HandoverLine(order, returned, late))
    return lines


def handover_due(estate: Estate, order: ServiceOrder) -> datetime:
    """When the finished order is due back: 17:30 of its day, or the next day's for work finished after 17:30."""
    assert order.done_at is not None
    return deadlines.due(REPAIR_RETURN, order.done_at, clock.zone(estate)).at


# --- the Wednesday closing (R-REP-10) -------------------------------------------------------------------------------


def closing_day(day: date) -> date:
    """The Wednesday that closes the week `day` falls in: `day` itself on a Wednesday, else the last one before."""
    return day - timedelta(days=(day.weekday() - CLOSING_DAY) % 7)


@dataclass
class ClosingLine:
    category: str
    received: int = 0
    done: int = 0
    returned: int = 0
    called_back: int = 0
    unfinished: int = 0
    open: int = 0  # received this week and not done by the closing
    paid: int = 0  # finished paid orders
    billed_fen: int = 0  # what finance bills for them (no cash is taken)


@dataclass
class Closing:
    since: date
    until: date  # the closing Wednesday
    lines: list[ClosingLine] = field(default_factory=list)
    total: ClosingLine = field(default_factory=lambda: ClosingLine("total"))


def billed_fen(order: ServiceOrder) -> int:
    """What finance bills: a quoted repair at its actual cost when known, else the listed or quoted price."""
    if not order.paid:
        return 0
    if order.actual_fen is not None:
        return order.actual_fen
    return order.price_fen or 0


def closing_totals(session: Session, estate: Estate, day: date) -> Closing:
    """R-REP-10: the repair records of the week closing on the Wednesday of `day` (Thursday to Wednesday), totalled
    by category for engineering."""
    until = closing_day(day)
    since = until - timedelta(days=6)
    start, end = clock.day_bounds(estate, since)[0], clock.day_bounds(estate, until)[1]

    def within(at: datetime | None) -> bool:
        return at is not None and start <= at < end

    touched = session.scalars(
        _repairs(estate).where(
            (ServiceOrder.created_at >= start) & (ServiceOrder.created_at < end)
            | (ServiceOrder.done_at >= start) & (ServiceOrder.done_at < end)
            | (ServiceOrder.returned_at >= start) & (ServiceOrder.returned_at < end)
        )
    )
    lines: dict[str, ClosingLine] = {}
    closing = Closing(since, until)
    for order in touched:
        for line in (lines.setdefault(order.category, ClosingLine(order.category)), closing.total):
            if within(order.created_at):
                line.received += 1
                if order.done_at is None or order.done_at >= end:
                    line.open += 1
                if order.state == S.unfinished:
                    line.unfinished += 1
            if within(order.done_at):
                line.done += 1
                if order.paid:
                    line.paid += 1
                    line.billed_fen += billed_fen(order)
            if within(order.returned_at):
                line.returned += 1
                if order.state in (S.called_back, S.filed):
                    line.called_back += 1
    closing.lines = [lines[c] for c in sorted(lines)]
    return closing


# --- the unreturned-order register 《未返回维修单记录表》 (R-REP-11) -------------------------------------------------


@dataclass(frozen=True)
class UnreturnedLine:
    order: ServiceOrder
    reason_late: bool  # no reason written by Friday


@dataclass(frozen=True)
class Unreturned:
    week_start: date  # the Monday
    reasons_due: datetime  # the Friday, end of day
    lines: list[UnreturnedLine]


def unreturned(session: Session, estate: Estate, now: datetime) -> Unreturned:
    """R-REP-11: finished orders not returned to the CS centre by now, with engineering's reasons, due by the end
    of this week's Friday."""
    today = clock.today(estate, now)
    monday = today - timedelta(days=today.weekday())
    due = deadlines.due(UNRETURNED_DUE, clock.day_bounds(estate, monday)[0], clock.zone(estate))
    found = session.scalars(
        _repairs(estate).where(ServiceOrder.state == S.done, ServiceOrder.done_at < now).order_by(ServiceOrder.number)
    )
    lines = [UnreturnedLine(o, reason_late=not o.unreturned_reason and due.at < now) for o in found]
    return Unreturned(monday, due.at, lines)


# --- monthly filing and finance's copy (R-REP-12) -------------------------------------------------------------------


def month_bounds(estate: Estate, month: date) -> tuple[datetime, datetime]:
    first = month.replace(day=1)
    following = (first + timedelta(days=32)).replace(day=1)
    return clock.day_bounds(estate, first)[0], clock.day_bounds(estate, following)[0]


def to_file(session: Session, estate: Estate, month: date) -> list[ServiceOrder]:
    """The completed (called back) orders finished in `month` or before and not yet filed, by order number."""
    end = month_bounds(estate, month)[1]
    return list(
        session.scalars(
            _repairs(estate)
            .where(ServiceOrder.state == S.called_back, ServiceOrder.done_at < end)
            .order_by(ServiceOrder.number)
        )
    )


def file_month(
    session: Session, actor: Actor, estate: Estate, month: date, at: datetime, *, by: StaffUser
) -> list[ServiceOrder]:
    """R-REP-12: on the 1st (or after) the month's completed orders are filed by order number. A month not yet
    over cannot be filed."""
    if at < month_bounds(estate, month)[1]:
        raise DomainError(
            f"{month:%Y-%m} 尚未结束，须在下月 1 日起归档",
            f"{month:%Y-%m} is not over: it is filed from the 1st of the next month",
            code="month_not_over",
        )
    orders = to_file(session, estate, month)
    for order in orders:
        repairs.file_order(session, actor, order, at, by=by)
    return orders


def filed(session: Session, estate: Estate, month: date) -> list[ServiceOrder]:
    """The file list: orders filed for `month` (finished in it or before, filed during the next month), by order
    number."""
    end = month_bounds(estate, month)[1]
    filing_ends = month_bounds(estate, end.astimezone(clock.zone(estate)).date())[1]
    return list(
        session.scalars(
            _repairs(estate)
            .where(
                ServiceOrder.state == S.filed,
                ServiceOrder.done_at < end,
                ServiceOrder.filed_at >= end,
                ServiceOrder.filed_at < filing_ends,
            )
            .order_by(ServiceOrder.number)
        )
    )


def paid_orders(session: Session, estate: Estate, month: date) -> list[ServiceOrder]:
    """Finance's copy: the paid orders finished in `month`, by order number, to bill (no cash is taken)."""
    start, end = month_bounds(estate, month)
    return list(
        session.scalars(
            _repairs(estate)
            .where(
                ServiceOrder.paid.is_(True),
                and_(ServiceOrder.done_at >= start, ServiceOrder.done_at < end),
                ServiceOrder.state.not_in((S.cancelled,)),
            )
            .order_by(ServiceOrder.number)
        )
    )


def orders_by_id(session: Session, ids: set[int | None]) -> list[ServiceOrder]:
    wanted = {i for i in ids if i is not None}
    return list(session.scalars(select(ServiceOrder).where(ServiceOrder.id.in_(wanted)))) if wanted else []
