"""Staff terminal credentials: a PIN and/or a staff card per member of staff, for signing in at a gate terminal
(门岗安管员 at the start of a shift) and at the key cabinet (any member of staff who takes keys)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UTCDateTime, utcnow
from server.db.models.staff import StaffUser


class GuardCredential(Base):
    """How a member of staff signs in at a device terminal: a gate (guards only) or the key cabinet (any role).
    The table keeps its first name (`guard_credentials`) from when only guards had one.

    Both secrets are salted scrypt hashes (`server.contract.guard_secret`), so a terminal can check them from its
    synced roster while offline. `card_digest` is the server's keyed digest of the card number
    (`server.domain.secrets.keyed_digest`): it lets the server find a card's holder with one look-up instead of a
    slow hash per member of staff, and never leaves the server."""

    __tablename__ = "guard_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    card_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    card_digest: Mapped[str | None] = mapped_column(String(64), nullable=True, index=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[StaffUser] = relationship()
