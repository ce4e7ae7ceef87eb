"""One program at a time on a printer's serial line: a second process is told who holds it and sends nothing."""

from __future__ import annotations

import os
import select
import subprocess
import sys
import tty
from collections.abc import Iterator
from pathlib import Path

import pytest

from devices.printing.urls import SerialPrinter, open_printer

CHECKOUT = str(Path(__file__).resolve().parents[2])
DEVICES_CLI = "from devices.cli import app; app(prog_name='estate devices')"


@pytest.fixture
def pty_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[int, str]]:
    monkeypatch.setenv("ESTATE_CABINET_LOCK_DIR", str(tmp_path / "locks"))
    master, slave = os.openpty()
    tty.setraw(slave)
    yield master, os.ttyname(slave)
    os.close(slave)
    os.close(master)


def _pending(master: int) -> bytes:
    data = b""
    while select.select([master], [], [], 0.2)[0]:
        data += os.read(master, 4096)
    return data


def test_a_second_process_on_the_printers_serial_port_is_refused_naming_the_holder(pty_line) -> None:
    master, path = pty_line
    holder = open_printer(f"serial://{path}?baudrate=19200", timeout=0.3)
    assert isinstance(holder, SerialPrinter)
    try:
        second = subprocess.run(
            # `estate devices printer test`, without the server's commands to import
            [sys.executable, "-c", DEVICES_CLI, "printer", "test", "--printer", f"serial://{path}"],
            capture_output=True,
            text=True,
            env={**os.environ, "PYTHONPATH": CHECKOUT},
            timeout=60,
        )
        assert second.returncode != 0
        assert f"is in use by PID {os.getpid()}" in second.stderr, second.stderr
        assert "Traceback" not in second.stderr
        assert _pending(master) == b""  # not one byte of the second program's slip reached the line
        holder._raw(b"\x1b@")
        assert _pending(master) == b"\x1b@"  # the holder still has the line
    finally:
        holder.close()
    after = open_printer(f"serial://{path}", timeout=0.3)  # released: the next program gets the line
    after.close()
