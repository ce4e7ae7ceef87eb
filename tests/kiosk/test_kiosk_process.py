"""`estate kiosk` as a process under Xvfb: a device token the server refuses (the demo run again, or the kiosk
revoked in the console) is said on the screen, "device token refused — re-enrol" (设备令牌被拒绝，请重新登记),
and logged as one line on stderr; the window takes the size it is given; SIGUSR1 writes its threads' stacks to
stderr and it goes on; SIGTERM closes it cleanly."""

from __future__ import annotations

import os
import re
import shutil
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image, ImageGrab

from devices.printing.virtual import VirtualPrinter
from tests.conftest import display_or_skip, wait_until

ROOT = Path(__file__).resolve().parents[2]
SHOT = ROOT / "var" / "screenshots" / "kiosk-token-refused.png"
LOG_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ [A-Z]+ \S+: ")  # terminal.logs' format
# What SIGUSR1 writes (faulthandler): a heading for each thread, a line for each frame, blank lines between.
STACK_LINE = re.compile(r'((Current thread|Thread) 0x\w+ \(most recent call first\):|  File ".*", line \d+ in .*)?$')

pytestmark = [pytest.mark.gui, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]


def notice_pixels(image: Image.Image) -> int:
    """Pixels of the header's notice colour (light red on the dark green band)."""
    rgb = np.asarray(image.convert("RGB")).astype(int)
    return int((np.abs(rgb - (255, 191, 178)).sum(axis=2) < 40).sum())


@pytest.fixture
def own_display() -> Iterator[str]:
    """A display of this test's own, as a kiosk's screen is its own: what is on the screen is the kiosk's window and
    nothing any earlier test's window left there."""
    yield from display_or_skip()


def test_a_refused_token_is_shown_and_logged_and_sigterm_closes_the_kiosk(
    own_display: str,
    live_server: str,
    make_device: Callable[..., tuple],
    printer: VirtualPrinter,
    tmp_path: Path,
) -> None:
    stderr = tmp_path / "stderr.txt"
    command = [
        sys.executable, "-m", "estate_cli", "kiosk",
        "--server", live_server, "--printer", printer.url, "--device-token", "edt_revoked-or-replaced",
        "--windowed", "--size", "540x960", "--position", "0,0",
    ]  # fmt: skip
    xvfb_display = own_display
    env = {**os.environ, "DISPLAY": xvfb_display, "KIVY_HOME": str(tmp_path / "kivy"), "KIVY_WINDOW": "sdl2"}
    with stderr.open("w") as err:
        kiosk = subprocess.Popen(command, env=env, stderr=err, cwd=ROOT)
    try:
        window = (0, 0, 540, 960)
        SHOT.parent.mkdir(parents=True, exist_ok=True)

        def notice_shown() -> bool:
            shot = ImageGrab.grab(window, xdisplay=xvfb_display)
            shot.save(SHOT)  # what the window showed last, for a person to look at
            return notice_pixels(shot) > 30

        try:
            wait_until(notice_shown, 120, "the notice")
        except pytest.fail.Exception:
            pytest.fail(f"the notice not shown within 120 s; {_windows(xvfb_display)}\n{_stacks(kiosk, stderr)}")
        # Where a window that seems stuck stands: every thread's stack on stderr, and the kiosk goes on.
        assert "most recent call first" in _stacks(kiosk, stderr) and kiosk.poll() is None
        kiosk.send_signal(signal.SIGTERM)
        assert kiosk.wait(timeout=30) == 0
    finally:
        if kiosk.poll() is None:
            kiosk.kill()
    logged = "\n".join(line for line in stderr.read_text(encoding="utf-8").splitlines() if not STACK_LINE.match(line))
    refused = [line for line in logged.splitlines() if "device token (401)" in line]
    assert len(refused) == 1 and "ERROR kiosk.heartbeat" in refused[0], logged
    assert "kiosk printer: ok" in logged and "stopping on SIGTERM" in logged
    assert "terminate called" not in logged
    # One line for each event, a refusal included (no traceback): every line is a dated log record.
    assert all(LOG_LINE.match(line) for line in logged.splitlines()), logged
    assert "ERROR kiosk.flows.base: the server refused the services list: 401 invalid_device_token" in logged


def _windows(display: str) -> str:
    """The display's windows, their places and sizes, and whether they are shown (`xwininfo`)."""
    found = shutil.which("xwininfo")
    if found is None:
        return "(xwininfo is not installed)"
    done = subprocess.run(
        [found, "-root", "-tree"], env=os.environ | {"DISPLAY": display}, capture_output=True, text=True, timeout=30
    )
    return f"the display's windows:\n{done.stdout}{done.stderr}"


def _stacks(kiosk: subprocess.Popen[bytes], stderr: Path) -> str:
    """The kiosk's threads' stacks, which SIGUSR1 has it write to stderr, and the end of stderr; or how it ended."""
    if kiosk.poll() is not None:
        return f"the kiosk ended ({kiosk.returncode}); its stderr ends:\n{stderr.read_text()[-3000:]}"
    before = len(stderr.read_text())
    kiosk.send_signal(signal.SIGUSR1)
    # The main thread's stack ends at the module the process started with.
    wait_until(lambda: "in <module>" in stderr.read_text()[before:], 20, "the kiosk's stacks")
    return f"the kiosk's stacks and stderr:\n{stderr.read_text()[max(0, before - 1500) :]}"
