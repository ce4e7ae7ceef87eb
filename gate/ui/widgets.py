"""Small drawing helpers for the gate's screens: labels in the CJK font, coloured panels, and a registry of
tappable widgets by id (used by the on-screen test driver)."""

from __future__ import annotations

from collections.abc import Callable

from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.label import Label
from kivy.uix.widget import Widget

from terminal.kivy_setup import FONT_NAME
from terminal.widgets import BigButton

# Backgrounds (white text on them) and text colours for the dark backgrounds (DARK, PANEL): every pair has a
# contrast ratio of at least 4.5:1 (WCAG AA), so a guard reads a red line on a grey panel in a bright gatehouse.
GREEN = (0.05, 0.45, 0.22, 1)
RED = (0.62, 0.10, 0.08, 1)
SLATE = (0.24, 0.29, 0.34, 1)  # an unchecked line; a shade apart from the grey buttons on it
DARK = (0.10, 0.12, 0.15, 1)
PANEL = (0.16, 0.19, 0.23, 1)
WHITE = (1, 1, 1, 1)
GREY = (0.64, 0.67, 0.71, 1)
ALERT = (1.0, 0.50, 0.47, 1)
GOOD = (0.35, 0.85, 0.50, 1)
AMBER = (1.0, 0.72, 0.30, 1)


def text(value: str, size: int = 36, color: tuple[float, ...] = WHITE, lines: int = 1, **kwargs: object) -> Label:
    """A wrapping label that is as tall as its text, and never shorter than `lines` lines."""
    kwargs.setdefault("halign", "left")
    kwargs.setdefault("valign", "middle")
    label = Label(text=value, font_name=FONT_NAME, font_size=size, color=color, size_hint_y=None, **kwargs)
    # The reserved height from the start, also for an empty label kept for an error or a preview: the widgets under
    # it (a keypad) stay where they are when a text of up to `lines` lines appears.
    reserved = size * 1.4 * lines
    label.height = reserved
    label.bind(width=lambda lbl, w: setattr(lbl, "text_size", (w, None)))
    label.bind(texture_size=lambda lbl, ts: setattr(lbl, "height", max(ts[1], reserved)))
    return label


class Panel(BoxLayout):
    """A box with a solid background colour."""

    def __init__(self, colour: tuple[float, ...] = PANEL, **kwargs: object) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("padding", 24)
        kwargs.setdefault("spacing", 16)
        super().__init__(**kwargs)
        with self.canvas.before:
            self._colour = Color(*colour)
            self._rect = Rectangle(pos=self.pos, size=self.size)
        self.bind(pos=self._redraw, size=self._redraw)

    def _redraw(self, *_: object) -> None:
        self._rect.pos, self._rect.size = self.pos, self.size

    @property
    def colour(self) -> tuple[float, ...]:
        return tuple(self._colour.rgba)


class Taps:
    """Tappable widgets by id, rebuilt with every screen."""

    def __init__(self) -> None:
        self.widgets: dict[str, Widget] = {}

    def button(
        self,
        key: str,
        label: str,
        action: Callable[[], None],
        *,
        role: str = "primary",
        enabled: bool = True,
        **kwargs: object,
    ) -> BigButton:
        button = BigButton(label, role=role, on_tap=action, disabled=not enabled, **kwargs)
        self.widgets[key] = button
        return button

    def tap(self, key: str) -> bool:
        widget = self.widgets.get(key)
        if widget is None or getattr(widget, "disabled", False):
            return False
        widget.dispatch("on_release")
        return True
