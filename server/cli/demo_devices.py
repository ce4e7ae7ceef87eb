"""The simulated hardware `estate demo` runs beside the server: a virtual printer and a key-cabinet simulator."""

from __future__ import annotations

import contextlib
from dataclasses import dataclass, field
from pathlib import Path

from devices.cabinet.profiles import BoardProfile, protocol_by_name
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from devices.printing.virtual import VirtualPrinter

PRINTER_PORT = 9100
CABINET_PORT = 7000


@dataclass
class DemoDevices:
    printer: VirtualPrinter
    cabinet: CabinetSimulator
    cabinet_url: str
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.printer.stop()
        self.cabinet.stop()


def _printer(out: Path, host: str, notes: list[str]) -> VirtualPrinter:
    try:
        return VirtualPrinter(out, host=host, port=PRINTER_PORT).start()
    except OSError:
        notes.append(f"port {PRINTER_PORT} is busy; the virtual printer took a free port")
        return VirtualPrinter(out, host=host, port=0).start()


def _cabinet(host: str, notes: list[str]) -> tuple[CabinetSimulator, str]:
    profile = BoardProfile.default(protocol_by_name("xor485"))
    for port in (CABINET_PORT, 0):
        simulator = CabinetSimulator(SimCabinet.stocked(profile, boards=2), listen=f"{host}:{port}")
        with contextlib.suppress(OSError):
            return simulator, simulator.start()
        notes.append(f"port {CABINET_PORT} is busy; the cabinet simulator took a free port")
    raise OSError("the cabinet simulator found no port to listen on")


def start(data_dir: Path, host: str = "127.0.0.1") -> DemoDevices:
    """Start both simulators on localhost; printed slips land in `<data_dir>/printer` as .bin and .png."""
    notes: list[str] = []
    printer = _printer(data_dir / "printer", host, notes)
    cabinet, url = _cabinet(host, notes)
    return DemoDevices(printer, cabinet, url, notes)
