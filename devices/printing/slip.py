"""What is printed: the resident's copy (客户联) of an item release slip (物品放行条, R-REL-4)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from zoneinfo import ZoneInfo

from devices.printing.errors import SlipContentError

MAX_QUANTITY = 9999


class ApplicantKind(StrEnum):
    """Who applied (R-REL-3, R-REL-5): the label printed beside the applicant's name."""

    OWNER = "owner"
    TENANT = "tenant"
    PROXY = "proxy"

    @property
    def label(self) -> str:
        return {"owner": "业主 Owner", "tenant": "租户 Tenant", "proxy": "代办人 Proxy"}[self.value]


@dataclass(frozen=True)
class SlipItem:
    """One item line: what leaves the estate and how many (R-REL-2)."""

    name: str
    quantity: int


@dataclass(frozen=True)
class ReleaseSlipPrint:
    """The printable content of a release slip; times are shown in `timezone` (the estate's zone)."""

    estate: str
    slip_number: str
    unit: str
    applicant: str
    applicant_kind: ApplicantKind
    issued_at: datetime
    valid_until: datetime
    items: tuple[SlipItem, ...]
    qr_token: str
    notes: str = ""
    title: str = "物品放行条"
    title_en: str = "Item release slip"
    copy_label: str = "客户联 Customer copy"
    timezone: str = "Asia/Shanghai"
    extra: dict[str, str] = field(default_factory=dict)

    def local(self, moment: datetime) -> str:
        """A time as the estate reads it; a naive time is taken as already in the estate's zone."""
        zone = ZoneInfo(self.timezone)
        shown = moment.astimezone(zone) if moment.tzinfo else moment
        return shown.strftime("%Y-%m-%d %H:%M")

    def validate(self) -> None:
        """Raise SlipContentError for a slip that must not be printed; return quietly otherwise."""
        for label, value in (
            ("物业名称 estate", self.estate),
            ("单号 slip number", self.slip_number),
            ("房号 unit", self.unit),
            ("申请人 applicant", self.applicant),
        ):
            if not value.strip():
                raise SlipContentError(f"{label} 为空 / {label.split()[-1]} is empty")
        if not self.items:
            # R-REL-2: a slip names every item; one with none would let anything through the gate.
            raise SlipContentError("放行条没有物品 / the slip has no item lines; add at least one item")
        for item in self.items:
            if not item.name.strip():
                raise SlipContentError("物品名称为空 / an item line has an empty name")
            if not 1 <= item.quantity <= MAX_QUANTITY:
                raise SlipContentError(
                    f"物品数量无效 / quantity of {item.name!r} must be 1-{MAX_QUANTITY}, got {item.quantity}"
                )
        token = self.qr_token
        if not token:
            raise SlipContentError("二维码内容为空 / the QR token is empty")
        if not token.isascii() or not token.isprintable():
            raise SlipContentError("二维码内容须为 ASCII / the QR token must be printable ASCII (gate decoders)")
        if (self.issued_at.tzinfo is None) != (self.valid_until.tzinfo is None):
            raise SlipContentError("issued_at and valid_until must both be aware or both naive")
        if self.valid_until <= self.issued_at:
            raise SlipContentError("有效期早于签发时间 / valid_until must be after issued_at")
