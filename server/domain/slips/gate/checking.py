"""Checking what a gate scanned or a guard typed (R-REL-6): the slip it names, if it may pass, or a rejection code."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session, joinedload

from server.contract import slip_token
from server.db.models import Estate, ReleaseSlip, SlipRelease, SlipState
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


def release_detail(release: SlipRelease) -> dict[str, object]:
    return {"released_at": release.at.isoformat(), "gate": release.gate, "guard": release.guard}


def find_scanned(session: Session, estate: Estate, text: str, now: datetime) -> ReleaseSlip:
    """The slip a scanned code (checked cryptographically) or a typed slip number names, if it may pass."""
    text = text.strip()
    if slip_token.NUMBER_PATTERN.match(text.upper()):
        # A guard typed the printed number because the code was unreadable.
        number_estate, _day, _seq = slip_token.parse_slip_number(text)
        if number_estate != estate.code:
            raise Rejected("wrong_estate")
        slip = session.execute(_slip_by_number(text.upper())).unique().scalar_one_or_none()
    else:
        try:
            claims = slip_token.verify(text, keys.ring(session), estate=estate.code, now=now)
        except slip_token.TokenError as exc:
            raise Rejected(exc.code) from None
        slip = session.execute(_slip_by_number(claims.number)).unique().scalar_one_or_none()
        if slip is not None and slip.token != text:
            raise Rejected("revoked")
    if slip is None or slip.estate_id != estate.id:
        raise NotFound("本小区没有这张放行条", "no such slip in this estate", code="unknown_slip")
    check_state(slip, now)
    return slip


def _slip_by_number(number: str) -> Select[ReleaseSlip]:
    """A slip with its lines and its release, in one query (a gate checks all three)."""
    return (
        select(ReleaseSlip)
        .where(ReleaseSlip.number == number)
        .options(joinedload(ReleaseSlip.release), joinedload(ReleaseSlip.items))
    )


def check_state(slip: ReleaseSlip, now: datetime) -> None:
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
