"""A virtual X display (Xvfb) for running the touch apps where there is no screen: tests, benchmarks, CI."""

from __future__ import annotations

import ctypes
import ctypes.util
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager


class NoVirtualDisplay(RuntimeError):
    """Xvfb is missing or did not start."""


@contextmanager
def virtual_display(width: int = 1920, height: int = 1920) -> Iterator[str]:
    """Start Xvfb on a display number it picks itself (-displayfd); yields the DISPLAY value, e.g. ":3"."""
    if shutil.which("Xvfb") is None:
        raise NoVirtualDisplay("Xvfb is not installed: `make test` installs it, or apt-get install xvfb")
    read_fd, write_fd = os.pipe()
    proc = subprocess.Popen(
        ["Xvfb", "-displayfd", str(write_fd), "-screen", "0", f"{width}x{height}x24", "-nolisten", "tcp"],
        pass_fds=(write_fd,),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    os.close(write_fd)
    with os.fdopen(read_fd) as pipe:
        number = pipe.readline().strip()  # written once the server accepts connections
    try:
        if not number:
            raise NoVirtualDisplay("Xvfb did not start")
        yield f":{number}"
    finally:
        proc.terminate()
        proc.wait(timeout=10)


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
