"""The home-cleaning papers, declared once (server.console.registers): the dispatch order 《家居清洁服务派工单》
(R-CLN-1, 5), the note left on the door 《留言条》 (R-CLN-3), the household-service register 《家政服务记录表》 and its
finance copy (R-CLN-8)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from server.console.registers import Column, Form, Register
from server.db.models import Estate, ServiceOrder
from server.domain import clock

NO_CASH = "费用由财务统一收取，服务人员不收取现金 / billed by finance: staff take no cash"

DISPATCH_ORDER = Form(
    "cleaning-dispatch-order",
    "《家居清洁服务派工单》",
    "Home cleaning dispatch order",
    fields=(
        Column("number", "单号", "Number"),
        Column("unit", "房号", "Unit"),
        Column("contact", "联系人", "Contact"),
        Column("phone", "电话", "Phone"),
        Column("service", "服务项目", "Service"),
        Column("price", "收费（元）", "Price (yuan)"),
        Column("appointment", "预约时间", "Booked time", 60),
        Column("description", "服务要求", "What is asked", 60),
        Column("out_of_scope", "超范围需求", "Out of scope", 60),
        Column("worker", "保洁员", "Cleaner"),
        Column("done_at", "完成时间", "Finished at"),
        Column("opinion", "住户意见", "Resident's opinion", 60),
        Column("satisfied", "是否满意", "Satisfied"),
        Column("returned_at", "回单时间", "Returned at"),
        Column("payment", "收费方式", "Payment", 60),
    ),
    signatures=(("住户签名", "Resident"), ("保洁员", "Cleaner"), ("客服中心", "CS centre")),
)

NOTE = Form(
    "cleaning-note",
    "《留言条》",
    "Note left at the door",
    fields=(
        Column("greeting", "住户", "Resident", 60),
        Column("number", "单号", "Order number"),
        Column("unit", "房号", "Unit"),
        Column("visited", "到访时间", "We called at", 60),
        Column("message", "留言", "Message", 60),
        Column("desk_phone", "客服中心电话", "CS centre phone", 60),
    ),
    signatures=(("保洁员", "Cleaner"),),
)

REGISTER_COLUMNS = (
    Column("number", "单号", "Number", 22),
    Column("unit", "房号", "Unit", 10),
    Column("contact", "联系人", "Contact", 10),
    Column("service", "服务项目", "Service", 18),
    Column("appointment", "预约时间", "Booked", 18),
    Column("done_at", "完成时间", "Finished", 18),
    Column("worker", "保洁员", "Cleaner", 10),
    Column("amount", "金额（元）", "Amount (yuan)", 10),
    Column("satisfied", "住户评价", "Resident", 8),
    Column("returned_at", "回单时间", "Returned", 18),
    Column("late", "逾期", "Late", 6),
)
REGISTER = Register(
    "household-service-register",
    "《家政服务记录表》",
    "Household-service register",
    REGISTER_COLUMNS,
    signatures=(("制表人", "Prepared by"), ("客服主管", "CS supervisor")),
)
FINANCE_COPY = Register(
    "household-service-finance-copy",
    "《家政服务记录表》（财务联）",
    "Household-service register (finance copy)",
    tuple(c for c in REGISTER_COLUMNS if c.key in {"number", "unit", "contact", "service", "done_at", "amount"}),
    signatures=(("客服中心", "CS centre"), ("财务部签收", "Received by finance")),
)


def dispatch_values(order: ServiceOrder, estate: Estate, service: str, yuan: Callable[[int], str]) -> dict[str, object]:
    """The dispatch order's fields for `order` (its times on the estate's clock)."""

    def local(at: datetime | None) -> str:
        return clock.local_text(estate, at)

    appointment = ""
    if order.appointment_start is not None:
        appointment = f"{local(order.appointment_start)} – {local(order.appointment_end)[-5:]}"
    return {
        "number": order.number,
        "unit": order.unit.code,
        "contact": order.contact_name,
        "phone": order.contact_phone,
        "service": service,
        "price": yuan(order.price_fen) if order.paid and order.price_fen is not None else "免费 / free",
        "appointment": appointment,
        "description": " ".join(p for p in (order.location, order.description) if p),
        "out_of_scope": order.out_of_scope,
        "worker": order.worker_name,
        "done_at": local(order.done_at),
        "opinion": order.resident_opinion,
        "satisfied": "" if order.satisfied is None else ("满意" if order.satisfied else "不满意"),
        "returned_at": local(order.returned_at),
        "payment": NO_CASH,
    }


def note_values(order: ServiceOrder, estate: Estate, visited: str, desk_phone: str) -> dict[str, object]:
    return {
        "greeting": f"尊敬的 {order.unit.code} 住户 {order.contact_name}",
        "number": order.number,
        "unit": order.unit.code,
        "visited": visited,
        "message": "您好！保洁员按约上门服务，您不在家。请致电客户服务中心重新预约或取消，谢谢！"
        " / Our cleaner called as booked and found nobody home: please phone the CS centre to rebook or cancel.",
        "desk_phone": desk_phone or "—",
    }
