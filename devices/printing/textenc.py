"""Text for ESC/POS Chinese mode: GB18030 encoding restricted to ASCII and 2-byte codes, and width-aware wrapping.

Printers' built-in Chinese fonts hold ASCII (half width, 1 column) and 2-byte GB codes (full width, 2 columns).
A character that needs a 4-byte GB18030 code would print as garbage, so it is either replaced by its full-width
form (¥ -> ￥) or reported as not encodable, and the caller draws it as an image.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

# Characters whose own GB18030 code is 4 bytes but which have a 2-byte full-width or Chinese equivalent.
FULL_WIDTH_FORMS: dict[str, str] = {
    "¥": "￥",
    "•": "·",
    "‧": "·",
    "∙": "·",
    "‒": "－",
    "‑": "－",
    "‚": "，",
    "„": "＂",
    "\u00a0": " ",
}


def _code(ch: str) -> bytes | None:
    try:
        data = ch.encode("gb18030")
    except UnicodeEncodeError:
        return None
    return data if len(data) <= 2 else None


def normalize_char(ch: str) -> str:
    """The character as it will be printed: its 2-byte full-width form when the original has none."""
    if ord(ch) < 0x80:
        return ch
    if _code(ch) is not None:
        return ch
    return FULL_WIDTH_FORMS.get(ch, ch)


def normalize(text: str) -> str:
    """Apply `normalize_char` to every character; tabs and other controls become spaces."""
    out = []
    for ch in text:
        if ch in "\t\r\n" or (ord(ch) < 0x20) or ch == "\x7f":
            out.append(" ")
        else:
            out.append(normalize_char(ch))
    return "".join(out)


def char_bytes(ch: str) -> bytes | None:
    """The printer bytes of one normalized character: 1 byte for ASCII, 2 for GB; None when it has neither."""
    if ord(ch) < 0x80:
        return ch.encode("ascii")
    data = _code(ch)
    if data is None or len(data) != 2:
        return None
    return data


def encodable(ch: str) -> bool:
    """Whether the printer's Chinese font can print the (normalized) character from its code."""
    return char_bytes(ch) is not None


def char_width(ch: str) -> int:
    """Columns a character takes: 1 for ASCII, 2 for everything else (drawn or printed full width)."""
    return 1 if ord(ch) < 0x80 else 2


def text_width(text: str) -> int:
    return sum(char_width(ch) for ch in text)


def encode_line(text: str) -> bytes:
    """Encode a normalized line that `encodable` accepts entirely; raises ValueError naming the first misfit."""
    parts = []
    for ch in text:
        data = char_bytes(ch)
        if data is None:
            raise ValueError(f"character {ch!r} (U+{ord(ch):04X}) has no 1- or 2-byte GB18030 code")
        parts.append(data)
    return b"".join(parts)


def wrap(text: str, columns: int) -> list[str]:
    """Split `text` into lines of at most `columns` columns, never inside a character.

    Latin words, numbers and times (runs of ASCII without spaces: ``sofa``, ``17:17``) stay whole unless one is
    wider than a line; Chinese breaks between any two characters. Greedy: a line ends only when the next word
    or character does not fit. A space that would end a full line is dropped with the break; otherwise
    joining the lines gives `text` back.
    """
    if columns < 2:
        raise ValueError("columns must be at least 2 (one full-width character)")
    return list(_wrap(text, columns)) or [""]


_UNITS = re.compile(r"[!-~]+|.", re.DOTALL)  # a run of ASCII without spaces, or any one character


def _wrap(text: str, columns: int) -> Iterator[str]:
    line = ""
    used = 0
    for unit in _UNITS.findall(text):
        width = text_width(unit)
        if used + width <= columns:
            line, used = line + unit, used + width
            continue
        if unit == " " and line:
            yield line  # the space at the break is not printed
            line, used = "", 0
            continue
        if line and width <= columns:
            yield line
            line, used = unit, width
            continue
        for ch in unit:  # a word wider than a whole line, or one character: split where the line is full
            w = char_width(ch)
            if used + w > columns:
                yield line
                line, used = "", 0
            line, used = line + ch, used + w
    if line:
        yield line


def pad_between(left: str, right: str, columns: int) -> str:
    """`left` and `right` on one line of `columns` columns, with spaces between (at least one)."""
    gap = max(1, columns - text_width(left) - text_width(right))
    return f"{left}{' ' * gap}{right}"
