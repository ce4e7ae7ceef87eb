"""Slip signing keys: made on first use, kept in the database for every worker, rotated by `estate keys rotate`.

A retired key's public half stays published while any slip it signed is still valid, so gates can check them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any, cast

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat, PublicFormat
from sqlalchemy import CursorResult, func, insert, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import ReleaseSlip, SigningKey
from server.domain import audit
from server.domain.actors import SYSTEM, Actor


def _new_key_material() -> tuple[str, str]:
    private = Ed25519PrivateKey.generate()
    raw_private = private.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())
    raw_public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return raw_private.hex(), raw_public.hex()


@lru_cache(maxsize=64)
def private_key(hex_value: str) -> Ed25519PrivateKey:
    return Ed25519PrivateKey.from_private_bytes(bytes.fromhex(hex_value))


@lru_cache(maxsize=64)
def public_key(hex_value: str) -> Ed25519PublicKey:
    return Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_value))


def active_key(session: Session) -> SigningKey:
    """The key new slips are signed with; the first one is made here, once, even with several workers starting."""
    key = session.scalar(_ACTIVE)
    if key is not None:
        return key
    private_hex, public_hex = _new_key_material()
    values = {"id": 1, "private_key": private_hex, "public_key": public_hex, "created_at": utcnow()}
    dialect = session.get_bind().dialect.name
    statement = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(SigningKey).values(**values)
    created = session.execute(statement.on_conflict_do_nothing(index_elements=["id"]))
    if cast(CursorResult[Any], created).rowcount:  # an INSERT's result is a cursor result
        audit.record(session, SYSTEM, "slip_key.create", "slip_key", 1)
    key = session.scalar(_ACTIVE)
    if key is None:  # key 1 existed but was retired: rotate to a fresh one
        return rotate(session, SYSTEM)
    return key


_ACTIVE = select(SigningKey).where(SigningKey.retired_at.is_(None)).order_by(SigningKey.id.desc())


def rotate(session: Session, actor: Actor) -> SigningKey:
    """Retire the signing key in use and start signing with a new one."""
    now = utcnow()
    for old in session.scalars(select(SigningKey).where(SigningKey.retired_at.is_(None))):
        old.retired_at = now
    next_id = (session.scalar(select(func.max(SigningKey.id))) or 0) + 1
    private_hex, public_hex = _new_key_material()
    session.execute(
        insert(SigningKey).values(id=next_id, private_key=private_hex, public_key=public_hex, created_at=now)
    )
    audit.record(session, actor, "slip_key.rotate", "slip_key", next_id)
    key = session.get(SigningKey, next_id)
    assert key is not None
    return key


@dataclass(frozen=True)
class PublishedKey:
    key_id: int
    public_hex: str
    active: bool
    publish_until: datetime | None  # None: in use, no end yet


def published(session: Session, now: datetime) -> list[PublishedKey]:
    """The keys gates need: the one in use and every retired one whose slips are still valid."""
    active_key(session)
    last_valid = dict(
        session.execute(
            select(ReleaseSlip.key_id, func.max(ReleaseSlip.valid_until)).group_by(ReleaseSlip.key_id)
        ).all()
    )
    out = []
    for key in session.scalars(select(SigningKey).order_by(SigningKey.id)):
        until = last_valid.get(key.id)
        if key.retired_at is None:
            out.append(PublishedKey(key.id, key.public_key, True, None))
        elif until is not None and until >= now:
            out.append(PublishedKey(key.id, key.public_key, False, until))
    return out


def ring(session: Session) -> dict[int, Ed25519PublicKey]:
    """Every key the server has ever signed with, by id (the server can check any slip it issued)."""
    return {key_id: public_key(hex_value) for key_id, hex_value in session.execute(_RING)}


_RING = select(SigningKey.id, SigningKey.public_key)
