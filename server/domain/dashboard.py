"""The figures the console's home page shows for an estate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import Device, Estate, KeyAlarm, Occupancy, Unit
from server.domain import cabinet, registry
from server.domain.keys import loans


@dataclass(frozen=True)
class Figures:
    units: int
    residents: int  # occupancies on record (a resident in a unit), past ones included
    in_arrears: int  # units owing more than R-REL-5 allows
    devices: int
    cabinet_alerts: int  # in the last day
    keys_overdue: int = 0  # loans out past their due time that nobody has acknowledged (R-KEY-12)
    key_alarms: int = 0  # open key alarms: a key in the wrong slot, taken without a loan, an unknown tag


def figures(session: Session, estate: Estate, now: datetime | None = None) -> Figures:
    def count(model: type[Any], *where: ColumnElement[bool]) -> int:
        return session.scalar(select(func.count()).select_from(model).where(*where)) or 0

    now = now or utcnow()
    return Figures(
        units=count(Unit, Unit.estate_id == estate.id),
        residents=count(Occupancy, Occupancy.estate_id == estate.id),
        in_arrears=count(Unit, Unit.estate_id == estate.id, Unit.arrears_fen > registry.ARREARS_LIMIT_FEN),
        devices=count(Device, Device.estate_id == estate.id),
        cabinet_alerts=cabinet.alerts_since(session, estate.id, now=now),
        keys_overdue=len(loans.overdue_alerts(session, estate, now)),
        key_alarms=count(KeyAlarm, KeyAlarm.estate_id == estate.id, KeyAlarm.cleared_at.is_(None)),
    )
