"""Bodies of the key cabinet's event upload (`POST /api/v1/cabinet/events`)."""

from __future__ import annotations

from datetime import datetime

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


# --- staff at the cabinet, and the unlocks the server authorises (R-KEY-5, R-KEY-12)
#
# The loop: a staff member signs in at the cabinet (card through a keyboard wedge, or username and PIN; offline
# against the roster below, as the gate does). The agent then opens the slots the server has authorised for that
# person: loans registered in the console for them, fetched from `GET /cabinet/unlocks`, or a loan they ask for at
# the cabinet itself (`POST /cabinet/loans`). Each unlock carries a request id the server chose; the agent sends at
# most one unlock frame per request id, ever (its ledger survives restarts). The cabinet's events close the loop:
# `door_opened` with that request id is a commanded opening (never a tamper alert), `key_removed` puts the loan out,
# `key_returned` into the key's home slot ends it, into any other slot raises a wrong-slot alarm naming the right one.


class CabinetStaffEntry(BaseModel):
    """One member of staff who may sign in at the cabinet, with the salted scrypt hashes of their PIN and card
    (`server.contract.guard_secret`), so the cabinet can sign them in while the network is down."""

    id: int
    username: str
    display_name: str
    role: str
    pin_hash: str | None = None
    card_hash: str | None = None


class CabinetRosterOut(BaseModel):
    """`GET /cabinet/roster` (ETag): the estate's active staff who have a card or PIN."""

    estate: str
    staff: list[CabinetStaffEntry]


class CabinetSignIn(BaseModel):
    """`POST /cabinet/sign-in`: a staff card number as the wedge typed it, or a username with a PIN."""

    model_config = ConfigDict(extra="forbid")

    card: Text | None = Field(None, min_length=4, max_length=40)
    username: Text | None = Field(None, min_length=1, max_length=40)
    pin: Text | None = Field(None, pattern=r"^[0-9]{6,8}$")


class CabinetStaffOut(BaseModel):
    id: int
    username: str
    display_name: str
    role: str


class CabinetUnlock(BaseModel):
    """One unlock the server authorised: open `board`-`slot` for the loan of `key_label`, at most once, for a
    member of staff listed in `staff_ids` who is signed in at the cabinet, before `expires_at`."""

    request_id: str = Field(max_length=80)
    board: int = Field(ge=0, le=255)
    slot: int = Field(ge=1, le=255)
    loan_id: int
    key_label: str
    staff_ids: list[int]
    expires_at: datetime


class CabinetUnlocksOut(BaseModel):
    """`GET /cabinet/unlocks` (ETag): the unlocks waiting for someone to sign in at this cabinet."""

    unlocks: list[CabinetUnlock]


class CabinetLoanIn(BaseModel):
    """`POST /cabinet/loans` (Idempotency-Key): a member of staff signed in at the cabinet borrows a key for
    themselves. `key` is the key's label or tag; `purpose` one of the register's purposes (R-KEY-5)."""

    model_config = ConfigDict(extra="forbid")

    staff_id: int
    key: Text = Field(min_length=1, max_length=60)
    purpose: Text = Field(min_length=1, max_length=40)
    due_at: Moment | None = None
    note: Text = Field("", max_length=200)


class CabinetLoanOut(BaseModel):
    """The loan registered, and the one unlock that lets its key out."""

    loan_id: int
    state: str
    due_at: datetime | None
    unlock: CabinetUnlock
