"""The kiosk window: a header (title, language, home), the current screen, and a busy line. It redraws the
screen whenever the flow's state changes and runs server and printer work on a worker thread."""

from __future__ import annotations

import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics import Color, Rectangle
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk.flows.kiosk_flow import KioskFlow
from kiosk.flows.state import KioskState, Screen
from kiosk.ui.desk_screens import build
from kiosk.ui.screens import Ui
from terminal.i18n import Catalogue
from terminal.widgets import TOUCH, BigButton

LOCALES = Path(__file__).resolve().parent.parent / "locales"
ENTER_KEYS = (13, 271)  # Enter and keypad Enter: the card reader ends a card number with one


def thread_runner(work: Callable[[], Any], done: Callable[[Any], None]) -> None:
    """Run `work` off the UI thread and hand its result back on the UI thread."""

    def run() -> None:
        result = work()
        Clock.schedule_once(lambda _dt: done(result))

    threading.Thread(target=run, name="kiosk-io", daemon=True).start()


class KioskApp(App):
    def __init__(self, flow: KioskFlow, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.flow = flow
        self.texts = Catalogue(LOCALES, flow.state.language)
        self.widgets: dict[str, Widget] = {}
        self.memory: dict[str, Any] = {}  # the view's state across redraws (where the item list was scrolled to)
        self.drawn = 0  # screens drawn so far (the test driver and the benchmark wait on it)
        self.link = "unknown"  # from the heartbeat: online | offline | token_refused
        self.title = self.texts.t("app.title")

    def register(self, wid: str, widget: Widget) -> Widget:
        self.widgets[wid] = widget
        return widget

    def build(self) -> Widget:
        Window.clearcolor = (0.96, 0.96, 0.94, 1)
        root = BoxLayout(orientation="vertical")
        self.header = BoxLayout(size_hint_y=None, height=TOUCH + 24, padding=12, spacing=12)
        with self.header.canvas.before:
            Color(0.04, 0.30, 0.24, 1)
            self._band = Rectangle()
        self.header.bind(
            pos=lambda w, p: setattr(self._band, "pos", p), size=lambda w, s: setattr(self._band, "size", s)
        )
        self.body = BoxLayout()
        root.add_widget(self.header)
        root.add_widget(self.body)
        self.flow.on_change = self._on_change
        self.flow.runner = thread_runner
        Window.bind(on_textinput=self._typed, on_key_down=self._key_down)
        Clock.schedule_interval(lambda _dt: self.flow.tick(), 1.0)
        # The keyboard's pinyin dictionary takes a moment to load: load it now, not at the first "other item".
        threading.Thread(target=self.flow.pinyin, name="kiosk-pinyin", daemon=True).start()
        self.flow.start()
        self.redraw()
        return root

    def _typed(self, _window: Any, text: str) -> None:
        if self.flow.state.screen is Screen.IDENTIFY:
            for char in text:
                self.flow.card_key(char)
        elif self.flow.state.screen is Screen.HOME:  # the code reader: a printed confirmation's QR code
            for char in text:
                self.flow.scan_key(char)

    def _key_down(self, _window: Any, key: int, *_args: Any) -> bool:
        if key in ENTER_KEYS and self.flow.state.screen is Screen.IDENTIFY:
            self.flow.card_enter()
            return True
        if key in ENTER_KEYS and self.flow.state.screen is Screen.HOME:
            self.flow.scan_enter()
            return True
        return False

    def _on_change(self, state: KioskState) -> None:
        if state.language != self.texts.language:
            self.texts.set_language(state.language)
        self._pending = True
        Clock.schedule_once(lambda _dt: self.redraw() if self._pending else None)

    def set_link(self, link: str) -> None:
        """The heartbeat's news of the link (any thread); a refused device token is shown in the header."""
        self.link = link
        Clock.schedule_once(lambda _dt: self.redraw())

    def redraw(self) -> None:
        self._pending = False
        state = self.flow.state
        if state.screen is not Screen.ITEMS or not state.session.draft.last_line:
            self.memory.clear()  # a new list starts at its top
        ui = Ui(self.flow, self.texts, self.register, self.memory)
        self.widgets.clear()
        self.header.clear_widgets()
        # "Home" at the left end, the language at the right end: a tap meant for home just after the kiosk went
        # home by itself lands on the title, never on the language.
        if state.screen is not Screen.HOME:
            home = BigButton(ui.t("nav.home"), role="neutral", on_tap=self.flow.home, size_hint_x=None, width=260)
            self.header.add_widget(self.register("nav.home", home))
        title = ui.label(state.estate_name or ui.t("app.title"), 44, color=(1, 1, 1, 1))
        self.header.add_widget(title)
        if state.busy:
            self.header.add_widget(ui.label(ui.t("busy"), 36, color=(1, 0.9, 0.5, 1)))
        if self.link == "token_refused":
            notice = ui.label(ui.t("app.token_refused"), 36, color=(1, 0.75, 0.7, 1))
            self.header.add_widget(self.register("app.token_refused", notice))
        language = BigButton(
            ui.t("app.language"), role="neutral", on_tap=self.flow.toggle_language, size_hint_x=None, width=240
        )
        self.header.add_widget(self.register("app.language", language))
        self.body.clear_widgets()
        self.body.add_widget(build(ui))
        self.drawn += 1
