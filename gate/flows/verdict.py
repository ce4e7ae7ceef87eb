"""A verdict on a scanned code or typed number: the slip to count, or a plain reason to turn it away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from enum import StrEnum

from server.contract.schemas import SlipOut


class Rejection(StrEnum):
    """Rejection codes the screen explains (server.domain.slips.gate and the offline check give the same codes)."""

    MALFORMED = "malformed"
    BAD_SIGNATURE = "bad_signature"
    UNKNOWN_KEY = "unknown_key"
    WRONG_ESTATE = "wrong_estate"
    EXPIRED = "expired"
    REVOKED = "revoked"
    CANCELLED = "cancelled"
    REFUSED = "refused"
    ALREADY_RELEASED = "already_released"
    UNKNOWN_SLIP = "unknown_slip"
    NOT_SYNCED = "not_synced"
    NOT_YET_VALID = "not_yet_valid"  # a worker pass before its first day (R-REN-6)
    SUSPENDED = "suspended"  # a worker pass while the renovation's works are suspended (R-REN-6)
    PASS_WITHDRAWN = "pass_withdrawn"  # a worker pass withdrawn or replaced, as the last sync said (R-REN-6)
    PASS_ENDED = "pass_ended"  # a worker pass whose renovation ended early, as the last sync said (R-REN-6)


def rejection(code: str) -> Rejection | None:
    """The code as a Rejection; None for a code this gate does not know (a newer server's)."""
    try:
        return Rejection(code)
    except ValueError:
        return None


@dataclass(frozen=True)
class ItemLine:
    line: int
    name: str
    quantity: int
    name_en: str = ""  # the catalogue's English name, when the server gave one

    def label(self, language: str) -> str:
        """The name to show: in English the English name with the Chinese one printed on the slip beside it."""
        return f"{self.name_en} · {self.name}" if language == "en" and self.name_en else self.name


@dataclass(frozen=True)
class SlipView:
    """What the guard checks: the number, unit, applicant, validity and every item line with its quantity."""

    number: str
    unit: str
    valid_until: datetime
    lines: tuple[ItemLine, ...]
    text: str  # what to send back with the release: the scanned token or the typed number
    applicant: str = ""  # as printed on the slip; the token alone does not carry it

    @classmethod
    def from_out(cls, slip: SlipOut, text: str) -> SlipView:
        return cls(
            slip.number,
            slip.unit,
            slip.valid_until,
            tuple(ItemLine(i.line, i.name, i.quantity, i.name_en) for i in slip.items),
            text,
            slip.applicant,
        )


@dataclass(frozen=True)
class Verdict:
    """`slip` when it may pass (count it); else `code` with, for already_released, when and at which gate."""

    text: str
    online: bool
    slip: SlipView | None = None
    code: str | None = None  # a Rejection, or a code a newer server gave
    released_at: datetime | None = None
    released_gate: str | None = None
    since: datetime | None = None  # a worker pass: the time from which it is not valid
    note: str = ""  # a worker pass: why (the suspension's reason)

    @property
    def ok(self) -> bool:
        return self.slip is not None


@dataclass(frozen=True)
class PassView:
    """A renovation worker's pass the guard checks against the person (R-REN-6): name, photo, company, unit and
    the days it is valid. The photo (a data URL) comes from the server; offline there is none."""

    number: str
    unit: str
    worker: str
    company: str
    valid_from: date
    valid_until: date
    text: str  # the scanned token, sent back with the entry or exit
    photo: str = ""
    renovation: str = ""


@dataclass(frozen=True)
class PassVerdict:
    """`pass_` when the worker may come in or go out; else `code` (a Rejection)."""

    text: str
    online: bool
    pass_: PassView | None = None
    code: str | None = None
    since: datetime | None = None  # refused by the synced list: the time from which the pass is not valid
    note: str = ""  # and why (the suspension's reason)


@dataclass(frozen=True)
class PassLogged:
    """An entry or exit as recorded: `queued` when it waits in the outbox for the server."""

    number: str
    worker: str
    direction: str  # in | out
    at: datetime
    queued: bool
