"""The CJK font and the character-cell renderer shared by raster slips, drawn fallback characters and the
virtual printer, so that all three put the same dots on paper."""

from __future__ import annotations

import os
import shutil
import subprocess
from functools import lru_cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from devices.printing.errors import FontNotFound
from devices.printing.profiles import CELL_HEIGHT, CELL_WIDTH
from devices.printing.textenc import char_width

FONT_ENV = "ESTATE_CJK_FONT"
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/noto-cjk/NotoSansCJK-Regular.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
    "/System/Library/Fonts/PingFang.ttc",
    "C:/Windows/Fonts/msyh.ttc",
)
GLYPH_SIZE = 20  # pixels: ascent + descent of the CJK font fill the 24-dot cell exactly


@lru_cache(maxsize=4)
def find_cjk_font(configured: str | None = None) -> Path:
    """The font file to draw Chinese with: `configured`, then $ESTATE_CJK_FONT, known paths, then fontconfig."""
    for candidate in (configured, os.environ.get(FONT_ENV)):
        if candidate:
            path = Path(candidate)
            if not path.is_file():
                raise FontNotFound(f"找不到字体 / font file not found: {path}")
            return path
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return Path(candidate)
    if shutil.which("fc-list"):
        out = subprocess.run(["fc-list", ":lang=zh", "file"], capture_output=True, text=True, check=False).stdout
        files = sorted(line.split(":")[0].strip() for line in out.splitlines() if line.strip())
        if files:
            return Path(files[0])
    raise FontNotFound(f"没有中文字体 / no CJK font found; install fonts-wqy-microhei or set ${FONT_ENV}")


@lru_cache(maxsize=4)
def _font(path: Path) -> ImageFont.FreeTypeFont:
    return ImageFont.truetype(str(path), GLYPH_SIZE)


@lru_cache(maxsize=8192)
def glyph(ch: str, bold: bool = False, font_path: Path | None = None) -> Image.Image:
    """One character drawn in its cell (12x24 half width, 24x24 full width) as a 1-bit image, ink = 0."""
    width = CELL_WIDTH * char_width(ch)
    cell = Image.new("L", (width, CELL_HEIGHT), 255)
    if ch.strip():
        font = _font(font_path or find_cjk_font())
        left, _top, right, _bottom = font.getbbox(ch)
        drawn = Image.new("L", (max(int(right - left) + 2, 1), CELL_HEIGHT), 255)  # FreeType's box is whole pixels
        ImageDraw.Draw(drawn).text((1 - left, 0), ch, font=font, fill=0, stroke_width=1 if bold else 0, stroke_fill=0)
        if drawn.width > width:  # wide Latin letters (m, W) are narrowed into the half-width cell
            drawn = drawn.resize((width, CELL_HEIGHT), Image.Resampling.LANCZOS)
        cell.paste(drawn, ((width - drawn.width) // 2, 0))
    return cell.point(lambda v: 0 if v < 128 else 255, mode="1")


def draw_text(text: str, *, width_mult: int = 1, height_mult: int = 1, bold: bool = False) -> Image.Image:
    """A run of characters drawn cell by cell, enlarged as `GS !` enlarges printer fonts (dot doubling)."""
    cells = [glyph(ch, bold) for ch in text]
    width = sum(c.width for c in cells)
    run = Image.new("1", (max(width, 1), CELL_HEIGHT), 1)
    x = 0
    for c in cells:
        run.paste(c, (x, 0))
        x += c.width
    if width_mult != 1 or height_mult != 1:
        run = run.resize((run.width * width_mult, run.height * height_mult), Image.Resampling.NEAREST)
    return run
