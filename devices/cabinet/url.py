"""Cabinet addresses as URLs, handed to pyserial's `serial_for_url` (so a TCP↔RS485 bridge is just `socket://`)."""

from __future__ import annotations

import re
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from devices.cabinet.errors import CabinetUrlError

ACCEPTED_FORMS = (
    "serial:///dev/ttyUSB1?baudrate=9600",
    "/dev/ttyUSB1",
    "COM3",
    "socket://HOST:PORT (TCP↔RS485 bridge)",
    "rfc2217://HOST:PORT",
    "spy:///dev/ttyUSB1 (logs the traffic)",
    "loop://",
)
# pyserial URL handlers that make sense for a lock-board bus.
PASS_THROUGH = {"socket", "rfc2217", "spy", "loop", "hwgrep", "alt", "cp2110"}
_WINDOWS_PORT = re.compile(r"^COM\d+$", re.IGNORECASE)


@dataclass(frozen=True)
class CabinetUrl:
    """What to hand to pyserial: the port URL and a baud rate from the URL, if it named one."""

    port_url: str
    baudrate: int | None


def _bad(url: str, why: str) -> CabinetUrlError:
    forms = "; ".join(ACCEPTED_FORMS)
    return CabinetUrlError(f"bad cabinet URL {url!r}: {why}. Accepted forms: {forms} (柜子地址格式错误)")


def _baudrate(url: str, query: str) -> tuple[int | None, str]:
    """Take `baudrate=` out of the query (pyserial's socket handler rejects unknown options)."""
    options = parse_qs(query, keep_blank_values=True)
    raw = options.pop("baudrate", None)
    rest = "&".join(f"{k}={v}" for k, values in options.items() for v in values)
    if raw is None:
        return None, rest
    try:
        value = int(raw[-1])
    except ValueError:
        raise _bad(url, f"baudrate {raw[-1]!r} is not a number") from None
    if value <= 0:
        raise _bad(url, "baudrate must be positive")
    return value, rest


def parse_cabinet_url(url: str) -> CabinetUrl:
    url = url.strip()
    if not url:
        raise _bad(url, "it is empty")
    if url.startswith("/") or _WINDOWS_PORT.match(url):
        return CabinetUrl(url, None)
    if "://" not in url:
        raise _bad(url, "it is neither a device path nor a URL")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    baudrate, query = _baudrate(url, parts.query)
    if scheme == "serial":
        path = parts.path
        if not path or parts.netloc:
            raise _bad(url, "serial:// needs a device path, as in serial:///dev/ttyUSB1")
        return CabinetUrl(path, baudrate)
    if scheme not in PASS_THROUGH:
        raise _bad(url, f"unknown scheme {scheme!r}")
    if scheme in {"socket", "rfc2217"}:
        try:
            port = parts.port
        except ValueError:
            port = None
        if not parts.hostname or port is None:
            raise _bad(url, f"{scheme}:// needs HOST:PORT")
    base = url.split("?", 1)[0]
    return CabinetUrl(f"{base}?{query}" if query else base, baudrate)
