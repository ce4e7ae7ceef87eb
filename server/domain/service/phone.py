"""The front desk's telephone intake (R-PHONE): every call follows the script — the room number, the caller's
surname and phone, what and where, the key facts read back, how it will be handled, "anything else?" — and every
call is logged in the call log with its outcome. A repair call opens its repair order 《工程维修单》 on the spot
(channel phone, R-REP-1)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import CallTopic, Channel, Estate, PhoneCall, ServiceKind, StaffUser, Unit
from server.domain import audit, clock, registry
from server.domain.actors import Actor
from server.domain.errors import DomainError, NotFound
from server.domain.service import intake
from server.domain.service.intake import Quote

ORDER_OPENED = "order_opened"
# What came of a call that opened nothing: answered on the call, a call back promised, passed to a department.
OUTCOMES = ("answered", "callback_promised", "referred")
NEEDS_ROOM = frozenset({CallTopic.repair, CallTopic.cleaning})


@dataclass(frozen=True)
class Call:
    """A call as the script takes it, in the script's order."""

    room: str
    surname: str
    phone: str
    topic: CallTopic
    summary: str  # what, and where in the unit
    read_back: bool  # the key facts were repeated to the caller
    handling: str  # what the caller was told will happen
    anything_else_asked: bool
    outcome: str = ""  # for a call that opens no order: one of OUTCOMES
    # a repair call: what its order needs
    item_code: str = ""
    category: str = ""
    location: str = ""
    paid: bool = False
    quote: Quote | None = None


def _required(value: str, zh: str, en: str, field: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise DomainError(f"请询问并填写{zh}", f"ask for and enter {en}", code="script_incomplete", fields=[field])
    if len(text) > limit:
        raise DomainError(f"{zh}过长", f"{en} is too long", code="too_long", fields=[field])
    return text


def _unit(session: Session, estate: Estate, call: Call) -> Unit | None:
    room = call.room.strip()
    if not room:
        if call.topic in NEEDS_ROOM:
            raise DomainError(
                "请先询问房号", "ask the caller's room number first", code="script_incomplete", fields=["room"]
            )
        return None
    unit = registry.find_unit(session, estate, room)
    if unit is None:
        raise NotFound(f"本小区没有房号 {room}", f"no unit {room} in this estate", code="unit_not_found")
    return unit


def log_call(session: Session, actor: Actor, estate: Estate, call: Call, at: datetime, *, by: StaffUser) -> PhoneCall:
    """R-PHONE: log a call taken by the script; a repair call opens its order. A step of the script left out is
    refused, naming it, and nothing is recorded."""
    unit = _unit(session, estate, call)
    surname = _required(call.surname, "来电人姓氏", "the caller's surname", "surname", 20)
    phone = _required(call.phone, "联系电话", "a phone number", "phone", 20)
    summary = _required(call.summary, "报修或咨询的内容和位置", "what it is about and where", "summary", 400)
    if not call.read_back:
        raise DomainError(
            "请向来电人复述要点并确认", "read the key facts back to the caller", code="script_incomplete",
            fields=["read_back"],
        )  # fmt: skip
    handling = _required(call.handling, "处理方式", "how it will be handled", "handling", 200)
    if not call.anything_else_asked:
        raise DomainError(
            "请询问“还有其他需要吗？”", 'ask "anything else?"', code="script_incomplete", fields=["anything_else_asked"]
        )
    order = None
    if call.topic == CallTopic.repair:
        assert unit is not None
        request = intake.OrderRequest(
            kind=ServiceKind.repair, channel=Channel.phone, unit_id=unit.id, contact_name=surname,
            contact_phone=phone, item_code=call.item_code.strip(), category=call.category, description=summary,
            location=call.location, paid=call.paid, quote=call.quote,
        )  # fmt: skip
        if not request.item_code and not request.category.strip():
            raise DomainError(
                "请选择价目表项目或维修类别", "choose a line of the price list or a category", code="missing_fields",
                fields=["category"],
            )  # fmt: skip
        order = intake.open_order(session, actor, estate, request, at, by=by, note="电话受理 / by phone")
        outcome = ORDER_OPENED
    else:
        outcome = call.outcome if call.outcome in OUTCOMES else ""
        if not outcome:
            raise DomainError(
                "请选择来电结果", "choose what came of the call", code="missing_fields", fields=["outcome"]
            )
    row = PhoneCall(
        estate_id=estate.id, at=at, unit_id=unit.id if unit else None, room=call.room.strip()[:16], surname=surname,
        phone=phone, topic=call.topic, summary=summary, read_back=True, handling=handling, anything_else_asked=True,
        outcome=outcome, order_id=order.id if order else None, taken_by_id=by.id,
    )  # fmt: skip
    session.add(row)
    session.flush()
    audit.record(
        session, actor, "phone_call.logged", "phone_call", row.id, estate_id=estate.id, topic=call.topic.value,
        outcome=outcome, order=order.number if order else None,
    )  # fmt: skip
    return row


def calls_of_day(session: Session, estate: Estate, day: date) -> list[PhoneCall]:
    """The call log of `day`, oldest first."""
    start, end = clock.day_bounds(estate, day)
    return list(
        session.scalars(
            select(PhoneCall)
            .where(PhoneCall.estate_id == estate.id, PhoneCall.at >= start, PhoneCall.at < end)
            .order_by(PhoneCall.at, PhoneCall.id)
        )
    )
