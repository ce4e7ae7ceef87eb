"""Checking what a gate scanned or a guard typed (R-REL-6): the slip it names, if it may pass, or a rejection code."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Protocol, TypeVar

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session, joinedload

from server.contract import slip_token
from server.db.models import Estate, ReleaseSlip, SlipItem, SlipRelease, SlipState
from server.domain.errors import DomainError, NotFound
from server.domain.slips import keys

# Rejection code → HTTP status of the API's error answer.
REJECTION_STATUS = {
    "malformed": 422,
    "bad_signature": 422,
    "unknown_key": 422,
    "wrong_estate": 403,
    "expired": 410,
    "revoked": 410,
    "cancelled": 410,
    "refused": 409,
    "already_released": 409,
}
REJECTION_TEXT: dict[str, tuple[str, str]] = {
    "malformed": ("无法识别的放行条二维码", "not a readable slip code"),
    "bad_signature": ("放行条签名无效，可能被篡改", "the slip's signature is not valid: altered or forged"),
    "unknown_key": ("放行条由未知密钥签发", "signed with an unknown key"),
    "wrong_estate": ("这是其他小区的放行条", "this slip belongs to another estate"),
    "expired": ("放行条已过期", "the slip has expired"),
    "revoked": ("放行条已被重开作废", "the slip was replaced and revoked"),
    "cancelled": ("放行条已作废", "the slip was cancelled"),
    "refused": ("该放行条已因物品不符被拒绝放行，请回客服中心重开", "refused at the gate: re-issue at the front desk"),
    "already_released": ("放行条已使用", "the slip was already used"),
}


class Rejected(DomainError):
    """A slip the gate must not honour, with the gate's rejection code."""

    def __init__(self, code: str, **detail: Any) -> None:
        super().__init__(*REJECTION_TEXT[code], code=code, status=REJECTION_STATUS[code], **detail)


class Decision(Protocol):
    """A slip's release as the checks read it (a SlipRelease, or a `Decided` read with a plain query)."""

    @property
    def outcome(self) -> str: ...
    @property
    def at(self) -> datetime: ...
    @property
    def gate(self) -> str: ...
    @property
    def guard(self) -> str: ...


class Line(Protocol):
    @property
    def line(self) -> int: ...
    @property
    def name(self) -> str: ...
    @property
    def quantity(self) -> int: ...


class Checkable(Protocol):
    """What the gate's checks read of a slip: a ReleaseSlip, or a `Scanned` read with plain queries."""

    @property
    def id(self) -> int: ...
    @property
    def estate_id(self) -> int: ...
    @property
    def token(self) -> str: ...
    @property
    def state(self) -> SlipState: ...
    @property
    def revoked_at(self) -> datetime | None: ...
    @property
    def valid_until(self) -> datetime: ...
    @property
    def release(self) -> Decision | None: ...
    @property
    def items(self) -> Sequence[Line]: ...


C = TypeVar("C", bound=Checkable)


def release_detail(release: Decision) -> dict[str, object]:
    return {"released_at": release.at.isoformat(), "gate": release.gate, "guard": release.guard}


def find_scanned(session: Session, estate: Estate, text: str, now: datetime) -> ReleaseSlip:
    """The slip a scanned code (checked cryptographically) or a typed slip number names, if it may pass."""
    text = text.strip()
    number = _number_named(session, estate, text, now)
    slip = session.execute(_SLIP_BY_NUMBER, {"number": number}).unique().scalar_one_or_none()
    return passable(slip, estate, text, now)


def check_scanned(session: Session, estate: Estate, text: str, now: datetime) -> Scanned:
    """The same as `find_scanned`, as plain values read with plain queries: what a release needs, quickly."""
    text = text.strip()
    return passable(scanned(session, _number_named(session, estate, text, now)), estate, text, now)


def _number_named(session: Session, estate: Estate, text: str, now: datetime) -> str:
    return number_named(estate, text, now, lambda: keys.ring(session))


class EstateRef(Protocol):
    @property
    def id(self) -> int: ...
    @property
    def code(self) -> str: ...


