"""Password and PIN hashing (argon2), random tokens, and keyed digests for values looked up by equality."""

from __future__ import annotations

import functools
import hashlib
import hmac
import secrets

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import ServerSecret

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


@functools.cache
def dummy_hash() -> str:
    """A fixed hash to verify against when a user does not exist, so both cases take the same time. Made on first
    use, not at import: a slow hash would make every program that imports this module start a second later."""
    return _hasher.hash("not-a-real-password")


def new_token(prefix: str = "") -> str:
    return prefix + secrets.token_urlsafe(32)


def token_digest(token: str) -> str:
    """Digest of a high-entropy random token: a plain SHA-256 is enough and allows lookup by equality."""
    return hashlib.sha256(token.encode()).hexdigest()


def server_secret(session: Session, name: str) -> bytes:
    """A random secret kept in the database, created on first use, shared by every server worker."""
    row = session.scalar(select(ServerSecret).where(ServerSecret.name == name))
    if row is None:
        row = ServerSecret(name=name, value=secrets.token_hex(32))
        session.add(row)
        session.flush()
    return bytes.fromhex(row.value)


CARD_DIGEST = "card-digest"  # the secret `keyed_digest` uses


def keyed_digest(session: Session, value: str) -> str:
    """HMAC of a low-entropy identifier (a resident card number): stored hashed, yet found by equality."""
    return digest_with(server_secret(session, CARD_DIGEST), value)


def digest_with(secret: bytes, value: str) -> str:
    """`keyed_digest` with its secret given."""
    return hmac.new(secret, value.strip().encode(), hashlib.sha256).hexdigest()
