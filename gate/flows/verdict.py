"""A verdict on a scanned code or typed number: the slip to count, or a plain reason to turn it away."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from server.contract.schemas import SlipOut

# Rejection codes the screen explains (server.domain.slips.gate and the offline check give the same codes).
REJECTIONS = (
    "malformed",
    "bad_signature",
    "unknown_key",
    "wrong_estate",
    "expired",
    "revoked",
    "cancelled",
    "refused",
    "already_released",
    "unknown_slip",
    "not_synced",
)


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
    code: str | None = None
    released_at: datetime | None = None
    released_gate: str | None = None

    @property
    def ok(self) -> bool:
        return self.slip is not None
