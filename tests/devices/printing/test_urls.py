"""Printers opened by URL; a bad URL names the accepted forms."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable
from pathlib import Path

import pytest
from escpos.printer import Dummy, File, Network

from devices.printing import (
    PrinterOffline,
    PrinterUnavailable,
    PrinterUrlError,
    ReleaseSlipPrint,
    open_printer,
    parse_printer_url,
    print_slip,
    slip_bytes,
)
from devices.printing.urls import SerialPrinter
from devices.printing.virtual import VirtualPrinter


@pytest.mark.parametrize(
    ("url", "scheme", "target", "port"),
    [
        ("tcp://10.0.0.5:9100", "tcp", "10.0.0.5", 9100),
        ("tcp://printer.lobby", "tcp", "printer.lobby", 9100),
        ("serial:///dev/ttyUSB0?baudrate=19200", "serial", "/dev/ttyUSB0", 0),
        ("file:///tmp/slip.bin", "file", "/tmp/slip.bin", 0),
        ("dummy://", "dummy", "", 0),
    ],
)
def test_accepted_forms(url: str, scheme: str, target: str, port: int) -> None:
    address = parse_printer_url(url)
    assert (address.scheme, address.target, address.port) == (scheme, target, port)


def test_usb_ids_are_hex() -> None:
    address = parse_printer_url("usb://04b8:0202?timeout=1.5")
    assert (address.vendor_id, address.product_id) == (0x04B8, 0x0202)


@pytest.mark.parametrize(
    "url",
    [
        "10.0.0.5:9100",
        "http://10.0.0.5",
        "tcp://",
        "tcp://host:notaport",
        "usb://4b8:202",
        "usb://printer",
        "serial://",
        "serial:///dev/ttyUSB0?baudrate=fast",
        "serial:///dev/ttyUSB0?speed=9600",
        "file://",
        "dummy://?x=1",
    ],
)
def test_bad_urls_name_the_accepted_forms(url: str) -> None:
    with pytest.raises(PrinterUrlError) as caught:
        open_printer(url)
    message = str(caught.value)
    for form in ("usb://VID:PID", "tcp://HOST", "serial:///dev/", "file://", "dummy://"):
        assert form in message


def test_backends_by_scheme(tmp_path: Path, virtual_printer: VirtualPrinter) -> None:
    assert isinstance(open_printer("dummy://"), Dummy)
    assert isinstance(open_printer(f"file://{tmp_path}/a.bin"), File)
    network = open_printer(f"{virtual_printer.url}?timeout=0.5")
    assert isinstance(network, Network) and network.timeout == 0.5
    network.close()


def test_serial_options_reach_the_port() -> None:
    master, slave = os.openpty()
    try:
        printer = open_printer(f"serial://{os.ttyname(slave)}?baudrate=19200&rtscts=1")
        assert isinstance(printer, SerialPrinter)
        assert printer.device.baudrate == 19200 and printer.device.rtscts and not printer.device.dsrdtr
        printer.close()
    finally:
        os.close(slave)
        os.close(master)


def test_file_printer_receives_the_job_bytes(tmp_path: Path, slip_factory: Callable[..., ReleaseSlipPrint]) -> None:
    out = tmp_path / "slip.bin"
    result = print_slip(f"file://{out}", slip_factory())
    assert out.read_bytes() == slip_bytes(slip_factory())
    assert not result.confirmed  # a file cannot say whether anything printed


def test_usb_without_a_device_is_a_clear_error() -> None:
    with pytest.raises(PrinterUnavailable, match="usb"):
        open_printer("usb://ffff:fffe")


def test_serial_device_that_does_not_exist_is_offline(tmp_path: Path) -> None:
    with pytest.raises(PrinterUnavailable, match="cannot reach printer"):
        open_printer(f"serial://{tmp_path}/ttyNONE?baudrate=9600")


def test_an_unreachable_printer_is_one_line_that_keeps_the_port() -> None:
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(PrinterOffline) as caught:
        open_printer(f"tcp://127.0.0.1:{port}", timeout=1.0)
    message = str(caught.value)
    assert "\n" not in message and f"tcp://127.0.0.1:{port}" in message and message.endswith("Connection refused")
