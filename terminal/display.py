"""The X display's size, and where to place several app windows side by side on it (`estate demo`)."""

from __future__ import annotations

import ctypes
import ctypes.util
import os


def screen_size(display: str | None = None) -> tuple[int, int] | None:
    """The pixel size of the X display's default screen (DISPLAY when not given); None when there is none."""
    name = display or os.environ.get("DISPLAY")
    library = ctypes.util.find_library("X11")
    if not name or library is None:
        return None
    xlib = ctypes.CDLL(library)
    xlib.XOpenDisplay.restype = ctypes.c_void_p
    xlib.XOpenDisplay.argtypes = [ctypes.c_char_p]
    for call in (xlib.XDefaultScreen, xlib.XCloseDisplay):
        call.argtypes = [ctypes.c_void_p]
    xlib.XDisplayWidth.argtypes = xlib.XDisplayHeight.argtypes = [ctypes.c_void_p, ctypes.c_int]
    handle = xlib.XOpenDisplay(name.encode())
    if not handle:
        return None
    try:
        screen = xlib.XDefaultScreen(handle)
        return xlib.XDisplayWidth(handle, screen), xlib.XDisplayHeight(handle, screen)
    finally:
        xlib.XCloseDisplay(handle)


# Room left for window title bars and a desktop panel when placing windows on a screen.
TITLE_BAR, GAP = 40, 16


def side_by_side(screen: tuple[int, int], count: int, panel: tuple[int, int] = (1080, 1920)) -> list[list[str]]:
    """`--scale S --position X,Y` arguments for `count` windows of a panel's layout, next to each other and scaled
    (never enlarged) so that all of them fit on `screen`."""
    width, height = screen
    scale = min(1.0, (height - 2 * TITLE_BAR) / panel[1], (width - GAP * (count + 1)) / (count * panel[0]))
    scale = max(0.2, round(scale, 3))
    step = round(panel[0] * scale) + GAP
    return [["--scale", str(scale), "--position", f"{GAP + n * step},{TITLE_BAR}"] for n in range(count)]
