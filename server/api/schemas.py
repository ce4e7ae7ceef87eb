"""Request and response bodies of the device API."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


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


class IdentifyRequest(BaseModel):
    """A resident identifies at the kiosk by card, or by unit and PIN."""

    model_config = ConfigDict(extra="forbid")

    card: str | None = Field(None, min_length=1, max_length=40)
    unit: str | None = Field(None, min_length=3, max_length=16)
    pin: str | None = Field(None, min_length=4, max_length=8)

    @model_validator(mode="after")
    def _one_way(self) -> IdentifyRequest:
        if self.card is None and (self.unit is None or self.pin is None):
            raise ValueError("give either card, or unit and pin")
        if self.card is not None and (self.unit is not None or self.pin is not None):
            raise ValueError("give either card, or unit and pin, not both")
        return self


class ResidentUnit(BaseModel):
    unit: str
    kind: str


class IdentifiedResident(BaseModel):
    person_id: int
    display_name: str = Field(description="Masked for the kiosk screen, e.g. 张*明")
    units: list[ResidentUnit]
