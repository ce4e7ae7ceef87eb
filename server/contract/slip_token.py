"""The release-slip QR token: a compact binary payload signed with Ed25519, as ASCII (ARCHITECTURE.md).

Text form: ``RS1:`` + base64url (no padding) of ``payload || signature``. The payload is self-contained: format
version, signing-key id, estate code, slip day and sequence (the slip number ``GH-20261127-0042``), unit, validity
end and the item lines (catalogue code or short name, quantity). A gate checks it offline with public keys only.

Every failure to read or check a token is a `TokenError` with one of the gate's rejection codes; nothing else is
ever raised by `decode` or `verify`, whatever text is scanned.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

PREFIX = "RS1:"
VERSION = 1
SIGNATURE_BYTES = 64
MAX_LINES = 10
MAX_NAME_BYTES = 48
EPOCH = date(2000, 1, 1)
_HEAD = struct.Struct(">BH")  # version, key id
_NUMBER = struct.Struct(">HH")  # slip day (days since 2000-01-01), sequence of the day
_UNTIL = struct.Struct(">I")  # validity end, Unix seconds
_FREE_TEXT = 0x80  # flag on an item's length byte: a name in UTF-8 rather than a catalogue code
NUMBER_PATTERN = re.compile(r"^(?P<estate>[A-Z]{2,8})-(?P<day>\d{8})-(?P<seq>\d{4,5})$")


class TokenError(Exception):
    """A token that cannot be used. `code` is the gate's rejection code (malformed, bad_signature, …)."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class ItemLine:
    """One item line: a catalogue code (``SOFA``) or, when `free_text`, the item's name as written."""

    label: str
    quantity: int
    free_text: bool = False


@dataclass(frozen=True)
class SlipClaims:
    """What a token says: enough for a gate to check a slip with no network."""

    key_id: int
    estate: str
    day: date
    seq: int
    unit: str
    valid_until: datetime
    items: tuple[ItemLine, ...]

    @property
    def number(self) -> str:
        return slip_number(self.estate, self.day, self.seq)


def slip_number(estate: str, day: date, seq: int) -> str:
    """The human-readable slip number printed under the code: ``GH-20261127-0042``."""
    return f"{estate}-{day:%Y%m%d}-{seq:04d}"


def parse_slip_number(text: str) -> tuple[str, date, int]:
    m = NUMBER_PATTERN.match(text.strip().upper())
    if not m:
        raise TokenError("malformed", f"not a slip number: {text[:40]!r}")
    try:
        day = datetime.strptime(m["day"], "%Y%m%d").date()
    except ValueError:
        raise TokenError("malformed", f"not a slip number: {text[:40]!r}") from None
    return m["estate"], day, int(m["seq"])


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _short(text: str, what: str, limit: int) -> bytes:
    raw = text.encode("utf-8")
    if not raw or len(raw) > limit:
        raise ValueError(f"{what} must be 1–{limit} bytes in UTF-8: {text!r}")
    return raw


def payload_bytes(claims: SlipClaims) -> bytes:
    """The signed bytes of `claims` (raises ValueError for claims a token cannot carry)."""
    if not 1 <= len(claims.items) <= MAX_LINES:
        raise ValueError(f"a slip carries 1–{MAX_LINES} item lines")
    days = (claims.day - EPOCH).days
    if not (0 <= days <= 0xFFFF and 0 < claims.seq <= 0xFFFF and 0 <= claims.key_id <= 0xFFFF):
        raise ValueError("slip day, sequence or key id out of range")
    out = bytearray(_HEAD.pack(VERSION, claims.key_id))
    for text, what in ((claims.estate, "estate"), (claims.unit, "unit")):
        raw = _short(text, what, 16)
        out += bytes([len(raw)]) + raw
    out += _NUMBER.pack(days, claims.seq)
    out += _UNTIL.pack(int(claims.valid_until.timestamp()))
    out.append(len(claims.items))
    for item in claims.items:
        raw = _short(item.label, "item name", MAX_NAME_BYTES)
        if not item.free_text and not raw.isascii():
            raise ValueError(f"catalogue codes are ASCII: {item.label!r}")
        if not 1 <= item.quantity <= 9999:
            raise ValueError("a quantity is 1–9999")
        out.append(len(raw) | (_FREE_TEXT if item.free_text else 0))
        out += raw + _varint(item.quantity)
    return bytes(out)


