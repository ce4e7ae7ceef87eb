"""Kivy start-up for a kiosk or gate window. Call `prepare()` before anything imports `kivy.core.window`.

Screens are laid out for the panel's size (1080×1920 portrait, 1920×1080 landscape). A smaller window (`--size`,
`--scale`: a demo or a technician's laptop) shows the same layout scaled down, touches scaled back (`fitted`).
"""

from __future__ import annotations

import faulthandler
import logging
import os
import re
import signal
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from kivy.app import App
    from kivy.uix.widget import Widget

FONT_NAME = "CJK"
_SIZE = re.compile(r"^\s*(\d+)\s*[x×,]\s*(\d+)\s*$")
MIN_SCALE, MAX_SCALE = 0.2, 2.0


def parse_pair(text: str, what: str) -> tuple[int, int]:
    """`1080x1920` (or `1080,1920`) as two integers; a clear error otherwise."""
    match = _SIZE.match(text)
    if match is None:
        raise ValueError(f"{what} is two numbers like 540x960, not {text!r}")
    return int(match[1]), int(match[2])


@dataclass(frozen=True)
class WindowSpec:
    """The layout's size (the panel's), whether to fill the screen, and how the window shows it: `scale` times the
    layout's size, its top-left corner at `position` (None: where the window manager puts it)."""

    width: int = 1080
    height: int = 1920
    fullscreen: bool = True
    scale: float = 1.0
    position: tuple[int, int] | None = None

    @classmethod
    def from_orientation(cls, orientation: str, fullscreen: bool = True) -> WindowSpec:
        if orientation == "portrait":
            return cls(1080, 1920, fullscreen)
        if orientation == "landscape":
            return cls(1920, 1080, fullscreen)
        raise ValueError(f"orientation must be portrait or landscape, not {orientation!r}")

    @classmethod
    def from_options(
        cls,
        orientation: str,
        *,
        fullscreen: bool,
        size: str | None = None,
        scale: float | None = None,
        position: str | None = None,
    ) -> WindowSpec:
        """The window from the command line: `size` (WxH, the layout fitted inside it) or `scale` (of the panel's
        size) make a smaller window; `position` (X,Y) places its top-left corner."""
        base = cls.from_orientation(orientation, fullscreen)
        if size is not None and scale is not None:
            raise ValueError("give --size or --scale, not both")
        if size is not None:
            width, height = parse_pair(size, "--size")
            scale = min(width / base.width, height / base.height)
        scale = 1.0 if scale is None else scale
        if not MIN_SCALE <= scale <= MAX_SCALE:
            raise ValueError(f"the scale is {MIN_SCALE}–{MAX_SCALE}, not {scale:g}")
        at = parse_pair(position, "--position") if position is not None else None
        return cls(base.width, base.height, fullscreen, scale, at)

    @property
    def window_size(self) -> tuple[int, int]:
        return round(self.width * self.scale), round(self.height * self.scale)


def prepare(spec: WindowSpec, font_path: str | None = None, home: Path | None = None) -> Path:
    """Configure Kivy for a touch screen and register the CJK font under `FONT_NAME`; returns the font used."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    os.environ.setdefault("KIVY_LOG_MODE", "PYTHON")  # our logging (terminal.logs) keeps stderr and the root logger
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("KIVY_HOME", str(home))
    from kivy.config import Config

    width, height = spec.window_size
    Config.set("graphics", "width", str(width))
    Config.set("graphics", "height", str(height))
    Config.set("graphics", "fullscreen", "auto" if spec.fullscreen else "0")
    if spec.position is not None:
        Config.set("graphics", "position", "custom")
        Config.set("graphics", "left", str(spec.position[0]))
        Config.set("graphics", "top", str(spec.position[1]))
    Config.set("graphics", "resizable", "0")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")

    from kivy.core.text import LabelBase

    from devices.printing.fonts import find_cjk_font

    font = find_cjk_font(font_path)
    LabelBase.register(FONT_NAME, str(font))
    return font


def fitted(root: Widget, spec: WindowSpec) -> Widget:
    """`root` laid out at the panel's size and drawn at the window's scale (touches are scaled back)."""
    if spec.scale == 1.0 or spec.fullscreen:
        return root
    from kivy.uix.floatlayout import FloatLayout
    from kivy.uix.scatterlayout import ScatterLayout

    holder = ScatterLayout(
        do_rotation=False, do_scale=False, do_translation=False, size_hint=(None, None), size=(spec.width, spec.height)
    )
    holder.add_widget(root)
    holder.scale = spec.scale
    holder.pos = (0, 0)
    window = FloatLayout()
    window.add_widget(holder)
    return window


def handle_signals(app: App) -> None:
    """SIGTERM, SIGINT and SIGHUP close the app as its own close would (`on_stop` runs, threads are joined), so a
    service stop or the demo ending never kills the process under a running camera or printer thread. SIGUSR1
    writes the stack of every thread to stderr and the app goes on: for a window that seems stuck, it says where
    (`kill -USR1 PID`), even while the main thread is inside the window system's code."""
    from kivy.clock import Clock

    faulthandler.register(signal.SIGUSR1, all_threads=True, chain=False)

    def stop(signum: int, _frame: object) -> None:
        logging.getLogger(__name__).info("stopping on %s", signal.Signals(signum).name)
        Clock.schedule_once(lambda _dt: app.stop())

    for signum in (signal.SIGTERM, signal.SIGINT, signal.SIGHUP):
        signal.signal(signum, stop)
