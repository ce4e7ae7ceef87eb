"""The simulated hardware `estate demo` runs beside the server: a virtual printer and a key-cabinet simulator."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import cv2

from devices.cabinet.profiles import BoardProfile, protocol_by_name
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from devices.printing import ApplicantKind, ReleaseSlipPrint, SlipItem, print_slip
from devices.printing.virtual import VirtualPrinter
from devices.qr.synthetic import FrameFactory, load_slip
from server.db.models import Estate, ReleaseSlip


@dataclass
class DemoDevices:
    printer: VirtualPrinter
    cabinet: CabinetSimulator
    cabinet_url: str
    notes: list[str] = field(default_factory=list)

    def stop(self) -> None:
        self.printer.stop()
        self.cabinet.stop()


def _printer(out: Path, host: str, port: int, notes: list[str]) -> VirtualPrinter:
    try:
        return VirtualPrinter(out, host=host, port=port).start()
    except OSError:
        notes.append(f"port {port} is busy; the virtual printer took a free port")
        return VirtualPrinter(out, host=host, port=0).start()


def _cabinet(host: str, port: int, notes: list[str]) -> tuple[CabinetSimulator, str]:
    stocked = SimCabinet.stocked(BoardProfile.default(protocol_by_name("xor485")), boards=2)
    try:
        simulator = CabinetSimulator(stocked, listen=f"{host}:{port}")  # binds its port here, not in start()
    except OSError:
        notes.append(f"port {port} is busy; the cabinet simulator took a free port")
        simulator = CabinetSimulator(stocked, listen=f"{host}:0")
    return simulator, simulator.start()


def start(data_dir: Path, host: str = "127.0.0.1", *, printer_port: int, cabinet_port: int) -> DemoDevices:
    """Start both simulators on localhost (port 0: any free port; a busy port falls back to a free one); printed
    slips land in `<data_dir>/printer` as .bin and .png, numbered on from earlier runs."""
    notes: list[str] = []
    printer = _printer(data_dir / "printer", host, printer_port, notes)
    cabinet, url = _cabinet(host, cabinet_port, notes)
    return DemoDevices(printer, cabinet, url, notes)


def film_slip(slip: ReleaseSlip, estate: Estate, printer: VirtualPrinter, folder: Path) -> Path:
    """Print `slip` on the virtual printer and hold the printout under a simulated camera: a folder of frames
    (upright, turned, degraded) the gate's `images://` camera reads."""
    printed = ReleaseSlipPrint(
        estate=estate.name,
        slip_number=slip.number,
        unit=slip.unit_code,
        applicant=slip.applicant_name,
        applicant_kind=ApplicantKind(slip.applicant_kind.value),
        issued_at=slip.issued_at,
        valid_until=slip.valid_until,
        items=tuple(SlipItem(i.name, i.quantity) for i in slip.items),
        qr_token=slip.token,
        timezone=estate.timezone,
    )
    before = len(printer.jobs)
    print_slip(printer.url, printed)
    job = printer.wait_for_jobs(before + 1)[-1]
    if job.png_path is None:
        raise RuntimeError(f"the virtual printer did not print slip {slip.number}")
    frames = FrameFactory(1, slip=load_slip(job.png_path, slip.token))
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("frame-*.png"):
        old.unlink()
    for n, frame in enumerate((frames.clean(0), frames.rotated(1), frames.degraded(2, 1))):
        cv2.imwrite(str(folder / f"frame-{n}.png"), frame.image)
    return folder
