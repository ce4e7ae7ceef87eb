"""The applicant's signature on the kiosk's touch screen (R-REL-2: the owner signs for the items before the slip
prints): strokes in the pad's own coordinates (0–1 across, 0–1 up, as Kivy gives them), drawn into a PNG that is
sent with the slip request and kept with the slip."""

from __future__ import annotations

import io
from dataclasses import dataclass, field

from PIL import Image, ImageDraw

WIDTH, HEIGHT = 900, 320  # the PNG: about the pad's shape on a portrait screen
MAX_STROKES = 60
MAX_POINTS = 600  # per stroke: a finger's long scrawl is thinned, not refused
PEN = 5


@dataclass
class SignaturePad:
    strokes: list[list[tuple[float, float]]] = field(default_factory=list)

    @property
    def empty(self) -> bool:
        return not any(self.strokes)

    def add(self, points: list[tuple[float, float]]) -> bool:
        """One stroke from finger down to finger up; False when the pad is full or the stroke has no points."""
        inside = [(min(max(x, 0.0), 1.0), min(max(y, 0.0), 1.0)) for x, y in points]
        if not inside or len(self.strokes) >= MAX_STROKES:
            return False
        step = max(1, len(inside) // MAX_POINTS)
        self.strokes.append(inside[::step])
        return True

    def clear(self) -> None:
        self.strokes.clear()

    def png(self) -> bytes:
        """The strokes in dark ink on white, as a small one-bit PNG (a few kilobytes)."""
        image = Image.new("1", (WIDTH, HEIGHT), 1)
        draw = ImageDraw.Draw(image)
        for stroke in self.strokes:
            pixels = [(x * (WIDTH - 1), (1 - y) * (HEIGHT - 1)) for x, y in stroke]
            if len(pixels) == 1:
                x, y = pixels[0]
                draw.ellipse((x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2), fill=0)
            else:
                draw.line(pixels, fill=0, width=PEN, joint="curve")
        buffer = io.BytesIO()
        image.save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
