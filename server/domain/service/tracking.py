"""The paid-service tracking sheet 《有偿服务跟踪记录单》 (R-REP-1, R-CLN-1): every repair and cleaning order, from
whichever channel, is a line of it from the moment it is opened. It is a view over the orders (no table of its own):
a month's lines, filtered by kind and by paid or free, newest first, each with its price, the visit and the
callback's outcome — on screen, and as XLSX and PDF."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import Select, func, select
from sqlalchemy.orm import Session, selectinload

from server.db.models import CallTask, Estate, ServiceKind, ServiceOrder
from server.domain import clock
from server.domain.paging import Page
from server.domain.service import resident_requests

CALLBACKS = resident_requests.CALLBACKS
TITLE = ("有偿服务跟踪记录单", "Paid-service tracking sheet")
# The sheet's columns: key, Chinese and English heading, width on paper (mm).
COLUMNS: tuple[tuple[str, str, str, int], ...] = (
    ("number", "单号", "Order no.", 34),
    ("date", "受理时间", "Received", 26),
    ("unit", "房号", "Unit", 14),
    ("contact", "联系人", "Contact", 16),
    ("phone", "电话", "Phone", 22),
    ("kind", "类型", "Kind", 10),
    ("category", "类别", "Category", 16),
    ("service", "服务内容", "Service", 40),
    ("paid", "有偿/无偿", "Paid", 12),
    ("price", "金额(元)", "Amount (¥)", 14),
    ("appointment", "预约时间", "Appointment", 26),
    ("worker", "服务人员", "Worker", 16),
    ("done", "完成时间", "Done", 26),
    ("returned", "返单时间", "Returned", 26),
    ("callback", "回访结果", "Callback", 20),
    ("state", "状态", "State", 16),
)


@dataclass(frozen=True)
class TrackingFilter:
    month: date  # its first day
    kind: ServiceKind | None = None
    paid: bool | None = None

    @property
    def month_text(self) -> str:
        return f"{self.month:%Y-%m}"


def parse_filter(estate: Estate, now: datetime, month: str, kind: str, paid: str) -> TrackingFilter:
    """The filters as chosen in the console; a month that is not YYYY-MM means this month, a kind or paid value
    outside the list means no filter."""
    try:
        first = datetime.strptime(month.strip(), "%Y-%m").date() if month.strip() else None
    except ValueError:
        first = None
    if first is None or not 1900 < first.year < 3000:
        first = clock.local_day(estate, now).replace(day=1)
    return TrackingFilter(
        month=first,
        kind=ServiceKind(kind) if kind in ServiceKind.__members__ else None,
        paid={"paid": True, "free": False}.get(paid),
    )


def _bounds(estate: Estate, month: date) -> tuple[datetime, datetime]:
    following = date(month.year + (month.month == 12), month.month % 12 + 1, 1)
    return clock.day_bounds(estate, month)[0], clock.day_bounds(estate, following)[0]


def query(estate: Estate, f: TrackingFilter) -> Select[ServiceOrder]:
    start, end = _bounds(estate, f.month)
    conditions = [ServiceOrder.estate_id == estate.id, ServiceOrder.created_at >= start, ServiceOrder.created_at < end]
    if f.kind is not None:
        conditions.append(ServiceOrder.kind == f.kind)
    if f.paid is not None:
        conditions.append(ServiceOrder.paid.is_(f.paid))
    return select(ServiceOrder).where(*conditions)


def page(session: Session, estate: Estate, f: TrackingFilter, number: int, size: int) -> Page[ServiceOrder]:
    found = query(estate, f)
    total = session.scalar(select(func.count()).select_from(found.order_by(None).subquery())) or 0
    number = max(1, min(number, max(1, -(-total // size))))
    items = list(
        session.scalars(
            found.options(selectinload(ServiceOrder.unit), selectinload(ServiceOrder.item))
            .order_by(ServiceOrder.created_at.desc(), ServiceOrder.id.desc())
            .limit(size)
            .offset((number - 1) * size)
        )
    )
    return Page(items, total, number, size)


def all_orders(session: Session, estate: Estate, f: TrackingFilter) -> list[ServiceOrder]:
    """Every line of the sheet as filtered, in order of number (the sheet's order on paper)."""
    return list(
        session.scalars(
            query(estate, f)
            .options(selectinload(ServiceOrder.unit), selectinload(ServiceOrder.item))
            .order_by(ServiceOrder.created_at, ServiceOrder.id)
        )
    )


def callbacks(session: Session, orders: list[ServiceOrder]) -> dict[int, CallTask]:
    """Each order's latest callback made."""
    out: dict[int, CallTask] = {}
    ids = [o.id for o in orders]
    for chunk in (ids[i : i + 500] for i in range(0, len(ids), 500)):
        for task in session.scalars(
            select(CallTask)
            .where(CallTask.order_id.in_(chunk), CallTask.reason.in_(CALLBACKS), CallTask.done_at.is_not(None))
            .order_by(CallTask.done_at)
        ):
            if task.order_id is not None:
                out[task.order_id] = task
    return out


def rows(session: Session, estate: Estate, orders: list[ServiceOrder], lang: str = "zh") -> list[dict[str, str]]:
    """The sheet's lines as column key → value, for the page and the exports."""
    en = lang == "en"
    made = callbacks(session, orders)
    out = []
    for order in orders:
        zh_name, en_name = resident_requests.category_name(order.category)
        item = order.item
        what = (item.name_en or item.name_zh) if item and en else item.name_zh if item else ""
        call = made.get(order.id)
        out.append(
            {
                "number": order.number,
                "date": clock.local_text(estate, order.created_at),
                "unit": order.unit.code,
                "contact": order.contact_name,
                "phone": order.contact_phone,
                "kind": ("Repair" if en else "维修")
                if order.kind is ServiceKind.repair
                else ("Cleaning" if en else "清洁"),
                "category": en_name if en else zh_name,
                "service": " ".join(x for x in (what, order.description) if x),
                "paid": ("paid" if en else "有偿") if order.paid else ("free" if en else "无偿"),
                "price": f"{order.price_fen / 100:.2f}" if order.price_fen is not None else "",
                "appointment": clock.local_text(estate, order.appointment_start),
                "worker": order.worker_name,
                "done": clock.local_text(estate, order.done_at),
                "returned": clock.local_text(estate, order.returned_at),
                "callback": call.outcome.value if call is not None and call.outcome is not None else "",
                "state": order.state.value,
                "channel": order.channel.value,
            }
        )
    return out
