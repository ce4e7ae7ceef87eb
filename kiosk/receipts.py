"""The printed confirmation of a service-desk request, taken only from the server's confirmed answer: the order's or
form's number, what was asked, the appointment, the listed price (R-REP-3: paid after the work, no cash to the
worker), and for an order the signed QR code the resident scans later at the kiosk to see its state."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

from devices.printing import ServiceReceiptPrint
from server.contract.service import FeedbackOut, ServiceOrderOut

TITLES = {
    "repair": ("报修回执", "Repair request"),
    "cleaning": ("家居清洁预约回执", "Home cleaning booking"),
}
FEEDBACK_KINDS = {"suggestion": "建议 Suggestion", "complaint": "投诉 Complaint", "praise": "表扬 Praise",
                  "question": "咨询 Question"}  # fmt: skip


def yuan(fen: int) -> str:
    return f"￥{fen // 100:,}.{fen % 100:02d}"


def _local(at: datetime | None, zone: str, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return at.astimezone(ZoneInfo(zone)).strftime(fmt) if at else ""


def appointment(order: ServiceOrderOut, zone: str) -> str:
    if order.appointment_start is None or order.appointment_end is None:
        return ""
    return f"{_local(order.appointment_start, zone)}–{_local(order.appointment_end, zone, '%H:%M')}"


def price(order: ServiceOrderOut) -> str:
    if not order.paid or not order.price_fen:
        return "免费 Free"
    return f"{yuan(order.price_fen)}，完工后结算，不收现金 / paid after the work, no cash"


def order_receipt(order: ServiceOrderOut, estate: str, zone: str, place: str = "") -> ServiceReceiptPrint:
    title, title_en = TITLES[order.kind]
    what = order.item_name or order.description
    fields = (
        ("房号 Unit", order.unit),
        ("类别 Category", f"{order.category_name} {order.category_name_en}"),
        ("项目 Service" if order.kind == "cleaning" else "问题 Problem", f"{what} {order.item_name_en}".strip()),
        ("位置 Where", place),
        ("预约 Visit", appointment(order, zone)),
        ("价格 Price", price(order)),
        ("提交 Submitted", _local(order.created_at, zone)),
    )
    return ServiceReceiptPrint(
        estate=estate,
        title=title,
        title_en=title_en,
        number=order.number,
        fields=fields,
        qr_text=order.receipt_code,
        footer="在自助机扫此码查看进度 Scan at the kiosk to see its progress" if order.receipt_code else "",
    )


def feedback_receipt(form: FeedbackOut, estate: str, zone: str, contact: str) -> ServiceReceiptPrint:
    fields = (
        ("类别 Kind", FEEDBACK_KINDS.get(form.category, form.category)),
        ("事项 Subject", form.subject),
        ("回复方式 Reply by", contact),
        ("受理 Received", _local(form.received_at, zone)),
        ("答复期限 Reply due", _local(form.due_at, zone)),
    )
    return ServiceReceiptPrint(
        estate=estate,
        title="客户意见回执",
        title_en="Feedback received",
        number=form.number,
        fields=fields,
        footer="我们会在一个工作日内答复 We reply within one working day",
    )
