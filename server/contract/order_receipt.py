"""The QR code on a service order's printed confirmation (回执): scanned later at the kiosk to show that order's state.

The text is `SO1:<order number>:<mac>` — ASCII in the QR code's alphanumeric set (capitals, digits, `-` and `:`),
so a small symbol prints at a large module. The mac is 80 bits of HMAC-SHA256 under a secret only the server holds,
over the number: knowing one's own order number (or anybody's) is not enough to make a code that shows it, so
the code is as good as the paper it is printed on. The kiosk only recognises the form; the server checks the mac.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

PREFIX = "SO1"
MAC_BYTES = 10  # 80 bits: 16 base32 characters
MAC_CHARS = 16
MAX_LENGTH = 64
_NUMBER = re.compile(r"^[A-Z0-9]+(-[A-Z0-9]+)*$")
_CODE = re.compile(rf"^{PREFIX}:([A-Z0-9-]{{1,40}}):([A-Z2-7]{{{MAC_CHARS}}})$")


@dataclass(frozen=True)
class ReceiptCode:
    number: str
    mac: str


def _mac(number: str, key: bytes) -> str:
    digest = hmac.new(key, f"order-receipt|{number}".encode("ascii"), hashlib.sha256).digest()
    return base64.b32encode(digest[:MAC_BYTES]).decode("ascii")


def encode(number: str, key: bytes) -> str:
    """The QR text for order `number` (``GH-WX-202611-0042``); ValueError for a number outside the code's set."""
    if len(number) > 40 or not _NUMBER.match(number):
        raise ValueError(f"an order number is capitals and digits joined by dashes, not {number!r}")
    return f"{PREFIX}:{number}:{_mac(number, key)}"


def parse(text: str) -> ReceiptCode | None:
    """The number and mac of a text that has the form of a receipt code (surrounding blanks and a reader's lower
    case forgiven), or None: a kiosk routes a scan by this, the server still checks the mac."""
    cleaned = text.strip().upper()
    if len(cleaned) > MAX_LENGTH:
        return None
    found = _CODE.match(cleaned)
    return ReceiptCode(found.group(1), found.group(2)) if found else None


def verify(text: str, key: bytes) -> str | None:
    """The order number a genuine code names, or None for a malformed or forged one (compared in constant time)."""
    code = parse(text)
    if code is None or not _NUMBER.match(code.number):
        return None
    return code.number if hmac.compare_digest(code.mac, _mac(code.number, key)) else None
