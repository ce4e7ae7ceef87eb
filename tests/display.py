"""A virtual X display (Xvfb) for running the touch apps where there is no screen: tests, benchmarks, CI."""

from __future__ import annotations

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
