"""What a person types at the cabinet's panel (a keyboard wedge, a keypad or card reader on a serial line), one line
per command:

    <card number>                          a bare line: the staff card the reader typed; signs that person in
    pin <username> <pin>                   signs in with a username and PIN (6–8 digits)
    borrow <key label or tag> <purpose> [hours]
                                           the signed-in person borrows a key for one of the register's purposes
                                           (R-KEY-5), due back after `hours`; a label with spaces may be quoted
    out                                    signs out (also done after a while with nothing typed)

Lines are never written to a log: they carry card numbers and PINs.
"""

from __future__ import annotations

import math
import shlex
from dataclasses import dataclass

from pydantic import ValidationError

from server.contract.cabinet import CabinetSignIn

MAX_HOURS = 24 * 30  # a month: anything longer is a typing slip, not a loan


class PanelError(ValueError):
    """A line that is not a command, with what to type instead (Chinese, then English)."""


@dataclass(frozen=True)
class SignIn:
    request: CabinetSignIn
    how: str  # card | pin


@dataclass(frozen=True)
class Borrow:
    key: str
    purpose: str
    hours: float | None


@dataclass(frozen=True)
class SignOut:
    pass


Command = SignIn | Borrow | SignOut


def _words(text: str) -> list[str]:
    try:
        return shlex.split(text)
    except ValueError:  # an unclosed quote: take the words as typed
        return text.split()


def _hours(word: str) -> float | None:
    try:
        value = float(word)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _borrow(words: list[str]) -> Borrow:
    hours = _hours(words[-1]) if len(words) >= 3 else None
    if hours is not None:
        words = words[:-1]
        if not 0 < hours <= MAX_HOURS:
            raise PanelError(f"借用时长须在 0–{MAX_HOURS} 小时之间 / hours must be more than 0 and at most {MAX_HOURS}")
    if len(words) < 2:
        raise PanelError(
            "请输入：borrow <钥匙标签或标签号> <用途> [小时] / type: borrow <key label or tag> <purpose> [hours]"
        )
    key, purpose = " ".join(words[:-1]), words[-1]
    if not 1 <= len(key) <= 60 or not 1 <= len(purpose) <= 40:
        raise PanelError("钥匙最多 60 个字，用途最多 40 个字 / a key is at most 60 characters, a purpose at most 40")
    return Borrow(key, purpose, hours)


def parse(line: str) -> Command | None:
    """The command on one line (None for a blank line); PanelError says what is wrong, never echoing the line."""
    text = line.strip()
    if not text:
        return None
    words = _words(text)
    if not words:
        return None
    verb = words[0].lower()
    if verb == "out" and len(words) == 1:
        return SignOut()
    if verb == "pin":
        if len(words) != 3:
            raise PanelError("请输入：pin <用户名> <PIN> / type: pin <username> <pin>")
        try:
            return SignIn(CabinetSignIn(username=words[1], pin=words[2]), "pin")
        except ValidationError:
            raise PanelError("用户名或 PIN 格式不对（PIN 为 6–8 位数字） / a username and a 6–8 digit PIN") from None
    if verb == "borrow":
        return _borrow(words[1:])
    if len(words) == 1:
        try:
            return SignIn(CabinetSignIn(card=text), "card")
        except ValidationError:
            raise PanelError("不是卡号（4–40 个字符） / not a card number (4–40 characters)") from None
    raise PanelError(
        "无法识别：请刷卡，或输入 pin、borrow、out / not a command: swipe a card, or type pin, borrow or out"
    )
