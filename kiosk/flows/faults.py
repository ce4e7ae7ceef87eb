"""What went wrong, in words a resident can act on: server refusals, an unreachable server, printer faults."""

from __future__ import annotations

import httpx

from devices.printing import CoverOpen, PaperOut, PrintingError
from kiosk.flows.state import Message
from server.contract.client import ApiError

# Refusal codes of the slip and identify routes, and where to send the resident (R-REL-3, R-REL-5).
REFUSAL_ADVICE = {
    "arrears_outstanding": "advice.finance",
    "not_owner": "advice.front_desk",
    "not_resident": "advice.front_desk",
    "proxy_console_only": "advice.front_desk",
    "pin_locked": "advice.front_desk",
    "too_many_pins": "advice.front_desk",
    "unknown_card": "advice.front_desk",
    "no_units": "advice.front_desk",
    "not_reprintable": "advice.my_requests",
    "receipt_unknown": "advice.front_desk",
    "wrong_state": "advice.front_desk",
    "not_your_unit": "advice.front_desk",
}


def server_unreachable(exc: BaseException) -> bool:
    """The server did not answer (network, timeout) or failed itself: nothing of the request can be relied on."""
    if isinstance(exc, httpx.TransportError):
        return True
    return isinstance(exc, ApiError) and exc.status >= 500


def yuan(fen: int) -> str:
    return f"¥{fen // 100:,}.{fen % 100:02d}"


def refusal(exc: ApiError) -> tuple[Message, Message]:
    """The message and the advice for a refusal by the server, by its stable code."""
    values = {"server_message": exc.text("zh"), "server_message_en": exc.text("en")}
    if exc.code == "arrears_outstanding":
        values["amount"] = yuan(int(exc.detail.get("arrears_fen", 0)))
    key = exc.code if exc.code in REFUSAL_ADVICE else "other"
    return Message(f"refusal.{key}", values), Message(REFUSAL_ADVICE.get(exc.code, "advice.front_desk"))


def printer_problem(exc: PrintingError) -> str:
    """The catalogue key naming a printer fault."""
    if isinstance(exc, PaperOut):
        return "printer.paper_out"
    if isinstance(exc, CoverOpen):
        return "printer.cover_open"
    return "printer.offline"  # offline, silent, or the connection failed