def number_named(
    estate: EstateRef, text: str, now: datetime, ring: Callable[[], Mapping[int, Ed25519PublicKey]]
) -> str:
    """The number of the slip a scanned code (checked cryptographically, against the keys `ring` gives) or a typed
    slip number names."""
    typed = typed_number(estate, text)
    if typed is not None:
        return typed
    try:
        return slip_token.verify(text, ring(), estate=estate.code, now=now).number
    except slip_token.TokenError as exc:
        raise Rejected(exc.code) from None


def typed_number(estate: EstateRef, text: str) -> str | None:
    """The slip number a guard typed because the code was unreadable (it must be this estate's), or None when
    `text` is not a slip number."""
    if not slip_token.NUMBER_PATTERN.match(text.upper()):
        return None
    number_estate, _day, _seq = slip_token.parse_slip_number(text)
    if number_estate != estate.code:
        raise Rejected("wrong_estate")
    return text.upper()


def passable(slip: C | None, estate: EstateRef, text: str, now: datetime) -> C:
    """`slip`, if it is this estate's, is the one the scanned code names, and may pass now."""
    if slip is not None and not slip_token.NUMBER_PATTERN.match(text.upper()) and slip.token != text:
        raise Rejected("revoked")
    if slip is None or slip.estate_id != estate.id:
        raise NotFound("本小区没有这张放行条", "no such slip in this estate", code="unknown_slip")
    check_state(slip, now)
    return slip


# A slip with its lines and its release, in one query (a gate checks all three); built once, as making it costs
# about as much as running it.
_SLIP_BY_NUMBER = (
    select(ReleaseSlip)
    .where(ReleaseSlip.number == bindparam("number"))
    .options(joinedload(ReleaseSlip.release), joinedload(ReleaseSlip.items))
)


@dataclass(frozen=True)
class Decided:
    outcome: str
    at: datetime
    gate: str
    guard: str


@dataclass(frozen=True)
class Item:
    line: int
    name: str
    quantity: int


@dataclass(frozen=True)
class Scanned:
    """A slip as a gate checks it, in plain values."""

    id: int
    estate_id: int
    number: str
    token: str
    state: SlipState
    revoked_at: datetime | None
    valid_until: datetime
    release: Decided | None
    items: tuple[Item, ...]


def scanned(session: Session, number: str) -> Scanned | None:
    """Slip `number` with its release and its lines, in two plain queries."""
    row = session.execute(_SCANNED, {"number": number}).first()
    if row is None:
        return None
    release = Decided(row.outcome, row.at, row.gate, row.guard) if row.outcome is not None else None
    items = tuple(Item(*line) for line in session.execute(_LINES, {"slip": row.id}))
    return Scanned(
        row.id, row.estate_id, row.number, row.token, row.state, row.revoked_at, row.valid_until, release, items
    )


_slips, _releases, _items = ReleaseSlip.__table__, SlipRelease.__table__, SlipItem.__table__
_SCANNED = (
    select(
        _slips.c.id,
        _slips.c.estate_id,
        _slips.c.number,
        _slips.c.token,
        _slips.c.state,
        _slips.c.revoked_at,
        _slips.c.valid_until,
        _releases.c.outcome,
        _releases.c.at,
        _releases.c.gate,
        _releases.c.guard,
    )
    .select_from(_slips.outerjoin(_releases, _releases.c.slip_id == _slips.c.id))
    .where(_slips.c.number == bindparam("number"))
)
_LINES = (
    select(_items.c.line, _items.c.name, _items.c.quantity)
    .where(_items.c.slip_id == bindparam("slip"))
    .order_by(_items.c.line)
)


def check_state(slip: Checkable, now: datetime) -> None:
    if slip.release is not None and slip.release.outcome == "released":
        raise Rejected("already_released", **release_detail(slip.release))
    if slip.state == SlipState.cancelled:
        raise Rejected("cancelled")
    if slip.revoked_at is not None:
        raise Rejected("revoked")
    if slip.state == SlipState.refused:
        raise Rejected("refused")
    if slip.state == SlipState.expired or now > slip.valid_until:
        raise Rejected("expired", valid_until=slip.valid_until.isoformat())
