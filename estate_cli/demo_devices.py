"""The simulated hardware `estate demo` runs beside the server: a virtual printer and a key-cabinet simulator."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import cv2

from devices.cabinet.profiles import BoardProfile, protocol_by_name
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from devices.cabinet.tags import raw_tag
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


def _stocked(boards: Sequence[tuple[int, int]] | None, keys: Sequence[tuple[str, int, int, str]]) -> SimCabinet:
    """XOR 485 boards as the register lists them (address, channels), each registered key in its home slot with
    its tag; without a register, two boards with a key in every slot."""
    spec = protocol_by_name("xor485")
    if not boards:
        return SimCabinet.stocked(BoardProfile.default(spec), boards=2)
    channels = max(c for _, c in boards)
    cabinet = SimCabinet(
        BoardProfile.default(spec, channels=channels), [a for a, _ in boards], channels, close_after=3.0
    )
    for _label, board, slot, tag in keys:
        cabinet.put_key(board, slot, raw_tag(tag))
    return cabinet


def _cabinet(host: str, port: int, notes: list[str], stocked: SimCabinet) -> tuple[CabinetSimulator, str]:
    try:
        simulator = CabinetSimulator(stocked, listen=f"{host}:{port}")  # binds its port here, not in start()
    except OSError:
        notes.append(f"port {port} is busy; the cabinet simulator took a free port")
        simulator = CabinetSimulator(stocked, listen=f"{host}:0")
    return simulator, simulator.start()


def start(
    data_dir: Path,
    host: str = "127.0.0.1",
    *,
    printer_port: int,
    cabinet_port: int,
    cabinet_boards: Sequence[tuple[int, int]] | None = None,
    cabinet_keys: Sequence[tuple[str, int, int, str]] = (),
) -> DemoDevices:
    """Start both simulators on localhost (port 0: any free port; a busy port falls back to a free one); printed
    slips land in `<data_dir>/printer` as .bin and .png, numbered on from earlier runs. The cabinet has the boards
    `cabinet_boards` (address, channels) with each of `cabinet_keys` (label, board, slot, tag) in its slot."""
    notes: list[str] = []
    printer = _printer(data_dir / "printer", host, printer_port, notes)
    cabinet, url = _cabinet(host, cabinet_port, notes, _stocked(cabinet_boards, cabinet_keys))
    return DemoDevices(printer, cabinet, url, notes)


def agent_config(
    folder: Path, cabinet_url: str, server_url: str, boards: Sequence[tuple[int, int]], panel: str = "keyboard"
) -> Path:
    """The cabinet agent's config file for the demo's simulator: its boards as the register has them, its data in
    `folder`, the panel on standard input (staff type their card or PIN, and `borrow`, in the demo's terminal)."""
    folder.mkdir(parents=True, exist_ok=True)
    lines = [
        "[cabinet]",
        f"cabinet = {json.dumps(cabinet_url)}",
        'protocol = "xor485"',
        f"server = {json.dumps(server_url)}",
        f"data_dir = {json.dumps(str(folder))}",
        f"panel = {json.dumps(panel)}",
    ]
    for address, channels in boards or [(1, 24), (2, 24)]:
        lines += ["", "[[cabinet.boards]]", f"address = {address}", f"channels = {channels}"]
    path = folder / "cabinet.toml"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


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
