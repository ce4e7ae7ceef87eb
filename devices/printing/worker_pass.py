"""What is printed for a renovation worker: the temporary pass 《装修工人临时出入证》 with its signed QR code, laid out
with the same blocks, QR sizing and encoders as a release slip, and sent to the printer by the same job."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from devices.printing.encode import native_job, raster_job
from devices.printing.errors import SlipContentError
from devices.printing.layout import Align, Block, Feed, QrBlock, TextLine, _field, _wrapped, qr_module_dots
from devices.printing.profiles import DEFAULT_PROFILE, PrinterProfile, PrintMode, get_profile, with_mode


@dataclass(frozen=True)
class WorkerPassPrint:
    estate: str
    number: str
    unit: str
    worker: str
    company: str
    valid_from: date
    valid_until: date
    qr_token: str
    renovation: str = ""
    title: str = "装修工人临时出入证"
    title_en: str = "Renovation worker's pass"

    def validate(self) -> None:
        for label, value in (("单号 number", self.number), ("房号 unit", self.unit), ("姓名 worker", self.worker)):
            if not value.strip():
                raise SlipContentError(f"{label} 为空 / {label.split()[-1]} is empty")
        if not self.qr_token or not self.qr_token.isascii() or not self.qr_token.isprintable():
            raise SlipContentError("二维码内容须为 ASCII / the QR token must be printable ASCII")
        if self.valid_until < self.valid_from:
            raise SlipContentError("有效期无效 / the pass ends before it starts")


def layout_pass(item: WorkerPassPrint, profile: PrinterProfile) -> list[Block]:
    item.validate()
    cols = profile.columns
    rule = TextLine("-" * cols)
    blocks: list[Block] = []
    blocks += _wrapped(item.estate, cols, align=Align.CENTER, bold=True)
    blocks += _wrapped(item.title, cols // 2, align=Align.CENTER, width_mult=2, height_mult=2, bold=True)
    blocks += _wrapped(item.title_en, cols, align=Align.CENTER)
    blocks.append(rule)
    blocks += _wrapped(f"姓名 Name: {item.worker}", cols // 2, width_mult=2, height_mult=2, bold=True)
    blocks += _field("单位 Company", item.company or "—", cols)
    blocks += _field("房号 Unit", item.unit, cols)
    blocks += _field("装修单号 Renovation", item.renovation or "—", cols)
    blocks += _field("有效期 Valid", f"{item.valid_from:%Y-%m-%d} — {item.valid_until:%Y-%m-%d}", cols)
    blocks.append(rule)
    qr = QrBlock(item.qr_token, qr_module_dots(item.qr_token, profile))
    blocks.append(Feed(qr.module * 4))
    blocks.append(qr)
    blocks.append(Feed(qr.module * 4))
    blocks += _wrapped(item.number, cols, align=Align.CENTER)
    blocks += _wrapped("进出门岗请出示本证 Show this pass at the gate", cols, align=Align.CENTER)
    return blocks


def pass_bytes(
    item: WorkerPassPrint, profile: PrinterProfile | str = DEFAULT_PROFILE, mode: PrintMode | str | None = None
) -> bytes:
    """The complete print job for a pass. Raises SlipContentError on bad input."""
    prof = with_mode(get_profile(profile) if isinstance(profile, str) else profile, mode)
    blocks = layout_pass(item, prof)
    return raster_job(blocks, prof) if prof.mode is PrintMode.RASTER else native_job(blocks, prof)