def encode(claims: SlipClaims, private_key: Ed25519PrivateKey) -> str:
    """Sign `claims` and give the ASCII token (≤ 350 characters for 10 short item lines)."""
    payload = payload_bytes(claims)
    signature = private_key.sign(payload)
    return PREFIX + base64.urlsafe_b64encode(payload + signature).rstrip(b"=").decode("ascii")


class _Reader:
    def __init__(self, data: bytes) -> None:
        self.data, self.pos = data, 0

    def take(self, n: int) -> bytes:
        if n < 0 or self.pos + n > len(self.data):
            raise TokenError("malformed", "the token is cut short")
        chunk = self.data[self.pos : self.pos + n]
        self.pos += n
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def varint(self) -> int:
        value = shift = 0
        while shift < 21:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                return value
            shift += 7
        raise TokenError("malformed", "a quantity is too long")


@dataclass(frozen=True)
class SignedToken:
    claims: SlipClaims
    payload: bytes
    signature: bytes


def _text(raw: bytes, what: str) -> str:
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        raise TokenError("malformed", f"the {what} is not UTF-8") from None


def decode(text: str) -> SignedToken:
    """Read a token without checking its signature. Raises only `TokenError("malformed", …)`."""
    if not isinstance(text, str):
        raise TokenError("malformed", "a token is text")
    text = text.strip()
    if not text.startswith(PREFIX) or len(text) > 2000 or not text.isascii():
        raise TokenError("malformed", "not a release-slip code")
    body = text[len(PREFIX) :]
    if not re.fullmatch(r"[A-Za-z0-9_-]+", body):
        raise TokenError("malformed", "not a release-slip code")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed", "not a release-slip code") from None
    # One text per token: unused trailing bits must be zero, so no altered text reads as the same bytes.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != body:
        raise TokenError("malformed", "not a release-slip code")
    if len(raw) <= SIGNATURE_BYTES + _HEAD.size:
        raise TokenError("malformed", "the token is cut short")
    payload, signature = raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]
    reader = _Reader(payload)
    version, key_id = _HEAD.unpack(reader.take(_HEAD.size))
    if version != VERSION:
        raise TokenError("malformed", f"unknown token version {version}")
    estate = _text(reader.take(reader.byte()), "estate")
    unit = _text(reader.take(reader.byte()), "unit")
    days, seq = _NUMBER.unpack(reader.take(_NUMBER.size))
    (until,) = _UNTIL.unpack(reader.take(_UNTIL.size))
    count = reader.byte()
    if not 1 <= count <= MAX_LINES:
        raise TokenError("malformed", "bad number of item lines")
    items = []
    for _ in range(count):
        head = reader.byte()
        label = _text(reader.take(head & ~_FREE_TEXT & 0xFF), "item name")
        quantity = reader.varint()
        if not label or quantity < 1:
            raise TokenError("malformed", "an empty item line")
        items.append(ItemLine(label, quantity, bool(head & _FREE_TEXT)))
    if reader.pos != len(payload):
        raise TokenError("malformed", "unexpected bytes after the item lines")
    if not estate or not unit or seq == 0:
        raise TokenError("malformed", "estate, unit or number missing")
    claims = SlipClaims(
        key_id=key_id,
        estate=estate,
        day=EPOCH + timedelta(days=days),
        seq=seq,
        unit=unit,
        valid_until=datetime.fromtimestamp(until, UTC),
        items=tuple(items),
    )
    return SignedToken(claims, payload, signature)


def public_key_from_bytes(raw: bytes) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(raw)


def verify(
    text: str,
    public_keys: Mapping[int, Ed25519PublicKey],
    *,
    estate: str,
    now: datetime,
    revoked: Collection[str] = (),
) -> SlipClaims:
    """Check a scanned token offline: readable, signed by a known key, for this estate, in time, not revoked.

    Raises `TokenError` with code malformed, unknown_key, bad_signature, wrong_estate, expired or revoked.
    """
    token = decode(text)
    key = public_keys.get(token.claims.key_id)
    if key is None:
        raise TokenError("unknown_key", f"signed with an unknown key ({token.claims.key_id})")
    try:
        key.verify(token.signature, token.payload)
    except InvalidSignature:
        raise TokenError("bad_signature", "the signature does not match: the code was altered or forged") from None
    claims = token.claims
    if claims.estate != estate:
        raise TokenError("wrong_estate", f"this slip is for estate {claims.estate}, not {estate}")
    if now > claims.valid_until:
        raise TokenError("expired", f"valid until {claims.valid_until.isoformat()}")
    if claims.number in revoked:
        raise TokenError("revoked", f"slip {claims.number} was revoked")
    return claims
