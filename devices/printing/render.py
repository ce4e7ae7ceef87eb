"""Blocks drawn as the paper shows them: used for raster slips and for lines the Chinese font cannot print.

The virtual printer draws received text with the same cells and line pitch, so a raster slip and a native
slip of the same content come out alike.
"""

from __future__ import annotations

from PIL import Image

from devices.printing.fonts import draw_text
from devices.printing.layout import Align, Block, Feed, QrBlock, TextLine
from devices.printing.profiles import CELL_HEIGHT, CELL_WIDTH, PrinterProfile
from devices.printing.qrmatrix import QR_EC, qr_matrix
from devices.printing.textenc import text_width

LINE_GAP = 6  # dots of paper between text lines (the printer's line spacing minus the character height)


def line_height(height_mult: int) -> int:
    return CELL_HEIGHT * height_mult + LINE_GAP


def aligned_x(content_width: int, paper_width: int, align: Align | str) -> int:
    if align == Align.CENTER:
        return max(0, (paper_width - content_width) // 2)
    if align == Align.RIGHT:
        return max(0, paper_width - content_width)
    return 0


def render_line(line: TextLine, profile: PrinterProfile) -> Image.Image:
    """One text line across the full paper width, including the gap below it."""
    canvas = Image.new("1", (profile.dots, line_height(line.height_mult)), 1)
    run = draw_text(line.text, width_mult=line.width_mult, height_mult=line.height_mult, bold=line.bold)
    width = text_width(line.text) * CELL_WIDTH * line.width_mult if line.text else 0
    canvas.paste(run.crop((0, 0, max(width, 1), run.height)), (aligned_x(width, profile.dots, line.align), 0))
    if line.right:
        right = draw_text(line.right, width_mult=line.width_mult, height_mult=line.height_mult, bold=line.bold)
        canvas.paste(right, (right_x(line, profile), 0))
    return canvas


def right_x(line: TextLine, profile: PrinterProfile) -> int:
    """Where the flush-right part of a line starts, in dots (on the column grid, as ESC $ places it)."""
    cell = CELL_WIDTH * line.width_mult
    return (profile.columns // line.width_mult - text_width(line.right)) * cell


def render_qr(
    data: str, module: int, paper_width: int, align: Align | str = Align.CENTER, ec: str = QR_EC
) -> Image.Image:
    """The QR code across the paper width at `module` dots per module."""
    matrix = qr_matrix(data, ec)
    size = len(matrix) * module
    canvas = Image.new("1", (paper_width, size), 1)
    x0 = aligned_x(size, paper_width, align)
    for r, row in enumerate(matrix):
        for c, dark in enumerate(row):
            if dark:
                canvas.paste(0, (x0 + c * module, r * module, x0 + (c + 1) * module, (r + 1) * module))
    return canvas


def render_blocks(blocks: list[Block], profile: PrinterProfile) -> Image.Image:
    """The whole slip as one 1-bit image, `profile.dots` wide."""
    parts: list[Image.Image] = []
    for block in blocks:
        if isinstance(block, TextLine):
            parts.append(render_line(block, profile))
        elif isinstance(block, QrBlock):
            parts.append(render_qr(block.data, block.module, profile.dots))
        elif isinstance(block, Feed):
            parts.append(Image.new("1", (profile.dots, block.dots), 1))
    height = sum(p.height for p in parts)
    slip = Image.new("1", (profile.dots, height), 1)
    y = 0
    for part in parts:
        slip.paste(part, (0, y))
        y += part.height
    return slip
