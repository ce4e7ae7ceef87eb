"""The figures the console's home page shows for an estate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from server.db.models import Device, Estate, Occupancy, Unit
from server.domain import cabinet, registry


@dataclass(frozen=True)
class Figures:
    units: int
    residents: int  # occupancies on record (a resident in a unit), past ones included
    in_arrears: int  # units owing more than R-REL-5 allows
    devices: int
    cabinet_alerts: int  # in the last day


def figures(session: Session, estate: Estate, now: datetime | None = None) -> Figures:
    def count(model: type[Any], *where: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    return Figures(
        units=count(Unit, Unit.estate_id == estate.id),
        residents=count(Occupancy, Occupancy.estate_id == estate.id),
        in_arrears=count(Unit, Unit.estate_id == estate.id, Unit.arrears_fen > registry.ARREARS_LIMIT_FEN),
        devices=count(Device, Device.estate_id == estate.id),
        cabinet_alerts=cabinet.alerts_since(session, estate.id, now=now),
    )
