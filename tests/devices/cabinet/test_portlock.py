"""One program at a time on a cabinet line: the lock names the line by the device it reaches, and its holder."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from devices.cabinet.errors import LineBusy
from devices.cabinet.portlock import PortLock, line_key


def test_every_name_of_one_device_is_one_line(tmp_path: Path) -> None:
    link = tmp_path / "usb-FTDI_FT232R-if00-port0"
    link.symlink_to("/dev/null")
    assert line_key(str(link)) == line_key("/dev/null") == line_key("spy:///dev/null?color")
    assert line_key("socket://10.0.0.5:7000?logging=debug") == "socket://10.0.0.5:7000"


def test_the_second_holder_is_refused_and_told_who_has_the_line(tmp_path: Path) -> None:
    link = tmp_path / "ttyCABINET"
    link.symlink_to("/dev/null")
    first = PortLock("serial:///dev/null", "/dev/null")
    first.acquire()
    try:
        with pytest.raises(LineBusy, match=rf"serial://{link} is in use by PID {os.getpid()} \("):
            PortLock(f"serial://{link}", str(link)).acquire()
    finally:
        first.release()
    again = PortLock(f"serial://{link}", str(link))
    again.acquire()  # free once the holder let go
    again.release()
