"""A slip as ESC/POS bytes, in native mode (printer's Chinese font, GS ( k QR) or raster mode (GS v 0 images)."""

from __future__ import annotations

from devices.printing import commands as cmd
from devices.printing.layout import Block, Feed, QrBlock, TextLine, layout_slip
from devices.printing.profiles import CELL_WIDTH, DEFAULT_PROFILE, PrinterProfile, PrintMode, get_profile, with_mode
from devices.printing.qrmatrix import QR_EC
from devices.printing.render import render_blocks, render_line, right_x
from devices.printing.slip import ReleaseSlipPrint
from devices.printing.textenc import encodable, encode_line, text_width

TAIL_FEED_DOTS = 48  # paper between the last line and the cutter's edge


def slip_bytes(
    slip: ReleaseSlipPrint,
    profile: PrinterProfile | str = DEFAULT_PROFILE,
    mode: PrintMode | str | None = None,
) -> bytes:
    """The complete print job for `slip`: initialise, content, feed, cut. Raises SlipContentError on bad input."""
    prof = with_mode(get_profile(profile) if isinstance(profile, str) else profile, mode)
    blocks = layout_slip(slip, prof)
    if prof.mode is PrintMode.RASTER:
        return raster_job(blocks, prof)
    return native_job(blocks, prof)


def raster_job(blocks: list[Block], profile: PrinterProfile) -> bytes:
    image = render_blocks(blocks, profile)
    return cmd.INIT + cmd.raster_image(image, profile.dots) + cmd.feed_dots(TAIL_FEED_DOTS) + cmd.FEED_AND_CUT


class _NativeWriter:
    """Emits style commands only when the style changes, to keep slow serial lines short."""

    def __init__(self, profile: PrinterProfile) -> None:
        self.profile = profile
        self.out = bytearray(cmd.INIT + cmd.CHINESE_ON)
        self.align = "left"
        self.size = (1, 1)
        self.bold = False

    def style(self, align: str, size: tuple[int, int], bold: bool) -> None:
        if align != self.align:
            self.out += cmd.align(align)
            self.align = align
        if size != self.size:
            self.out += cmd.char_size(*size)
            self.size = size
        if bold != self.bold:
            self.out += cmd.bold(bold)
            self.bold = bold

    def text_line(self, line: TextLine) -> None:
        if not all(encodable(ch) for ch in line.text + line.right):
            # A character with no 2-byte code: the whole line is drawn and sent as a small image, never as "?".
            self.style("left", self.size, self.bold)
            self.out += cmd.raster_image(render_line(line, self.profile), self.profile.dots)
            return
        self.style(line.align, (line.width_mult, line.height_mult), line.bold)
        self.out += encode_line(line.text)
        if line.right:
            x = right_x(line, self.profile)
            cell = CELL_WIDTH * line.width_mult
            self.out += cmd.position(max(x, text_width(line.text) * cell)) + encode_line(line.right)
        self.out += cmd.LF

    def qr(self, block: QrBlock) -> None:
        self.style("center", self.size, self.bold)
        self.out += cmd.qr_native(block.data.encode("ascii"), block.module, QR_EC)

    def feed(self, block: Feed) -> None:
        self.out += cmd.feed_dots(block.dots)

    def finish(self) -> bytes:
        self.style("left", (1, 1), False)
        self.out += cmd.CHINESE_OFF + cmd.feed_dots(TAIL_FEED_DOTS) + cmd.FEED_AND_CUT
        return bytes(self.out)


def native_job(blocks: list[Block], profile: PrinterProfile) -> bytes:
    writer = _NativeWriter(profile)
    for block in blocks:
        if isinstance(block, TextLine):
            writer.text_line(block)
        elif isinstance(block, QrBlock):
            writer.qr(block)
        else:
            writer.feed(block)
    return writer.finish()
