"""One program at a time on a serial line — a cabinet's lock boards, a slip printer: a second one's frames would
interleave with the first's (on a cabinet, each would take the other's replies for garbage; on a printer, two slips
would print as one mess).

The holder keeps an advisory lock (`flock`) on a file named for the line, in /run/lock (else the temp folder),
and writes its pid and command into it, so whoever is refused is told who has the line. The kernel drops the lock
when the holder exits, however it exits: a stale file is never in the way. A device path is named by the device
it resolves to (a by-id symlink, /dev/ttyUSB0 and spy:///dev/ttyUSB0 are one line); any other URL by itself,
without its options.
"""

from __future__ import annotations

import hashlib
import os
import re
import sys
import tempfile
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path

try:
    import fcntl
except ImportError:  # not a POSIX system: pyserial's own exclusive open is all there is
    fcntl = None  # type: ignore[assignment]

LOCK_DIRS = (Path("/run/lock"), Path(tempfile.gettempdir()))
ENV_LOCK_DIR = "ESTATE_CABINET_LOCK_DIR"  # a technician's or a test's own place for the lock files
Refusal = Callable[[str, Path], Exception]  # (who holds the line, the lock file) -> the error to raise


def line_key(port_url: str) -> str:
    """What names a line: the device a path resolves to (also under spy://), or the URL without its options."""
    base = port_url.split("?", 1)[0]
    path = base.removeprefix("spy://")
    return os.path.realpath(path) if path.startswith("/") else base


def lock_path(port_url: str) -> Path:
    key = line_key(port_url)
    readable = re.sub(r"[^A-Za-z0-9]+", "_", key).strip("_")[-60:]
    digest = hashlib.sha1(key.encode()).hexdigest()[:8]
    return _lock_dir() / f"estate-line-{readable}-{digest}.lock"


def _lock_dir() -> Path:
    chosen = os.environ.get(ENV_LOCK_DIR)
    if chosen:
        return Path(chosen)
    return next((d for d in LOCK_DIRS if os.access(d, os.W_OK)), LOCK_DIRS[-1])


def _this_program() -> str:
    return " ".join([Path(sys.argv[0]).name, *sys.argv[1:4]]) if sys.argv and sys.argv[0] else "python"


class PortLock:
    """Held from `acquire()` to `release()`; `acquire` raises what `refusal` makes of the holder ("PID 4242 (estate
    kiosk …)") and the lock file."""

    def __init__(self, url: str, port_url: str, refusal: Refusal) -> None:
        self.url = url
        self.path = lock_path(port_url)
        self._refusal = refusal
        self._fd: int | None = None

    @property
    def held(self) -> bool:
        return self._fd is not None

    def acquire(self) -> None:
        if self._fd is not None or fcntl is None:
            return
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o666)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            holder = os.pread(fd, 512, 0).decode("utf-8", "replace").strip() or "another program"
            os.close(fd)
            raise self._refusal(holder, self.path) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"PID {os.getpid()} ({_this_program()})\n".encode(), 0)
        self._fd = fd

    def release(self) -> None:
        fd, self._fd = self._fd, None
        if fd is not None:
            with suppress(OSError):
                os.ftruncate(fd, 0)
            os.close(fd)  # closing drops the flock
