"""What a gate and the server say about workers' passes (R-REN-6): the check of a scanned pass and an entry or
exit on it. The pass itself is a signed token (`worker_pass`); the server adds what the token cannot carry — the
worker's photo and the renovation's state."""

from __future__ import annotations

from datetime import date, datetime
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from server.contract.fields import Moment, Text


class PassCheckRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=1000, description="the scanned QR text of a worker pass (WP1:…)")


class WorkerPassOut(BaseModel):
    """A pass that may come in now: who, for which unit and renovation, on which days, and the photo to compare."""

    number: str
    unit: str
    worker: str
    company: str
    valid_from: date
    valid_until: date
    renovation: str
    photo: str = Field("", description="the worker's photo as a data URL (JPEG or PNG); empty when none was taken")


class PassMovementRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    text: Text = Field(min_length=1, max_length=1000, description="the scanned QR text of the pass")
    direction: Literal["in", "out"]
    guard: Text = Field(min_length=1, max_length=40)
    at: Moment | None = Field(
        None,
        description="when the gate recorded it while offline (or when its answer was lost): judged at that time, "
        "bounded by the pass's issue and the gate's last contact; absent: checked now",
    )


class PassMovementOut(BaseModel):
    number: str
    direction: Literal["in", "out"]
    at: datetime
    worker: str
