"""What is printed for a service request made at the kiosk: the resident's confirmation (回执) of a repair order
《工程维修单》, a cleaning booking 《家居清洁服务派工单》 or a feedback form 《客户意见处理单》 — its number, what was
asked, when, the price if any, and optionally a QR code the resident scans later at the kiosk to see its state."""

from __future__ import annotations

from dataclasses import dataclass

from escpos.escpos import Escpos

from devices.printing.encode import native_job, raster_job
from devices.printing.errors import SlipContentError
from devices.printing.job import PrintResult, send_job
from devices.printing.layout import Align, Block, Feed, QrBlock, TextLine, qr_module_dots
from devices.printing.profiles import DEFAULT_PROFILE, PrinterProfile, PrintMode, get_profile, with_mode
from devices.printing.status import DEFAULT_TIMEOUT
from devices.printing.textenc import normalize, wrap


@dataclass(frozen=True)
class ServiceReceiptPrint:
    """The printable content of a confirmation: `fields` are (label, value) lines in order, already in the
    estate's words and zone; `qr_text` (ASCII) is printed as a code when given."""

    estate: str
    title: str
    title_en: str
    number: str
    fields: tuple[tuple[str, str], ...]
    qr_text: str = ""
    footer: str = ""

    def validate(self) -> None:
        for label, value in (
            ("物业名称 estate", self.estate),
            ("单号 number", self.number),
            ("标题 title", self.title),
        ):
            if not value.strip():
                raise SlipContentError(f"{label} 为空 / {label.split()[-1]} is empty")
        if self.qr_text and (not self.qr_text.isascii() or not self.qr_text.isprintable()):
            raise SlipContentError("二维码内容须为 ASCII / the QR text must be printable ASCII")


def _wrapped(text: str, columns: int, **style: object) -> list[TextLine]:
    return [TextLine(line, **style) for line in wrap(normalize(text), columns)]  # type: ignore[arg-type]


def layout_receipt(receipt: ServiceReceiptPrint, profile: PrinterProfile) -> list[Block]:
    receipt.validate()
    cols = profile.columns
    rule = TextLine("-" * cols)
    blocks: list[Block] = []
    blocks += _wrapped(receipt.estate, cols, align=Align.CENTER, bold=True)
    blocks += _wrapped(receipt.title, cols // 2, align=Align.CENTER, width_mult=2, height_mult=2, bold=True)
    blocks += _wrapped(receipt.title_en, cols, align=Align.CENTER)
    blocks.append(rule)
    blocks += _wrapped(f"单号 No.: {receipt.number}", cols, height_mult=2, bold=True)
    for label, value in receipt.fields:
        if value.strip():
            blocks += _wrapped(f"{label}: {value.strip()}", cols)
    blocks.append(rule)
    if receipt.qr_text:
        qr = QrBlock(receipt.qr_text, qr_module_dots(receipt.qr_text, profile))
        blocks += [Feed(qr.module * 4), qr, Feed(qr.module * 4)]
        blocks += _wrapped(receipt.number, cols, align=Align.CENTER)
    if receipt.footer.strip():
        blocks += _wrapped(receipt.footer, cols, align=Align.CENTER)
    return blocks


def receipt_bytes(
    receipt: ServiceReceiptPrint, profile: PrinterProfile | str = DEFAULT_PROFILE, mode: PrintMode | str | None = None
) -> bytes:
    prof = with_mode(get_profile(profile) if isinstance(profile, str) else profile, mode)
    blocks = layout_receipt(receipt, prof)
    return raster_job(blocks, prof) if prof.mode is PrintMode.RASTER else native_job(blocks, prof)


def print_receipt(
    printer: str | Escpos,
    receipt: ServiceReceiptPrint,
    profile: PrinterProfile | str = DEFAULT_PROFILE,
    *,
    timeout: float = DEFAULT_TIMEOUT,
) -> PrintResult:
    """Print a confirmation as `print_slip` prints a slip (status before and after, the job sent once)."""
    return send_job(printer, receipt_bytes(receipt, profile), timeout=timeout)
