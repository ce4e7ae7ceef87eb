"""Kivy start-up for a kiosk or gate window. Call `prepare()` before anything imports `kivy.core.window`."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

FONT_NAME = "CJK"


@dataclass(frozen=True)
class WindowSpec:
    width: int = 1080
    height: int = 1920
    fullscreen: bool = True

    @classmethod
    def from_orientation(cls, orientation: str, fullscreen: bool = True) -> WindowSpec:
        if orientation == "portrait":
            return cls(1080, 1920, fullscreen)
        if orientation == "landscape":
            return cls(1920, 1080, fullscreen)
        raise ValueError(f"orientation must be portrait or landscape, not {orientation!r}")


def prepare(spec: WindowSpec, font_path: str | None = None, home: Path | None = None) -> Path:
    """Configure Kivy for a touch screen and register the CJK font under `FONT_NAME`; returns the font used."""
    os.environ.setdefault("KIVY_NO_ARGS", "1")
    os.environ.setdefault("KIVY_NO_CONSOLELOG", "1")
    if home is not None:
        home.mkdir(parents=True, exist_ok=True)
        os.environ.setdefault("KIVY_HOME", str(home))
    from kivy.config import Config

    Config.set("graphics", "width", str(spec.width))
    Config.set("graphics", "height", str(spec.height))
    Config.set("graphics", "fullscreen", "auto" if spec.fullscreen else "0")
    Config.set("graphics", "resizable", "0")
    Config.set("kivy", "exit_on_escape", "0")
    Config.set("input", "mouse", "mouse,disable_multitouch")

    from kivy.core.text import LabelBase

    from devices.printing.fonts import find_cjk_font

    font = find_cjk_font(font_path)
    LabelBase.register(FONT_NAME, str(font))
    return font
