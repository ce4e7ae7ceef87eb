"""Printing a slip at the front desk (R-REL-4): on an enrolled ESC/POS printer (the virtual one here), as the kiosk
prints it, and on office paper as a PDF with the stub and the customer copy; each print logged with who and where."""

from __future__ import annotations

import io
import json
import re
import socket
import struct
import zlib
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing import ReleaseSlipPrint
from devices.printing.virtual import VirtualPrinter
from devices.printing.virtual.status import PrinterState
from devices.qr import load_image, make_decoder
from server.api.slip_views import slip_out
from server.contract.printing import printable
from server.db.models import AuditEntry, DeviceKind, Estate, ReleaseSlip
from server.domain import devices
from server.domain.actors import Actor
from server.domain.errors import DomainError
from server.domain.slips import catalogue, issuing, printing
from tests.conftest import Household
from tests.server.slips.conftest import direct_slip

DESK = Actor("user", 7, "xiao.li")
# Printing does not depend on the database; the slips' rules run on both in their own tests.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


@pytest.fixture
def virtual(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(tmp_path / "printer") as printer:
        yield printer


def _printed(db: Session, estate: Estate, slip: ReleaseSlip) -> ReleaseSlipPrint:
    return printable(slip_out(slip, estate, catalogue.english_names(db, estate), with_print=True), estate.timezone)


def _prints(db: Session, slip: ReleaseSlip) -> list[tuple[str, dict]]:
    entries = db.scalars(
        select(AuditEntry)
        .where(AuditEntry.entity == "slip", AuditEntry.entity_id == str(slip.id), AuditEntry.action.like("slip.%print"))
        .order_by(AuditEntry.seq)
    )
    return [(e.action, json.loads(e.detail)) for e in entries]


def decoded_texts(path: Path) -> list[str | None]:
    return [d.text for d in make_decoder("zxing").decode(load_image(path))]


def test_a_desk_slip_prints_its_token_then_reprints_the_same_token_logged_with_who_and_where_r_rel_4(
    db: Session, estate: Estate, household: Household, virtual: VirtualPrinter
) -> None:
    """R-REL-4: the desk's printer prints the slip the kiosk would print; a reprint carries the same token."""
    slip = direct_slip(db, estate, household)
    printer = devices.enrol(db, DESK, estate, DeviceKind.printer, "前台一号", "服务中心", url=virtual.url)
    assert printing.print_at_desk(db, DESK, slip, _printed(db, estate, slip), printer) is False
    assert printing.print_at_desk(db, DESK, slip, _printed(db, estate, slip), printer) is True
    db.commit()
    first, second = virtual.wait_for_jobs(2)
    assert first.qr_payloads == second.qr_payloads == (slip.token.encode(),)
    assert first.png_path is not None and decoded_texts(first.png_path) == [slip.token]
    assert any("客户联" in line for line in first.text_lines)
    assert slip.printed_at is not None and slip.reprints == 1
    assert [(action, detail["printer"]) for action, detail in _prints(db, slip)] == [
        ("slip.print", "前台一号"),
        ("slip.reprint", "前台一号"),
    ]
    assert {e.actor for e in db.scalars(select(AuditEntry).where(AuditEntry.action.like("slip.%print")))} == {
        "user:7:xiao.li"
    }


def test_a_printer_out_of_paper_says_so_and_the_slip_stays_unprinted(
    db: Session, estate: Estate, household: Household, virtual: VirtualPrinter
) -> None:
    slip = direct_slip(db, estate, household)
    printer = devices.enrol(db, DESK, estate, DeviceKind.printer, "前台一号", url=virtual.url)
    db.commit()
    virtual.state = PrinterState.OUT
    with pytest.raises(DomainError) as refused:
        printing.print_at_desk(db, DESK, slip, _printed(db, estate, slip), printer)
    db.rollback()
    assert refused.value.code == "printer_failed" and refused.value.status == 503
    assert "前台一号" in refused.value.zh and "缺纸" in refused.value.zh
    assert "未打印" in refused.value.zh
    db.refresh(slip)
    assert slip.printed_at is None and slip.reprints == 0 and _prints(db, slip) == []
    virtual.state = PrinterState.OK  # paper loaded: the same slip prints
    assert printing.print_at_desk(db, DESK, slip, _printed(db, estate, slip), printer) is False
    assert virtual.wait_for_jobs(1)[0].qr_payloads == (slip.token.encode(),)


def test_an_unreachable_printer_is_a_clear_error(db: Session, estate: Estate, household: Household) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    slip = direct_slip(db, estate, household)
    printer = devices.enrol(db, DESK, estate, DeviceKind.printer, "前台二号", url=f"tcp://127.0.0.1:{port}")
    with pytest.raises(DomainError) as refused:
        printing.print_at_desk(db, DESK, slip, _printed(db, estate, slip), printer)
    assert refused.value.code == "printer_failed" and "前台二号" in refused.value.zh
    assert slip.printed_at is None and slip.reprints == 0


def test_a_used_or_cancelled_slip_is_not_printed_again(
    db: Session, estate: Estate, household: Household, virtual: VirtualPrinter
) -> None:
    slip = direct_slip(db, estate, household)
    issuing.cancel(db, DESK, slip, "写错了")
    printer = devices.enrol(db, DESK, estate, DeviceKind.printer, "前台一号", url=virtual.url)
    with pytest.raises(DomainError) as refused:
        printing.print_at_desk(db, DESK, slip, _printed(db, estate, slip), printer)
    assert refused.value.code == "not_reprintable" and virtual.jobs == []


def test_a_printer_is_enrolled_by_a_url_and_needs_no_token(db: Session, estate: Estate) -> None:
    with pytest.raises(DomainError) as bad:
        devices.enrol(db, DESK, estate, DeviceKind.printer, "前台一号", url="lpt1")
    assert bad.value.code == "bad_printer_url" and "tcp://" in bad.value.en
    printer = devices.enrol(db, DESK, estate, DeviceKind.printer, "前台一号", url=" tcp://10.0.0.5:9100 ")
    assert printer.url == "tcp://10.0.0.5:9100" and printing.printers(db, estate) == [printer]
    with pytest.raises(DomainError) as no_token:
        devices.issue_token(db, DESK, printer)
    assert no_token.value.code == "printer_has_no_token"


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def pdf_images(pdf: bytes) -> list[np.ndarray]:
    """The grey images fpdf2 embedded in a PDF. Their streams are PNG scanlines (Flate, predictor 15), so each is
    wrapped back into a PNG file and read by Pillow."""
    images = []
    for match in re.finditer(rb"<<\n(/BitsPerComponent 8\n/ColorSpace /DeviceGray\n.*?)>>\nstream\n", pdf, re.S):
        header = match[1].decode("latin-1")
        width, height, length = (int(re.search(rf"/{k} (\d+)", header)[1]) for k in ("Width", "Height", "Length"))  # type: ignore[index]
        idat = pdf[match.end() : match.end() + length]
        png = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0))
        png += _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")
        images.append(np.asarray(Image.open(io.BytesIO(png)).convert("L")))
    return images
