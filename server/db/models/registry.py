"""The estate registry: estates, buildings, units, persons, occupancies, arrears, resident credentials."""

from __future__ import annotations

import enum
from datetime import date, datetime

from sqlalchemy import Date, Enum, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from server.contract.zones import DEFAULT_ZONE
from server.db.base import Base, UTCDateTime, utcnow


class Estate(Base):
    """An estate (小区) the company manages; every record belongs to one."""

    __tablename__ = "estates"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(8), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    name_en: Mapped[str] = mapped_column(String(100), default="")
    timezone: Mapped[str] = mapped_column(String(64), default=DEFAULT_ZONE)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Building(Base):
    __tablename__ = "buildings"
    __table_args__ = (UniqueConstraint("estate_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    number: Mapped[str] = mapped_column(String(8))
    name: Mapped[str] = mapped_column(String(100), default="")
    floors: Mapped[int] = mapped_column(Integer, default=0)


class Unit(Base):
    """A dwelling, coded `building-floorLetter` as on the office's sheets (5-8B: building 5, floor 8, unit B)."""

    __tablename__ = "units"
    __table_args__ = (UniqueConstraint("estate_id", "code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    building_id: Mapped[int] = mapped_column(ForeignKey("buildings.id", ondelete="CASCADE"), index=True)
    code: Mapped[str] = mapped_column(String(16))
    floor: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(4))
    arrears_fen: Mapped[int] = mapped_column(Integer, default=0)

    building: Mapped[Building] = relationship()
    occupancies: Mapped[list[Occupancy]] = relationship(back_populates="unit", order_by="Occupancy.starts_on")


class ArrearsChange(Base):
    """History of a unit's arrears balance as finance sets it (R-REL-5 reads the current balance)."""

    __tablename__ = "arrears_changes"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"), index=True)
    previous_fen: Mapped[int] = mapped_column(Integer)
    balance_fen: Mapped[int] = mapped_column(Integer)
    note: Mapped[str] = mapped_column(String(200), default="")
    changed_by_id: Mapped[int | None] = mapped_column(ForeignKey("staff_users.id"), nullable=True)
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Person(Base):
    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(60), index=True)
    phone: Mapped[str] = mapped_column(String(20), default="", index=True)
    id_tail: Mapped[str] = mapped_column(String(4), default="")
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    occupancies: Mapped[list[Occupancy]] = relationship(back_populates="person")


class OccupancyKind(enum.StrEnum):
    owner = "owner"
    tenant = "tenant"
    family = "family"


class Occupancy(Base):
    """Who lives in or owns a unit, from when to when (open-ended while current)."""

    __tablename__ = "occupancies"
    __table_args__ = (Index("ix_occupancies_unit_person", "unit_id", "person_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    unit_id: Mapped[int] = mapped_column(ForeignKey("units.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    kind: Mapped[OccupancyKind] = mapped_column(Enum(OccupancyKind, native_enum=False, length=10))
    starts_on: Mapped[date] = mapped_column(Date)
    ends_on: Mapped[date | None] = mapped_column(Date, nullable=True)

    unit: Mapped[Unit] = relationship(back_populates="occupancies")
    person: Mapped[Person] = relationship(back_populates="occupancies")

    def current_on(self, day: date) -> bool:
        return self.starts_on <= day and (self.ends_on is None or day <= self.ends_on)


class ResidentCredential(Base):
    """A resident's kiosk credentials: card number as a keyed digest (so it can be looked up), PIN as argon2."""

    __tablename__ = "resident_credentials"

    id: Mapped[int] = mapped_column(primary_key=True)
    estate_id: Mapped[int] = mapped_column(ForeignKey("estates.id", ondelete="CASCADE"), index=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), unique=True)
    card_digest: Mapped[str | None] = mapped_column(String(64), unique=True, nullable=True)
    pin_hash: Mapped[str | None] = mapped_column(String(200), nullable=True)
    failed_pins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime, nullable=True)

    person: Mapped[Person] = relationship()
