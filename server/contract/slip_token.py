"""The release-slip QR token: a compact binary payload signed with Ed25519, as QR-alphanumeric text (ARCHITECTURE.md).

Text form: ``RS2:`` + Base45 (RFC 9285) of ``payload || signature``, every character in the QR code's alphanumeric
set, printed with error correction Q. The payload is self-contained: format version, signing-key id, estate code,
slip day and sequence (the slip number ``GH-20261127-0042``), unit, validity end and the item lines (catalogue code
or the name as written, quantity). A gate checks it offline with public keys only.

Slips printed before this format carry ``RS1:`` + base64url of the version-1 payload; they are read and checked
exactly as before until they expire.

Every failure to read or check a token is a `TokenError` with one of the gate's rejection codes; nothing else is
ever raised by `decode` or `verify`, whatever text is scanned.
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.contract.base45 import b45decode, b45encode, encoded_length

PREFIX = "RS2:"
VERSION = 2
LEGACY_PREFIX = "RS1:"
LEGACY_VERSION = 1
SIGNATURE_BYTES = 64
MAX_LINES = 10
MAX_NAME_BYTES = 48  # a name in UTF-8; its stored form is never longer
EPOCH = date(2000, 1, 1)
# The largest token in a QR code of version 19 (93 modules) at error correction Q: on 80 mm paper (576 dots, the
# paper's 4 mm margins as quiet zone) each module is then 6 dots, 0.75 mm, which a 1280x720 gate camera framing
# the slip sees as at least 4 pixels. Checked against the QR tables in tests.
MAX_TOKEN_CHARS = 644
NUMBER_PATTERN = re.compile(r"^(?P<estate>[A-Z]{2,8})-(?P<day>\d{8})-(?P<seq>\d{4,5})$")

_DAY = struct.Struct(">H")  # slip day: days since 2000-01-01
# Version 2 item line: a head byte (kind in the top two bits, stored length below), the label, a varint quantity.
_CODE, _NAME_GB18030, _NAME_UTF8 = 0, 1, 2
_KIND_SHIFT = 6
_LENGTH_MASK = 0x3F
# The longest header `token_fits` allows for: version, key id, estate (8), unit (16), day, sequence, validity end,
# line count.
_MAX_HEADER_BYTES = 1 + 3 + (1 + 8) + (1 + 16) + _DAY.size + 3 + 5 + 1

# Version 1 (RS1): fixed fields and a free-text flag on the length byte.
_V1_HEAD = struct.Struct(">BH")  # version, key id
_V1_NUMBER = struct.Struct(">HH")  # slip day, sequence of the day
_V1_UNTIL = struct.Struct(">I")  # validity end, Unix seconds
_V1_FREE_TEXT = 0x80


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


# --- writing ------------------------------------------------------------------------------------------------


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _zigzag(value: int) -> int:
    return value * 2 if value >= 0 else -value * 2 - 1


def _short(text: str, what: str, limit: int) -> bytes:
    raw = text.encode("utf-8")
    if not raw or len(raw) > limit:
        raise ValueError(f"{what} must be 1–{limit} bytes in UTF-8: {text!r}")
    return raw


def _day_start(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=UTC).timestamp())


def _item_bytes(item: ItemLine) -> bytes:
    """A version-2 item line. A name goes in GB18030 (two bytes a Chinese character, not UTF-8's three) when
    that is shorter and reads back as the same text."""
    raw = _short(item.label, "item name", MAX_NAME_BYTES)
    if not 1 <= item.quantity <= 9999:
        raise ValueError("a quantity is 1–9999")
    kind = _CODE
    if not item.free_text:
        if not raw.isascii():
            raise ValueError(f"catalogue codes are ASCII: {item.label!r}")
    else:
        kind = _NAME_UTF8
        try:
            compact = item.label.encode("gb18030")
        except UnicodeEncodeError:
            compact = raw
        if len(compact) < len(raw) and compact.decode("gb18030") == item.label:
            kind, raw = _NAME_GB18030, compact
    return bytes([kind << _KIND_SHIFT | len(raw)]) + raw + _varint(item.quantity)


def payload_bytes(claims: SlipClaims) -> bytes:
    """The signed version-2 bytes of `claims` (raises ValueError for claims a token cannot carry)."""
    if not 1 <= len(claims.items) <= MAX_LINES:
        raise ValueError(f"a slip carries 1–{MAX_LINES} item lines")
    days = (claims.day - EPOCH).days
    if not (0 <= days <= 0xFFFF and 0 < claims.seq <= 0xFFFF and 0 <= claims.key_id <= 0xFFFF):
        raise ValueError("slip day, sequence or key id out of range")
    out = bytearray([VERSION]) + _varint(claims.key_id)
    for text, what in ((claims.estate, "estate"), (claims.unit, "unit")):
        raw = _short(text, what, 16)
        out += bytes([len(raw)]) + raw
    out += _DAY.pack(days) + _varint(claims.seq)
    out += _varint(_zigzag(int(claims.valid_until.timestamp()) - _day_start(claims.day)))
    out.append(len(claims.items))
    for item in claims.items:
        out += _item_bytes(item)
    return bytes(out)


def token_text(payload: bytes, signature: bytes) -> str:
    """The QR text of signed version-2 bytes."""
    return PREFIX + b45encode(payload + signature)


def encode(claims: SlipClaims, private_key: Ed25519PrivateKey) -> str:
    """Sign `claims` and give the token text (ASCII, all in the QR alphanumeric set)."""
    payload = payload_bytes(claims)
    return token_text(payload, private_key.sign(payload))


def token_fits(items: Sequence[ItemLine]) -> bool:
    """Whether a slip with these item lines has a token that prints at full size (`MAX_TOKEN_CHARS`), whatever
    its estate, unit, number and validity. False too for lines no token can carry (ask before asking the server)."""
    if not 1 <= len(items) <= MAX_LINES:
        return False
    try:
        lines = sum(len(_item_bytes(item)) for item in items)
    except ValueError:
        return False
    size = _MAX_HEADER_BYTES + lines + SIGNATURE_BYTES
    return len(PREFIX) + encoded_length(size) <= MAX_TOKEN_CHARS


# --- reading ------------------------------------------------------------------------------------------------


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

    def varint(self, limit_bits: int = 21) -> int:
        value = shift = 0
        while shift < limit_bits:
            byte = self.byte()
            value |= (byte & 0x7F) << shift
            if not byte & 0x80:
                if byte == 0 and shift:
                    raise TokenError("malformed", "a number is written longer than it needs")
                return value
            shift += 7
        raise TokenError("malformed", "a number is too long")

    def end(self) -> None:
        if self.pos != len(self.data):
            raise TokenError("malformed", "unexpected bytes after the item lines")


@dataclass(frozen=True)
class SignedToken:
    claims: SlipClaims
    payload: bytes
    signature: bytes


def _text(raw: bytes, what: str, encoding: str = "utf-8") -> str:
    try:
        return raw.decode(encoding)
    except UnicodeDecodeError:
        raise TokenError("malformed", f"the {what} is not {encoding}") from None


def _unpadded_b64(body: str) -> bytes:
    if not re.fullmatch(r"[A-Za-z0-9_-]+", body):
        raise TokenError("malformed", "not a release-slip code")
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise TokenError("malformed", "not a release-slip code") from None
    # One text per token: unused trailing bits must be zero, so no altered text reads as the same bytes.
    if base64.urlsafe_b64encode(raw).rstrip(b"=").decode("ascii") != body:
        raise TokenError("malformed", "not a release-slip code")
    return raw


def _split(raw: bytes) -> tuple[bytes, bytes]:
    if len(raw) <= SIGNATURE_BYTES + 3:
        raise TokenError("malformed", "the token is cut short")
    return raw[:-SIGNATURE_BYTES], raw[-SIGNATURE_BYTES:]


def decode(text: str) -> SignedToken:
    """Read a token (this format or a version-1 slip still valid) without checking its signature.

    Raises only `TokenError("malformed", …)`.
    """
    if not isinstance(text, str):
        raise TokenError("malformed", "a token is text")
    # Base45 text never ends in a space (its last character stands for at most 32), so stripping loses nothing.
    text = text.strip()
    if len(text) > 2000 or not text.isascii():
        raise TokenError("malformed", "not a release-slip code")
    if text.startswith(PREFIX):
        try:
            raw = b45decode(text[len(PREFIX) :])
        except ValueError:
            raise TokenError("malformed", "not a release-slip code") from None
        payload, signature = _split(raw)
        claims = _claims_v2(payload)
    elif text.startswith(LEGACY_PREFIX):
        payload, signature = _split(_unpadded_b64(text[len(LEGACY_PREFIX) :]))
        claims = _claims_v1(payload)
    else:
        raise TokenError("malformed", "not a release-slip code")
    return SignedToken(claims, payload, signature)


def _checked(claims: SlipClaims) -> SlipClaims:
    if not claims.estate or not claims.unit or claims.seq == 0:
        raise TokenError("malformed", "estate, unit or number missing")
    if not 1 <= len(claims.items) <= MAX_LINES:
        raise TokenError("malformed", "bad number of item lines")
    return claims


def _claims_v2(payload: bytes) -> SlipClaims:
    reader = _Reader(payload)
    if reader.byte() != VERSION:
        raise TokenError("malformed", "unknown token version")
    key_id = reader.varint()
    estate = _text(reader.take(reader.byte()), "estate")
    unit = _text(reader.take(reader.byte()), "unit")
    (days,) = _DAY.unpack(reader.take(_DAY.size))
    seq = reader.varint()
    zigzag = reader.varint(limit_bits=35)
    offset = zigzag // 2 if zigzag % 2 == 0 else -(zigzag + 1) // 2
    day = EPOCH + timedelta(days=days)
    count = reader.byte()
    if not 1 <= count <= MAX_LINES:
        raise TokenError("malformed", "bad number of item lines")
    items = []
    for _ in range(count):
        head = reader.byte()
        kind, length = head >> _KIND_SHIFT, head & _LENGTH_MASK
        raw = reader.take(length)
        if kind == _CODE:
            if not raw.isascii():
                raise TokenError("malformed", "a catalogue code is not ASCII")
            label = raw.decode("ascii")
        elif kind == _NAME_GB18030:
            label = _text(raw, "item name", "gb18030")
        elif kind == _NAME_UTF8:
            label = _text(raw, "item name")
        else:
            raise TokenError("malformed", "unknown kind of item line")
        quantity = reader.varint()
        if not label or quantity < 1:
            raise TokenError("malformed", "an empty item line")
        items.append(ItemLine(label, quantity, kind != _CODE))
    reader.end()
    if key_id > 0xFFFF or seq > 0xFFFF:
        raise TokenError("malformed", "key id or sequence out of range")
    try:
        until = datetime.fromtimestamp(_day_start(day) + offset, UTC)
    except (OverflowError, OSError, ValueError):
        raise TokenError("malformed", "the validity end is out of range") from None
    return _checked(SlipClaims(key_id, estate, day, seq, unit, until, tuple(items)))


def _claims_v1(payload: bytes) -> SlipClaims:
    reader = _Reader(payload)
    version, key_id = _V1_HEAD.unpack(reader.take(_V1_HEAD.size))
    if version != LEGACY_VERSION:
        raise TokenError("malformed", f"unknown token version {version}")
    estate = _text(reader.take(reader.byte()), "estate")
    unit = _text(reader.take(reader.byte()), "unit")
    days, seq = _V1_NUMBER.unpack(reader.take(_V1_NUMBER.size))
    (until,) = _V1_UNTIL.unpack(reader.take(_V1_UNTIL.size))
    count = reader.byte()
    if not 1 <= count <= MAX_LINES:
        raise TokenError("malformed", "bad number of item lines")
    items = []
    for _ in range(count):
        head = reader.byte()
        label = _text(reader.take(head & ~_V1_FREE_TEXT & 0xFF), "item name")
        quantity = reader.varint()
        if not label or quantity < 1:
            raise TokenError("malformed", "an empty item line")
        items.append(ItemLine(label, quantity, bool(head & _V1_FREE_TEXT)))
    reader.end()
    claims = SlipClaims(
        key_id, estate, EPOCH + timedelta(days=days), seq, unit, datetime.fromtimestamp(until, UTC), tuple(items)
    )
    return _checked(claims)


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
