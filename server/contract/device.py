"""What every device asks of the server about itself: who it is, and a heartbeat with its peripherals' state."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from server.contract.fields import Text


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
    expected_version: str = Field("", description="the software version the server expects devices to run")


PeripheralText = Annotated[Text, Field(min_length=1, max_length=20)]


class Heartbeat(BaseModel):
    """What a device reports about itself every minute or so."""

    model_config = ConfigDict(extra="forbid")

    software: Text = Field(max_length=40)
    peripherals: dict[PeripheralText, PeripheralText] = Field(
        default_factory=dict, max_length=8, description="e.g. {'printer': 'paper_out'}"
    )
