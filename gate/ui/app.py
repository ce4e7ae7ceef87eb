"""The gate's window: status bar (online/offline, queue length, conflicts, guard), the live camera preview, and
the main area drawn from the flow's state. Flow and link changes arrive from other threads; redraws are scheduled
on Kivy's clock."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
from kivy.app import App
from kivy.clock import Clock
from kivy.core.window import Window
from kivy.graphics.texture import Texture
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.image import Image
from kivy.uix.widget import Widget

from gate.runtime import GateRuntime
from gate.ui.screens import Screens
from gate.ui.widgets import ALERT, AMBER, DARK, GOOD, Panel, Taps, text
from server.contract import worker_pass
from terminal.i18n import Catalogue
from terminal.kivy_setup import WindowSpec, fitted

LOCALES = Path(__file__).resolve().parent.parent / "locales"
PREVIEW_WIDTH = 960


class GateApp(App):
    def __init__(self, runtime: GateRuntime, language: str = "zh", spec: WindowSpec | None = None) -> None:
        super().__init__()
        self.runtime = runtime
        self.spec = spec or WindowSpec(fullscreen=False)
        self.flow = runtime.flow
        self.catalogue = Catalogue(LOCALES, language)
        self.taps = Taps()
        self.screens = Screens(self.flow, self.catalogue, runtime.zone, self.taps)
        self._preview_frame = -1
        self._card = ""

    def build(self) -> Widget:
        self.title = self.catalogue.t("app_title")
        root = Panel(DARK, padding=0, spacing=0)
        self.status = Panel(DARK, orientation="horizontal", size_hint_y=None, height=90, padding=(16, 8), spacing=12)
        self.preview = Image(size_hint_y=0.3, fit_mode="contain")
        self.banner = BoxLayout(orientation="vertical", size_hint_y=None, height=0)
        self.banner.bind(minimum_height=self.banner.setter("height"))
        self.main = BoxLayout()
        for widget in (self.status, self.preview, self.banner, self.main):
            root.add_widget(widget)
        self.flow.on_change(lambda: Clock.schedule_once(self.redraw))
        self.runtime.link.on_change(lambda: Clock.schedule_once(self.redraw_status))
        self.catalogue.on_change(lambda _lang: Clock.schedule_once(self.redraw))
        Clock.schedule_interval(self.update_preview, 1 / 15)
        Clock.schedule_interval(self.redraw_status, 1.0)
        Window.bind(on_textinput=self._on_text, on_key_down=self._on_key)
        self.redraw()
        return fitted(root, self.spec)

    def on_start(self) -> None:
        self.runtime.start()

    def on_stop(self) -> None:
        self.runtime.stop()

    # --- drawing --------------------------------------------------------------------------------------------

    def redraw(self, *_: object) -> None:
        self.taps.widgets.clear()
        self.main.clear_widgets()
        self.main.add_widget(self.screens.build())
        self.redraw_status()

    def redraw_status(self, *_: object) -> None:
        t, link, flow = self.catalogue.t, self.runtime.link, self.flow
        self.status.clear_widgets()
        state = link.state  # online | offline | token_refused
        self.status.add_widget(text("● " + t(state), 34, GOOD if state == "online" else ALERT, size_hint_x=0.22))
        queue = link.queue_length()
        self.status.add_widget(text(t("queue", n=queue), 30, AMBER if queue else (1, 1, 1, 1), size_hint_x=0.3))
        conflicts = link.conflicts()
        if conflicts:
            self.status.add_widget(text(t("conflicts", n=len(conflicts)), 30, ALERT, size_hint_x=0.16))
        camera = self.runtime.camera_state()  # live | frozen | no_device
        self.status.add_widget(
            text(t("camera", state=t(f"camera_{camera}")), 28, GOOD if camera == "live" else ALERT, size_hint_x=0.2)
        )
        guard = flow.guard.display_name if flow.guard else "—"
        self.status.add_widget(text(t("guard_on_duty", name=guard), 30))
        lang = self.taps.button(
            "lang", t("language"), self.catalogue.toggle, role="neutral", font_size=28, size_hint_x=0.16, height=72
        )
        self.status.add_widget(lang)
        if flow.guard is not None:
            self.status.add_widget(
                self.taps.button(
                    "sign_out", t("sign_out"), flow.sign_out, role="neutral", font_size=28, size_hint_x=0.18, height=72
                )
            )
        self.banner.clear_widgets()
        notes = []
        if state == "token_refused":
            notes.append(text(t("token_refused_note"), 34, ALERT))
        slips = [e.number for e in conflicts if not worker_pass.NUMBER_PATTERN.match(e.number)]
        passes = [e.number for e in conflicts if worker_pass.NUMBER_PATTERN.match(e.number)]
        if slips:
            notes.append(text(t("conflict_note", numbers=", ".join(slips[-3:])), 30, ALERT))
        if passes:  # a worker's movement logged offline when the pass was no longer good (R-REN-6)
            notes.append(text(t("pass_conflict_note", numbers=", ".join(passes[-3:])), 30, ALERT))
        for note in notes:
            self.banner.add_widget(note)

    def update_preview(self, *_: object) -> None:
        frame = self.runtime.latest_frame
        if frame is None or frame.number == self._preview_frame:
            return
        self._preview_frame = frame.number
        image = frame.image if frame.image.ndim == 3 else cv2.cvtColor(frame.image, cv2.COLOR_GRAY2BGR)
        height, width = image.shape[:2]
        scale = PREVIEW_WIDTH / width
        small = cv2.resize(image, (PREVIEW_WIDTH, max(1, int(height * scale))), interpolation=cv2.INTER_AREA)
        small = np.ascontiguousarray(small[::-1])  # Kivy textures start at the bottom row
        texture = Texture.create(size=(small.shape[1], small.shape[0]), colorfmt="bgr")
        texture.blit_buffer(small.tobytes(), colorfmt="bgr", bufferfmt="ubyte")
        self.preview.texture = texture

    # --- a staff card reader types the card number and Enter -------------------------------------------------

    def _on_text(self, _window: object, chars: str) -> None:
        if self.flow.state == "signed_out":
            self._card += chars

    def _on_key(self, _window: object, key: int, *_args: object) -> bool:
        if key == 13 and self.flow.state == "signed_out" and self._card:
            card, self._card = self._card, ""
            self.flow.signin_card(card)
            return True
        return False
