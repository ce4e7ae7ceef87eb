"""The slip laid out as lines and a QR code for one profile; native and raster output both draw this."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from devices.printing.errors import SlipContentError
from devices.printing.profiles import PrinterProfile
from devices.printing.qrmatrix import qr_modules
from devices.printing.slip import ReleaseSlipPrint
from devices.printing.textenc import normalize, pad_between, wrap

MIN_QR_MODULE_DOTS = 4


class Align(StrEnum):
    LEFT = "left"
    CENTER = "center"
    RIGHT = "right"


@dataclass(frozen=True)
class TextLine:
    text: str  # normalized: every character printable as ASCII, a 2-byte GB code, or drawn
    align: Align = Align.LEFT
    width_mult: int = 1
    height_mult: int = 1
    bold: bool = False
    right: str = ""  # printed flush right on the same line (quantities), after `text`

    def full_text(self, columns: int) -> str:
        """The line as read on paper, with the blank columns between `text` and `right` as spaces."""
        if not self.right:
            return self.text
        return pad_between(self.text, self.right, columns // self.width_mult)


@dataclass(frozen=True)
class QrBlock:
    data: str
    module: int  # dots per module


@dataclass(frozen=True)
class Feed:
    dots: int


Block = TextLine | QrBlock | Feed


def _wrapped(
    text: str,
    columns: int,
    *,
    align: Align = Align.LEFT,
    width_mult: int = 1,
    height_mult: int = 1,
    bold: bool = False,
) -> list[TextLine]:
    return [TextLine(line, align, width_mult, height_mult, bold) for line in wrap(normalize(text), columns)]


def _field(label: str, value: str, columns: int) -> list[TextLine]:
    return _wrapped(f"{label}: {value}", columns)


def layout_slip(slip: ReleaseSlipPrint, profile: PrinterProfile) -> list[Block]:
    """The slip as blocks, every text line fitting `profile.columns` (enlarged lines count double)."""
    slip.validate()
    cols = profile.columns
    rule = TextLine("-" * cols)
    blocks: list[Block] = []
    blocks += _wrapped(slip.estate, cols, align=Align.CENTER, bold=True)
    blocks += _wrapped(slip.title, cols // 2, align=Align.CENTER, width_mult=2, height_mult=2, bold=True)
    blocks += _wrapped(slip.title_en, cols, align=Align.CENTER)
    blocks += _wrapped(slip.copy_label, cols, align=Align.CENTER)
    blocks.append(rule)
    blocks += _wrapped(f"单号 No.: {slip.slip_number}", cols, height_mult=2, bold=True)
    blocks += _field("房号 Unit", slip.unit, cols)
    blocks += _field("申请人 Applicant", f"{slip.applicant}（{slip.applicant_kind.label}）", cols)
    blocks += _field("签发 Issued", slip.local(slip.issued_at), cols)
    blocks += _field("有效至 Valid until", slip.local(slip.valid_until), cols)
    for key, value in slip.extra.items():
        blocks += _field(key, value, cols)
    blocks.append(rule)
    blocks.append(TextLine("物品 Items", bold=True, right="数量 Qty"))
    blocks += _item_lines(slip, cols)
    blocks.append(rule)
    if slip.notes.strip():
        blocks += _field("备注 Notes", slip.notes.strip(), cols)
    qr = QrBlock(slip.qr_token, qr_module_dots(slip.qr_token, profile))
    blocks.append(Feed(qr.module * 4))  # quiet zone above the code
    blocks.append(qr)
    blocks.append(Feed(qr.module * 4))  # and below
    blocks += _wrapped(slip.slip_number, cols, align=Align.CENTER)
    blocks += _wrapped("出门时请出示本条 Show this slip at the gate", cols, align=Align.CENTER)
    return blocks


def qr_module_dots(token: str, profile: PrinterProfile) -> int:
    """The largest module (dots) at which the token's code fits the paper, at most the profile's largest.

    One module of margin each side stays inside the printable width; with the paper's unprinted edges
    (about 4 mm) that makes the 4-module quiet zone. Raises SlipContentError when the code would need modules
    smaller than MIN_QR_MODULE_DOTS, which a gate camera cannot resolve.
    """
    modules = qr_modules(token)
    module = min(profile.qr_module, profile.dots // (modules + 2))
    if module < MIN_QR_MODULE_DOTS:
        raise SlipContentError(
            f"二维码超出纸宽 / the QR code ({modules} modules) is too wide for the {profile.dots}-dot paper at "
            f"{MIN_QR_MODULE_DOTS} dots a module; shorten the token"
        )
    return module


def _item_lines(slip: ReleaseSlipPrint, cols: int) -> list[TextLine]:
    lines: list[TextLine] = []
    number_width = len(f"{len(slip.items)}. ")
    for index, item in enumerate(slip.items, start=1):
        prefix = f"{index}. ".ljust(number_width)
        qty = f"x{item.quantity}"
        name_cols = cols - number_width - len(qty) - 1
        parts = wrap(normalize(item.name.strip()), name_cols)
        lines.append(TextLine(prefix + parts[0], right=qty))
        lines += [TextLine(" " * number_width + part) for part in parts[1:]]
    return lines
