"""Base45 (RFC 9285): bytes as text in the QR code's alphanumeric set, as the EU digital COVID certificate does.

Every two bytes become three characters (one byte at the end becomes two), all from the 45 characters a QR
code's alphanumeric mode stores in 5.5 bits, so a code holds the same bytes in a smaller symbol than base64 in
byte mode. Decoding is strict: one text per byte string.
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:"
_VALUES = {ch: value for value, ch in enumerate(ALPHABET)}


def encoded_length(size: int) -> int:
    """Characters in the Base45 text of `size` bytes."""
    return 3 * (size // 2) + 2 * (size % 2)


def b45encode(data: bytes) -> str:
    out: list[str] = []
    for start in range(0, len(data) - 1, 2):
        value = data[start] * 256 + data[start + 1]
        out += (ALPHABET[value % 45], ALPHABET[value // 45 % 45], ALPHABET[value // 2025])
    if len(data) % 2:
        out += (ALPHABET[data[-1] % 45], ALPHABET[data[-1] // 45])
    return "".join(out)


def b45decode(text: str) -> bytes:
    """The bytes of a Base45 text; ValueError for a character outside the alphabet, a cut group or a value
    that no byte string encodes to."""
    if len(text) % 3 == 1:
        raise ValueError("a Base45 text cannot have 3n+1 characters")
    try:
        values = [_VALUES[ch] for ch in text]
    except KeyError as exc:
        raise ValueError(f"{exc.args[0]!r} is not a Base45 character") from None
    out = bytearray()
    for start in range(0, len(values), 3):
        group = values[start : start + 3]
        value = sum(v * 45**i for i, v in enumerate(group))
        if len(group) == 3:
            if value > 0xFFFF:
                raise ValueError("a Base45 group above 65535")
            out += value.to_bytes(2, "big")
        else:
            if value > 0xFF:
                raise ValueError("a Base45 final pair above 255")
            out.append(value)
    return bytes(out)
