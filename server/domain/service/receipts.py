"""The signed reference printed as a QR code on a kiosk order's confirmation, and the order it names when a resident
scans it later at the kiosk (the code is the proof: a forged or altered one names nothing)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.contract import order_receipt
from server.db.models import CallTask, Estate, ServiceOrder
from server.domain import secrets
from server.domain.errors import NotFound
from server.domain.service.resident_requests import latest_callbacks

SECRET = "order-receipt"


def receipt_code(session: Session, order: ServiceOrder) -> str:
    return order_receipt.encode(order.number, secrets.server_secret(session, SECRET))


def order_by_receipt(session: Session, estate: Estate, text: str) -> tuple[ServiceOrder, CallTask | None]:
    """The estate's order a scanned confirmation names, with its latest callback; `receipt_unknown` for a code
    that is malformed, forged, or of another estate (one answer for all, so a guess learns nothing)."""
    number = order_receipt.verify(text, secrets.server_secret(session, SECRET))
    order = None
    if number is not None:
        order = session.scalar(
            select(ServiceOrder).where(ServiceOrder.estate_id == estate.id, ServiceOrder.number == number)
        )
    if order is None:
        raise NotFound("无法识别这张回执，请到前台查询", "this receipt is not recognised: ask the front desk",
                       code="receipt_unknown")  # fmt: skip
    return order, latest_callbacks(session, [order]).get(order.id)
