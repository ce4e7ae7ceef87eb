"""Meter readings (水电表底度): read at the takeover and at the move-in (R-MOVE), kept per unit in thousandths; a
reading lower than the unit's previous one of the same meter is refused (a meter does not run back)."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal, InvalidOperation

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Unit
from server.db.models.lifecycle import Meter, MeterReading
from server.domain.actors import Actor
from server.domain.errors import DomainError

NAMES = {Meter.water: ("水表", "the water meter"), Meter.electricity: ("电表", "the electricity meter")}
MAX_MILLI = 2_000_000_000  # 2 million m³ or kWh: past any household meter's dial


def parse(meter: Meter, text: str) -> int:
    """A reading typed as a decimal (up to three places) in thousandths; a clear error otherwise."""
    zh, en = NAMES[meter]
    try:
        value = Decimal(text.strip())
        if not value.is_finite() or value < 0 or value.as_tuple().exponent < -3:  # type: ignore[operator]
            raise InvalidOperation
        milli = int(value * 1000)
    except (InvalidOperation, ValueError):
        raise DomainError(
            f"{zh}读数不对：{text!r}（数字，最多三位小数）",
            f"{en} reading is not a number with at most three decimals: {text!r}",
            code="bad_reading",
            field=meter.value,
        ) from None
    if milli > MAX_MILLI:
        raise DomainError(f"{zh}读数过大", f"{en} reading is too large", code="bad_reading", field=meter.value)
    return milli


def text(milli: int | None) -> str:
    if milli is None:
        return ""
    return f"{Decimal(milli) / 1000:.3f}".rstrip("0").rstrip(".") if milli % 1000 else str(milli // 1000)


def previous(session: Session, unit: Unit, meter: Meter) -> MeterReading | None:
    return session.scalars(
        select(MeterReading)
        .where(MeterReading.unit_id == unit.id, MeterReading.meter == meter)
        .order_by(MeterReading.read_at.desc(), MeterReading.id.desc())
        .limit(1)
    ).first()


def check(session: Session, unit: Unit, meter: Meter, milli: int) -> None:
    """R-MOVE: a reading is never lower than the unit's previous reading of that meter."""
    before = previous(session, unit, meter)
    if before is not None and milli < before.reading_milli:
        zh, en = NAMES[meter]
        raise DomainError(
            f"{zh}读数 {text(milli)} 低于上次读数 {text(before.reading_milli)}，请核对",
            f"{en} reads {text(milli)}, lower than its previous reading {text(before.reading_milli)}: check it",
            code="reading_went_back",
            field=meter.value,
        )


def record(
    session: Session, actor: Actor, unit: Unit, meter: Meter, milli: int, *, source: str, at: datetime
) -> MeterReading:
    reading = MeterReading(
        estate_id=unit.estate_id,
        unit_id=unit.id,
        meter=meter,
        reading_milli=milli,
        source=source,
        read_at=at,
        recorded_by=actor.label,
    )
    session.add(reading)
    return reading
