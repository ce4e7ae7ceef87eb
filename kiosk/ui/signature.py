"""The signature screen (R-REL-2): the applicant signs with a finger on a pad before the slip prints. The pad draws
each stroke as the finger moves and hands it to the flow when the finger lifts; what the flow holds is drawn again
whenever the screen is redrawn."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kivy.graphics import Color, Line, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.flows.kiosk_flow import KioskFlow
from kiosk.flows.signature import HEIGHT, WIDTH
from terminal.widgets import TOUCH

if TYPE_CHECKING:
    from kiosk.ui.screens import Ui

INK = (0.07, 0.12, 0.2, 1)
PEN_WIDTH = 3


class SignaturePadWidget(Widget):
    """A white pad taking strokes from touches that start on it."""

    def __init__(self, flow: KioskFlow, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flow = flow
        self._points: list[tuple[float, float]] = []
        self._line: Line | None = None
        self.bind(pos=self._draw, size=self._draw)

    def _local(self, x: float, y: float) -> tuple[float, float]:
        return ((x - self.x) / max(self.width, 1), (y - self.y) / max(self.height, 1))

    def _draw(self, *_args: object) -> None:
        self.canvas.clear()
        with self.canvas:
            Color(1, 1, 1, 1)
            Rectangle(pos=self.pos, size=self.size)
            Color(0.6, 0.64, 0.7, 1)
            Line(rectangle=(self.x, self.y, self.width, self.height), width=1.5)
            Color(*INK)
            for stroke in self.flow.session.signature.strokes:
                points = [c for x, y in stroke for c in (self.x + x * self.width, self.y + y * self.height)]
                Line(points=points * (2 if len(stroke) == 1 else 1), width=PEN_WIDTH)

    def on_touch_down(self, touch: Any) -> bool:
        if not self.collide_point(*touch.pos):
            return False
        touch.grab(self)
        self._points = [self._local(*touch.pos)]
        with self.canvas:
            Color(*INK)
            self._line = Line(points=[*touch.pos, *touch.pos], width=PEN_WIDTH)
        return True

    def on_touch_move(self, touch: Any) -> bool:
        if touch.grab_current is not self or self._line is None:
            return False
        self._points.append(self._local(*touch.pos))
        self._line.points = [*self._line.points, *touch.pos]
        return True

    def on_touch_up(self, touch: Any) -> bool:
        if touch.grab_current is not self:
            return False
        touch.ungrab(self)
        points, self._points, self._line = self._points, [], None
        self.flow.sign_stroke(points)
        return True


def sign(ui: Ui) -> Widget:
    flow = ui.flow
    box = BoxLayout(orientation="vertical", spacing=20, padding=(40, 24))
    box.add_widget(ui.label(ui.t("sign.title"), 52, size_hint_y=None, height=110))
    box.add_widget(ui.label(ui.t("sign.hint"), 36, size_hint_y=None, height=110))
    pad = SignaturePadWidget(flow, size_hint_y=None)
    pad.bind(width=lambda w, width: setattr(w, "height", width * HEIGHT / WIDTH))  # the shape of the kept PNG
    box.add_widget(ui.register("sign.pad", pad))
    error = ui.say(flow.state.error)
    box.add_widget(ui.label(error, 36, color=(0.7, 0.15, 0.12, 1), size_hint_y=None, height=60 if error else 0))
    actions = BoxLayout(spacing=20, size_hint_y=None, height=TOUCH * 1.5)
    actions.add_widget(ui.button("nav.back", ui.t("nav.back"), flow.back, "neutral"))
    actions.add_widget(ui.button("sign.clear", ui.t("sign.clear"), flow.sign_clear, "neutral"))
    actions.add_widget(ui.button("sign.confirm", ui.t("sign.confirm"), flow.confirm, font_size=48))
    box.add_widget(Widget())
    box.add_widget(actions)
    return box
