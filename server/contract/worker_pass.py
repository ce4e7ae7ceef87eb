"""The worker-pass QR token (装修工人临时出入证, R-REN-6): a second kind of signed token beside the release slip's,
made with the same Ed25519 keys, Base45 text and reading helpers (`slip_token`), so a gate checks a pass offline
with the keys it already holds.

Text form: ``WP1:`` + Base45 of ``payload || signature``. The payload: format version, signing-key id, estate
code, unit, the pass number's day and sequence (``GH-WP-20261125-0003``), the first and last day it is valid (the
renovation's period, in the estate's own days), the worker's name and company. A slip's ``RS2:``/``RS1:`` text never
reads as a pass, nor a pass as a slip.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from datetime import date, timedelta

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from server.contract.base45 import b45decode, b45encode
from server.contract.slip_token import EPOCH, TokenError, _Reader, _split, _text, _varint

PREFIX = "WP1:"
VERSION = 1
MAX_NAME_BYTES = 40
MAX_COMPANY_BYTES = 60
NUMBER_PATTERN = re.compile(r"^(?P<estate>[A-Z]{2,8})-WP-(?P<day>\d{8})-(?P<seq>\d{4,5})$")


@dataclass(frozen=True)
class PassClaims:
    """What a pass says: who may come in, for which unit, on which days."""

    key_id: int
    estate: str
    unit: str
    day: date  # the day it was issued, part of its number
    seq: int
    valid_from: date
    valid_until: date
    worker: str
    company: str

    @property
    def number(self) -> str:
        return pass_number(self.estate, self.day, self.seq)


def pass_number(estate: str, day: date, seq: int) -> str:
    """The number printed under the code: ``GH-WP-20261125-0003``."""
    return f"{estate}-WP-{day:%Y%m%d}-{seq:04d}"


def is_pass(text: str) -> bool:
    """Whether a scanned text is a worker pass (rather than a slip), by its prefix."""
    return isinstance(text, str) and text.strip().startswith(PREFIX)


def _days(day: date) -> bytes:
    days = (day - EPOCH).days
    if not 0 <= days <= 0xFFFF:
        raise ValueError(f"day out of range: {day}")
    return days.to_bytes(2, "big")


def _field(text: str, what: str, limit: int, *, empty: bool = False) -> bytes:
    raw = text.encode("utf-8")
    if (not raw and not empty) or len(raw) > limit:
        raise ValueError(f"{what} must be {0 if empty else 1}–{limit} bytes in UTF-8: {text!r}")
    return bytes([len(raw)]) + raw


def payload_bytes(claims: PassClaims) -> bytes:
    """The signed bytes of `claims` (ValueError for claims a pass cannot carry)."""
    if not (0 < claims.seq <= 0xFFFF and 0 <= claims.key_id <= 0xFFFF):
        raise ValueError("pass sequence or key id out of range")
    if claims.valid_until < claims.valid_from:
        raise ValueError("a pass ends on or after the day it starts")
    out = bytearray([VERSION]) + _varint(claims.key_id)
    out += _field(claims.estate, "estate", 16) + _field(claims.unit, "unit", 16)
    out += _days(claims.day) + _varint(claims.seq) + _days(claims.valid_from) + _days(claims.valid_until)
    out += _field(claims.worker, "worker", MAX_NAME_BYTES)
    out += _field(claims.company, "company", MAX_COMPANY_BYTES, empty=True)
    return bytes(out)


def encode(claims: PassClaims, private_key: Ed25519PrivateKey) -> str:
    """Sign `claims` and give the pass's QR text (all in the QR alphanumeric set)."""
    payload = payload_bytes(claims)
    return PREFIX + b45encode(payload + private_key.sign(payload))


@dataclass(frozen=True)
class SignedPass:
    claims: PassClaims
    payload: bytes
    signature: bytes


def _day(reader: _Reader) -> date:
    return EPOCH + timedelta(days=int.from_bytes(reader.take(2), "big"))


def decode(text: str) -> SignedPass:
    """Read a pass without checking its signature. Raises only `TokenError("malformed", …)`."""
    if not isinstance(text, str):
        raise TokenError("malformed", "a token is text")
    text = text.strip()
    if len(text) > 1000 or not text.isascii() or not text.startswith(PREFIX):
        raise TokenError("malformed", "not a worker pass")
    try:
        raw = b45decode(text[len(PREFIX) :])
    except ValueError:
        raise TokenError("malformed", "not a worker pass") from None
    payload, signature = _split(raw)
    reader = _Reader(payload)
    if reader.byte() != VERSION:
        raise TokenError("malformed", "unknown pass version")
    key_id = reader.varint()
    estate = _text(reader.take(reader.byte()), "estate")
    unit = _text(reader.take(reader.byte()), "unit")
    day = _day(reader)
    seq = reader.varint()
    valid_from, valid_until = _day(reader), _day(reader)
    worker = _text(reader.take(reader.byte()), "worker")
    company = _text(reader.take(reader.byte()), "company")
    reader.end()
    if not estate or not unit or not worker or not 0 < seq <= 0xFFFF or key_id > 0xFFFF:
        raise TokenError("malformed", "estate, unit, worker or number missing")
    claims = PassClaims(key_id, estate, unit, day, seq, valid_from, valid_until, worker, company)
    return SignedPass(claims, payload, signature)


def verify(
    text: str,
    public_keys: Mapping[int, Ed25519PublicKey],
    *,
    estate: str,
    today: date,
    revoked: Collection[str] = (),
) -> PassClaims:
    """Check a scanned pass offline on the estate's `today`: signed by a known key, for this estate, within its
    days, not withdrawn. Raises `TokenError`: malformed, unknown_key, bad_signature, wrong_estate, not_yet_valid,
    expired or revoked."""
    signed = decode(text)
    claims = signed.claims
    key = public_keys.get(claims.key_id)
    if key is None:
        raise TokenError("unknown_key", f"signed with an unknown key ({claims.key_id})")
    try:
        key.verify(signed.signature, signed.payload)
    except InvalidSignature:
        raise TokenError("bad_signature", "the signature does not match: the pass was altered or forged") from None
    if claims.estate != estate:
        raise TokenError("wrong_estate", f"this pass is for estate {claims.estate}, not {estate}")
    if today < claims.valid_from:
        raise TokenError("not_yet_valid", f"valid from {claims.valid_from.isoformat()}")
    if today > claims.valid_until:
        raise TokenError("expired", f"valid until {claims.valid_until.isoformat()}")
    if claims.number in revoked:
        raise TokenError("revoked", f"pass {claims.number} was withdrawn")
    return claims
