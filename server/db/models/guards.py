"""Gate guards' sign-in credentials: a PIN and/or a staff card per guard (门岗安管员)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UTCDateTime, utcnow
from server.db.models.staff import StaffUser


class GuardCredential(Base):
    """How a guard signs in at a gate terminal at the start of a shift. Both secrets are salted scrypt hashes
    (`server.contract.guard_secret`), so an offline gate can check them from its synced roster."""

    __tablename__ = "guard_credentials"

    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    card_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    user: Mapped[StaffUser] = relationship()
