"""The systemd watchdog: the kiosk pings it from its window's main loop; frozen on purpose (SIGSTOP), it goes
silent and the supervisor — systemd's part, as `Type=notify`, `WatchdogSec=` and `Restart=always` say — kills it and
starts it again, and the new kiosk says READY=1 and pings again."""

from __future__ import annotations

import os
import signal
import socket
import struct
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from devices.printing.virtual import VirtualPrinter
from terminal import systemd
from tests.conftest import wait_until

ROOT = Path(__file__).resolve().parents[2]
PERIOD = 3.0  # WatchdogSec= of this test (the installed unit says 30)


@dataclass
class Supervisor:
    """What systemd does for the kiosk's unit: starts it with NOTIFY_SOCKET and WATCHDOG_USEC, reads each message
    with its sender's PID (as NotifyAccess=main does), kills a process whose pings stop and starts a new one."""

    command: list[str]
    env: dict[str, str]
    socket_path: Path
    messages: list[tuple[int, str]] = field(default_factory=list)
    runs: list[subprocess.Popen[bytes]] = field(default_factory=list)
    kills: list[tuple[int, float]] = field(default_factory=list)  # (pid, seconds since its last ping)

    def __post_init__(self) -> None:
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(str(self.socket_path))
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_PASSCRED, 1)
        self.sock.settimeout(0.1)
        self.last_ping = time.monotonic()

    def start(self) -> None:
        env = {**self.env, "NOTIFY_SOCKET": str(self.socket_path), "WATCHDOG_USEC": str(int(PERIOD * 1e6))}
        self.runs.append(subprocess.Popen(self.command, env=env, cwd=ROOT, stderr=subprocess.DEVNULL))
        self.last_ping = time.monotonic() + 60  # start-up: TimeoutStartSec=, until READY=1

    @property
    def main(self) -> subprocess.Popen[bytes]:
        return self.runs[-1]

    def said(self, pid: int, message: str) -> bool:
        return (pid, message) in self.messages

    def step(self) -> bool:
        """Take one message, or act on a silence; returns True (wait_until polls this)."""
        try:
            data, ancillary, _flags, _addr = self.sock.recvmsg(1024, socket.CMSG_SPACE(12))
        except TimeoutError:
            data, ancillary = b"", []
        sender = next((struct.unpack("3i", d)[0] for lvl, kind, d in ancillary if kind == socket.SCM_CREDENTIALS), 0)
        for line in data.decode().splitlines():
            if sender == self.main.pid:  # NotifyAccess=main
                self.messages.append((sender, line))
                if line in ("READY=1", "WATCHDOG=1"):
                    self.last_ping = time.monotonic()
        silent = time.monotonic() - self.last_ping
        if silent > PERIOD and self.main.poll() is None:
            self.kills.append((self.main.pid, silent))
            self.main.kill()  # SIGABRT, then SIGKILL after TimeoutAbortSec=: a stopped process takes only SIGKILL
            self.main.wait(timeout=10)
            self.start()  # Restart=always
        return True

    def until(self, condition: Callable[[], bool], timeout: float, what: str) -> None:
        wait_until(lambda: self.step() and condition(), timeout, what)

    def close(self) -> None:
        for run in self.runs:
            if run.poll() is None:
                run.kill()
                run.wait(timeout=10)
        self.sock.close()


@pytest.mark.gui
@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_frozen_kiosk_is_restarted_by_the_watchdog(
    xvfb_display: str, live_server: str, make_device: Callable[..., tuple], tmp_path: Path
) -> None:
    _device, token = make_device("kiosk", "大堂自助机")
    with VirtualPrinter(tmp_path / "printer") as printer:
        command = [
            sys.executable, "-m", "estate_cli", "kiosk", "--server", live_server, "--printer", printer.url,
            "--device-token", token, "--windowed", "--size", "270x480",
        ]  # fmt: skip
        env = {**os.environ, "DISPLAY": xvfb_display, "KIVY_HOME": str(tmp_path / "kivy")}
        supervisor = Supervisor(command, env, tmp_path / "notify")
        try:
            supervisor.start()
            first = supervisor.main.pid
            supervisor.until(lambda: supervisor.said(first, "READY=1"), 120, "the first kiosk's READY=1")
            pings = lambda pid: sum(1 for p, m in supervisor.messages if p == pid and m == "WATCHDOG=1")  # noqa: E731
            supervisor.until(lambda: pings(first) >= 2, 30, "the first kiosk's pings")

            os.kill(first, signal.SIGSTOP)  # the window's main loop frozen
            supervisor.until(lambda: len(supervisor.runs) == 2, 30, "the watchdog's restart")
            second = supervisor.main.pid
            supervisor.until(lambda: supervisor.said(second, "READY=1") and pings(second) >= 1, 120, "the new kiosk")
        finally:
            supervisor.close()
    assert [pid for pid, _silent in supervisor.kills] == [first]
    assert supervisor.kills[0][1] > PERIOD
    assert supervisor.runs[0].returncode == -signal.SIGKILL


def test_without_systemd_the_watchdog_is_silent(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
    monkeypatch.delenv("WATCHDOG_USEC", raising=False)
    watchdog = systemd.Watchdog()
    assert watchdog.interval is None and not systemd.notify("READY=1")
    watchdog.alive()  # nothing to ping: no error


def test_pings_are_rate_limited_and_for_this_process_only(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "notify"
    with socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM) as sock:
        sock.bind(str(path))
        sock.settimeout(1)
        monkeypatch.setenv("NOTIFY_SOCKET", str(path))
        monkeypatch.setenv("WATCHDOG_USEC", "10000000")
        monkeypatch.setenv("WATCHDOG_PID", str(os.getpid()))
        now = [100.0]
        watchdog = systemd.Watchdog(clock=lambda: now[0])
        assert watchdog.interval == 2.5
        watchdog.alive()
        watchdog.alive()  # too soon: not sent
        now[0] += 5.0
        watchdog.alive()
        assert [sock.recv(64), sock.recv(64)] == [b"WATCHDOG=1", b"WATCHDOG=1"]
        sock.settimeout(0.05)
        with pytest.raises(TimeoutError):
            sock.recv(64)
        monkeypatch.setenv("WATCHDOG_PID", "1")  # the watchdog is another process's
        assert systemd.Watchdog().interval is None
