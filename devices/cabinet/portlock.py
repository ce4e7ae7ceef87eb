"""The cabinet's line lock (`devices.portlock`), refusing with LineBusy: a second agent or a technician's
`estate devices cabinet …` on a line the agent holds is told who holds it, and sends nothing."""

from __future__ import annotations

from pathlib import Path

from devices.cabinet.errors import LineBusy
from devices.portlock import PortLock as _PortLock
from devices.portlock import line_key, lock_path

__all__ = ["PortLock", "line_key", "lock_path"]


class PortLock(_PortLock):
    def __init__(self, url: str, port_url: str) -> None:
        def refusal(holder: str, path: Path) -> LineBusy:
            return LineBusy(
                f"cabinet line {url} is in use by {holder} (lock {path}); stop it first, or run the command on the "
                "machine's agent instead (串口已被占用)"
            )

        super().__init__(url, port_url, refusal)
