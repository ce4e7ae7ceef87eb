"""The paper of the virtual printer: lines assembled from characters and images, then stacked into a roll."""

from __future__ import annotations

from dataclasses import dataclass, field

from PIL import Image

from devices.printing.fonts import draw_text
from devices.printing.profiles import CELL_HEIGHT, CELL_WIDTH
from devices.printing.render import aligned_x, line_height


@dataclass
class _Piece:
    x: int
    image: Image.Image


@dataclass
class Style:
    align: str = "left"
    width_mult: int = 1
    height_mult: int = 1
    bold: bool = False
    latin_size: tuple[int, int] | None = None  # ESC ! double width/height: Latin only on Epson-style printers

    def size_for(self, ch: str) -> tuple[int, int]:
        if self.latin_size is not None and ord(ch) < 0x80:
            return self.latin_size
        return self.width_mult, self.height_mult


@dataclass
class Paper:
    """Dots on a roll `width` dots wide; `text_lines` keeps the characters of every printed text line."""

    width: int
    rows: list[Image.Image] = field(default_factory=list)
    text_lines: list[str] = field(default_factory=list)
    _pieces: list[_Piece] = field(default_factory=list, init=False)
    _text: list[str] = field(default_factory=list, init=False)
    _x: int = field(default=0, init=False)
    _line_align: str | None = field(default=None, init=False)
    _line_height_mult: int = field(default=1, init=False)

    @property
    def blank(self) -> bool:
        return not self.rows and not self._pieces

    def put_char(self, ch: str, style: Style) -> None:
        """Place one character at the cursor; a character that would pass the right edge starts a new line."""
        width_mult, height_mult = style.size_for(ch)
        run = draw_text(ch, width_mult=width_mult, height_mult=height_mult, bold=style.bold)
        if self._x + run.width > self.width:
            self.print_line(style)
        if self._line_align is None:
            self._line_align = style.align
        self._pieces.append(_Piece(self._x, run))
        self._text.append(ch)
        self._x += run.width
        self._line_height_mult = max(self._line_height_mult, height_mult)

    def move_to(self, x: int, style: Style) -> None:
        """ESC $: continue at `x` dots; the skipped columns read as spaces."""
        if x <= self._x or x >= self.width:
            return  # printers ignore a position behind the cursor or off the paper
        self._text.append(" " * ((x - self._x) // (CELL_WIDTH * style.width_mult)))
        self._x = x
        if self._line_align is None:
            self._line_align = style.align

    def print_line(self, style: Style) -> None:
        """LF: print the line buffer (an empty buffer feeds one line at the current size)."""
        height_mult = self._line_height_mult if self._pieces else style.height_mult
        line = Image.new("1", (self.width, line_height(height_mult)), 1)
        offset = aligned_x(self._x, self.width, self._line_align or style.align)
        base = CELL_HEIGHT * height_mult
        for piece in self._pieces:
            line.paste(piece.image, (offset + piece.x, base - piece.image.height))
        self.rows.append(line)
        if self._pieces or self._text:
            self.text_lines.append("".join(self._text))
        self._pieces, self._text, self._x = [], [], 0
        self._line_align, self._line_height_mult = None, 1

    def flush_line(self, style: Style) -> None:
        """Print a pending partial line before a block (image, QR, feed) goes on the paper."""
        if self._pieces or self._text:
            self.print_line(style)

    def put_block(self, image: Image.Image, align: str) -> None:
        """An image as wide as it is, placed on its own rows."""
        row = Image.new("1", (self.width, image.height), 1)
        row.paste(image.convert("1"), (aligned_x(image.width, self.width, align), 0))
        self.rows.append(row)

    def feed(self, dots: int) -> None:
        if dots > 0:
            self.rows.append(Image.new("1", (self.width, dots), 1))

    def image(self) -> Image.Image:
        """The printed roll so far, as an 8-bit greyscale image (black ink on white)."""
        height = sum(r.height for r in self.rows) or 1
        roll = Image.new("1", (self.width, height), 1)
        y = 0
        for row in self.rows:
            roll.paste(row, (0, y))
            y += row.height
        return roll.convert("L")
