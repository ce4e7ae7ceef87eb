"""Bodies of the key cabinet's event upload (`POST /api/v1/cabinet/events`)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

from server.contract.fields import Moment, Text

# Events a person at the centre must look at (R-KEY: keys are lent only through the register).
ALERTS = frozenset(
    {
        "door_opened_without_command",
        "door_held_open",
        "door_not_opened",
        "board_offline",
        "key_returned_to_wrong_slot",
        "unknown_tag",
    }
)


class CabinetEventIn(BaseModel):
    """One thing the cabinet saw, when it saw it."""

    model_config = ConfigDict(extra="forbid")

    event: Text = Field(pattern=r"^[a-z_]{3,40}$", examples=["door_opened_without_command"])
    board: int = Field(ge=0, le=255)
    slot: int | None = Field(None, ge=1, le=255)
    at: Moment
    request_id: Text | None = Field(None, max_length=80)
    tag: Text | None = Field(None, max_length=40, description="the key tag read, as hex")
    reason: Text | None = Field(None, max_length=200)


class CabinetEventsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    events: list[CabinetEventIn] = Field(min_length=1, max_length=200)


class CabinetEventsOut(BaseModel):
    recorded: int
    alerts: int
