"""Printers opened by URL, as pyserial's `serial_for_url` opens ports: one config string picks the transport."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qsl, urlsplit

import serial
from escpos import printer as backends
from escpos.escpos import Escpos
from escpos.exceptions import DeviceNotFoundError

from devices.portlock import PortLock
from devices.printing.errors import PrinterBusy, PrinterOffline, PrinterUnavailable, PrinterUrlError
from devices.printing.status import DEFAULT_TIMEOUT

ACCEPTED_FORMS = (
    "usb://VID:PID (hex, e.g. usb://04b8:0202)",
    "tcp://HOST[:PORT] (port 9100 by default)",
    "serial:///dev/ttyUSB0?baudrate=19200[&rtscts=1][&xonxoff=1][&dsrdtr=1]",
    "file:///path/to/output.bin",
    "dummy://",
)
_OPTIONS = {
    "usb": {"timeout", "in_ep", "out_ep"},
    "tcp": {"timeout"},
    "serial": {"baudrate", "timeout", "rtscts", "xonxoff", "dsrdtr"},
    "file": set(),
    "dummy": set(),
}


@dataclass(frozen=True)
class PrinterAddress:
    scheme: str
    target: str = ""  # host, device path or file path
    port: int = 0
    vendor_id: int = 0
    product_id: int = 0
    options: dict[str, str] = field(default_factory=dict)

    def option_float(self, name: str, default: float) -> float:
        try:
            return float(self.options.get(name, default))
        except ValueError:
            raise _bad(f"{name}={self.options[name]!r} is not a number") from None

    def option_flag(self, name: str) -> bool:
        return self.options.get(name, "0").lower() in ("1", "true", "yes", "on")


def _bad(reason: str) -> PrinterUrlError:
    forms = "; ".join(ACCEPTED_FORMS)
    return PrinterUrlError(f"打印机地址无效 / bad printer URL: {reason}. Accepted forms: {forms}")


def parse_printer_url(url: str) -> PrinterAddress:
    """Check a printer URL and take it apart; a PrinterUrlError names the accepted forms."""
    if "://" not in url:
        raise _bad(f"{url!r} has no scheme")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in _OPTIONS:
        raise _bad(f"unknown scheme {parts.scheme!r} in {url!r}")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    unknown = set(options) - _OPTIONS[scheme]
    if unknown:
        raise _bad(f"{scheme}:// does not take {', '.join(sorted(unknown))}")
    if scheme == "dummy":
        return PrinterAddress("dummy")
    if scheme == "usb":
        match = re.fullmatch(r"([0-9a-fA-F]{4}):([0-9a-fA-F]{4})", parts.netloc)
        if not match:
            raise _bad(f"{url!r} needs a vendor and product id as four hex digits each")
        return PrinterAddress("usb", vendor_id=int(match[1], 16), product_id=int(match[2], 16), options=options)
    if scheme == "tcp":
        try:
            host, port = parts.hostname, parts.port or 9100
        except ValueError:
            raise _bad(f"{url!r} has a bad port") from None
        if not host:
            raise _bad(f"{url!r} has no host")
        return PrinterAddress("tcp", target=host, port=port, options=options)
    path = parts.netloc + parts.path
    if not path:
        raise _bad(f"{url!r} has no path")
    if scheme == "serial":
        baud = options.get("baudrate", "9600")
        if not baud.isdigit():
            raise _bad(f"baudrate={baud!r} is not a number")
    return PrinterAddress(scheme, target=path, options=options)


def open_printer(url: str, timeout: float = DEFAULT_TIMEOUT) -> Escpos:
    """Open the printer at `url` on its python-escpos backend; the connection is open when this returns."""
    address = parse_printer_url(url)
    printer = _backend(address, timeout)
    where = f"{url} (port {address.port})" if address.scheme == "tcp" and f":{address.port}" not in url else url
    try:
        printer.open()
    except DeviceNotFoundError as exc:
        raise PrinterOffline(f"打印机无法连接 / cannot reach printer at {where}: {_reason(exc)}") from exc
    except OSError as exc:
        raise PrinterUnavailable(f"打印机无法打开 / cannot open printer at {where}: {_reason(exc)}") from exc
    return printer


def _reason(exc: BaseException) -> str:
    """Why opening failed, on one line: the system's own error when there is one (python-escpos wraps it in a
    message with a line break that also cuts off the port)."""
    cause = exc.__cause__ or exc.__context__
    if isinstance(cause, OSError) and cause.strerror:
        return cause.strerror
    return " ".join(str(exc).split())


# python-escpos has inline annotations but no py.typed marker, so to mypy its classes are Any.
class SerialPrinter(backends.Serial):  # type: ignore[misc]
    """python-escpos's serial backend, with RTS/CTS flow control when the URL asks for it, and the line held by one
    program at a time: a lock file naming the holder (`devices.portlock`) and the port itself opened exclusively
    (pyserial's flock), so a second program is refused before it sends a byte."""

    rtscts = False
    _lock: PortLock | None = None

    def open(self, raise_not_found: bool = True) -> None:
        if self._device and self._device.is_open:
            self.close()
        if self._lock is None:
            url = f"serial://{self.devfile}"

            def refusal(holder: str, path: Path) -> PrinterBusy:
                return PrinterBusy(
                    f"打印机串口已被占用 / printer {url} is in use by {holder} (lock {path}); stop that program first"
                )

            self._lock = PortLock(url, self.devfile, refusal)
        self._lock.acquire()
        try:
            self.device: serial.Serial | None = serial.Serial(
                port=self.devfile,
                baudrate=self.baudrate,
                bytesize=self.bytesize,
                parity=self.parity,
                stopbits=self.stopbits,
                timeout=self.timeout,
                xonxoff=self.xonxoff,
                dsrdtr=self.dsrdtr,
                rtscts=self.rtscts,
                exclusive=True,
            )
        except (ValueError, serial.SerialException) as exc:
            self.device = None
            self._lock.release()
            raise DeviceNotFoundError(f"Unable to open serial printer on {self.devfile}:\n{exc}") from exc

    def close(self) -> None:
        try:
            super().close()
        finally:
            if self._lock is not None:
                self._lock.release()


class UsbPrinter(backends.Usb):  # type: ignore[misc]
    """python-escpos's USB backend without its reset on every open: a reset drops the printer off the bus for a
    moment (the job after it can be lost, the kernel logs a disconnect), and the kiosk opens the printer for every
    status check. The configuration is set only when the device has none yet (just plugged in)."""

    def _configure_usb(self) -> None:
        if not self.device:
            return
        import usb.core

        try:
            self.device.get_active_configuration()
        except usb.core.USBError:
            try:
                self.device.set_configuration()
            except usb.core.USBError as exc:
                raise DeviceNotFoundError(f"cannot configure USB printer: {exc}") from exc


def _backend(address: PrinterAddress, timeout: float) -> Escpos:
    if address.scheme == "dummy":
        return backends.Dummy()
    if address.scheme == "file":
        return backends.File(devfile=address.target)
    if address.scheme == "tcp":
        return backends.Network(
            host=address.target, port=address.port, timeout=address.option_float("timeout", timeout)
        )
    if address.scheme == "serial":
        # python-escpos never turns RTS/CTS on itself; a printer wired for it needs rtscts=1.
        serial_printer = SerialPrinter(
            devfile=address.target,
            baudrate=int(address.options.get("baudrate", "9600")),
            timeout=address.option_float("timeout", timeout),
            xonxoff=address.option_flag("xonxoff"),
            dsrdtr=address.option_flag("dsrdtr"),
        )
        serial_printer.rtscts = address.option_flag("rtscts")
        return serial_printer
    if not backends.Usb.is_usable():
        raise PrinterUnavailable("usb:// needs pyusb (pip install pyusb) and libusb")
    return UsbPrinter(
        address.vendor_id,
        address.product_id,
        # The USB backend's default timeout 0 waits forever; status queries must end.
        timeout=int(address.option_float("timeout", timeout) * 1000),
        in_ep=int(address.options.get("in_ep", "0x82"), 0),
        out_ep=int(address.options.get("out_ep", "0x01"), 0),
    )
