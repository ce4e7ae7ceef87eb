"""What every device asks of the server about itself: who it is, and a heartbeat with its peripherals' state."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class Health(BaseModel):
    status: Literal["ok"]
    database: str
    schema_revision: str | None
    time: datetime


class DeviceInfo(BaseModel):
    id: int
    kind: str
    name: str
    location: str
    estate_code: str
    estate_name: str
    timezone: str


class Heartbeat(BaseModel):
    """What a device reports about itself every minute or so."""

    model_config = ConfigDict(extra="forbid")

    software: str = Field(max_length=40)
    peripherals: dict[str, str] = Field(default_factory=dict, description="e.g. {'printer': 'paper_out'}")
