"""Staff users, their console sessions and sign-in attempts."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import Boolean, Column, Enum, ForeignKey, String, Table, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.db.base import Base, UTCDateTime, utcnow
from server.db.models.registry import Estate


class Role(enum.StrEnum):
    """Staff roles of the customer-service centre and the departments it works with (DOMAIN.md)."""

    admin = "admin"  # system administrator: staff accounts, devices, every estate
    general_manager = "general_manager"  # 总经理
    cs_manager = "cs_manager"  # 客户服务主管 / 经理
    records_admin = "records_admin"  # 客户管理员
    front_desk = "front_desk"  # 前台 / 接待助理
    security_captain = "security_captain"  # 治安队长
    gate_guard = "gate_guard"  # 门岗安管员
    engineering = "engineering"  # 工程部 / 维修主管
    environment = "environment"  # 环境部
    finance = "finance"  # 财务部


staff_estates = Table(
    "staff_estates",
    Base.metadata,
    Column("user_id", ForeignKey("staff_users.id", ondelete="CASCADE"), primary_key=True),
    Column("estate_id", ForeignKey("estates.id", ondelete="CASCADE"), primary_key=True),
)


class StaffUser(Base):
    __tablename__ = "staff_users"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), unique=True)
    display_name: Mapped[str] = mapped_column(String(60))
    role: Mapped[Role] = mapped_column(Enum(Role, native_enum=False, length=20))
    password_hash: Mapped[str] = mapped_column(String(200))
    all_estates: Mapped[bool] = mapped_column(Boolean, default=False)
    is_active: Mapped[bool] = mapped_column(Boolean, default=True)
    language: Mapped[str] = mapped_column(String(5), default="zh")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    estates: Mapped[list[Estate]] = relationship(secondary=staff_estates, order_by=Estate.id)


class ConsoleSession(Base):
    """A signed-in console session. The cookie holds a random id; only its digest is stored."""

    __tablename__ = "console_sessions"

    id: Mapped[int] = mapped_column(primary_key=True)
    digest: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_users.id", ondelete="CASCADE"), index=True)
    csrf_token: Mapped[str] = mapped_column(String(64))
    estate_id: Mapped[int | None] = mapped_column(ForeignKey("estates.id", ondelete="SET NULL"), nullable=True)
    ip: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)

    user: Mapped[StaffUser] = relationship()


class LoginAttempt(Base):
    """Each console sign-in attempt, kept for throttling repeated failures and for the audit trail."""

    __tablename__ = "login_attempts"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(40), index=True)
    ip: Mapped[str] = mapped_column(String(64), index=True)
    success: Mapped[bool] = mapped_column(Boolean)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class DeviceKind(enum.StrEnum):
    kiosk = "kiosk"
    gate = "gate"
    cabinet = "cabinet"
    printer = "printer"  # a front-desk slip printer, reached by its URL (devices.printing.urls)


class Device(Base):
    """An enrolled kiosk, gate terminal, key cabinet or front-desk printer. A bearer token is stored only as a
    digest; a printer has no token, only the URL the server prints to."""

    __tablename__ = "devices"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    kind: Mapped[DeviceKind] = mapped_column(Enum(DeviceKind, native_enum=False, length=10))
    name: Mapped[str] = mapped_column(String(60))
    location: Mapped[str] = mapped_column(String(100), default="")
    token_digest: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    token_hint: Mapped[str] = mapped_column(String(12), default="")
    token_issued_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_seen_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    # The last contact before the device's latest silence (server.domain.devices.touch).
    contact_lost_at: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)
    last_status: Mapped[str] = mapped_column(Text, default="{}")
    url: Mapped[str] = mapped_column(String(200), default="")  # a printer's address: tcp://10.0.0.5:9100, usb://…

    estate: Mapped[Estate] = relationship()


class ServerSecret(Base):
    """Server-side secrets shared by every worker (e.g. the key for card-number digests)."""

    __tablename__ = "server_secrets"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
