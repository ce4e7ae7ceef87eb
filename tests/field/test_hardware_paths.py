"""Hardware paths: a USB printer opened without a reset, camera options for pixel format, size and rate, and the
gate's data folder closed to other users."""

from __future__ import annotations

from pathlib import Path

import pytest
import usb.core

from devices.camera import CameraUrlError, parse_camera_url
from devices.printing.urls import UsbPrinter
from gate.storage import open_storage


class PluggedPrinter:
    """What pyusb's Device offers the backend: a configuration (set or not) and a reset, counted."""

    def __init__(self, configured: bool) -> None:
        self.configured = configured
        self.calls: list[str] = []

    def get_active_configuration(self) -> object:
        self.calls.append("get_active_configuration")
        if not self.configured:
            raise usb.core.USBError("Configuration not set")
        return object()

    def set_configuration(self) -> None:
        self.calls.append("set_configuration")
        self.configured = True

    def reset(self) -> None:
        self.calls.append("reset")


@pytest.mark.parametrize("configured", [True, False], ids=["already configured", "just plugged in"])
def test_opening_a_usb_printer_never_resets_it(configured: bool) -> None:
    printer = UsbPrinter(0x04B8, 0x0202, timeout=1000)
    device = PluggedPrinter(configured)
    printer.device = device
    printer._configure_usb()
    printer._configure_usb()  # the kiosk opens the printer again for every status check
    printer.device = False  # nothing for pyusb to release
    assert "reset" not in device.calls
    assert device.calls.count("set_configuration") == (0 if configured else 1)


def test_v4l2_pixel_format_size_rate_and_device_paths() -> None:
    url = parse_camera_url("v4l2://0?format=MJPG&width=1920&height=1080&fps=30")
    assert url.target == "0" and url.options["format"] == "MJPG" and url.number("width") == 1920
    assert parse_camera_url("v4l2:///dev/estate-camera?format=yuyv").target == "/dev/estate-camera"
    assert parse_camera_url("v4l2:///dev/video2").target == "2"
    for bad, says in (
        ("v4l2://0?format=H264", "MJPG or YUYV"),
        ("v4l2://0?width=wide", "width='wide' is not a number"),
        ("v4l2://front", "camera number or device path"),
    ):
        with pytest.raises(CameraUrlError, match=says):
            parse_camera_url(bad)


def test_the_gate_data_folder_is_its_users_alone(tmp_path: Path) -> None:
    folder = tmp_path / "gate"
    folder.mkdir(mode=0o755)
    open_storage(folder).close()
    assert folder.stat().st_mode & 0o777 == 0o700
