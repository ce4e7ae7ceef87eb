"""Acceptance: DLE EOT status for each state of the virtual printer; jobs to unfit printers fail clearly."""

from __future__ import annotations

import os
import socket
import threading
from collections.abc import Callable, Iterator

import pytest
from PIL import Image

from devices.printing import (
    CoverOpen,
    CoverState,
    PaperOut,
    PaperState,
    PrinterOffline,
    PrinterStatusUnknown,
    ReleaseSlipPrint,
    open_printer,
    print_slip,
    query_status,
)
from devices.printing import commands as cmd
from devices.printing.status import decode_status
from devices.printing.virtual import Interpreter, PrinterState, VirtualPrinter, status_reply

EXPECTED = {
    PrinterState.OK: (True, PaperState.OK, CoverState.CLOSED),
    PrinterState.NEAR_END: (True, PaperState.NEAR_END, CoverState.CLOSED),
    PrinterState.OUT: (False, PaperState.OUT, CoverState.CLOSED),
    PrinterState.COVER_OPEN: (False, PaperState.OK, CoverState.OPEN),
    PrinterState.SILENT: (None, PaperState.UNKNOWN, CoverState.UNKNOWN),
}


@pytest.mark.parametrize("state", list(PrinterState))
def test_status_of_each_state_over_tcp(virtual_printer: VirtualPrinter, state: PrinterState) -> None:
    virtual_printer.state = state
    printer = open_printer(virtual_printer.url, timeout=0.3)
    try:
        status = query_status(printer, timeout=0.3)
    finally:
        printer.close()
    assert (status.online, status.paper, status.cover) == EXPECTED[state]
    assert status.ready is (state in (PrinterState.OK, PrinterState.NEAR_END))


def test_typical_replies_from_the_hardware_notes() -> None:
    assert decode_status(0x12, 0x12, 0x12).ready
    assert decode_status(0x12, 0x12, 0x12 | 0x0C).paper is PaperState.NEAR_END
    assert decode_status(0x1A, 0x32, 0x12 | 0x60).paper is PaperState.OUT


@pytest.mark.parametrize("garbage", [0xFF, 0x00, 0x80])
def test_a_reply_that_is_not_a_status_byte_means_unknown(garbage: int) -> None:
    status = decode_status(garbage, garbage, garbage)
    assert status.online is None and status.paper is PaperState.UNKNOWN and not status.ready


def test_write_only_backends_report_unknown_not_ok(tmp_path) -> None:
    for url in ("dummy://", f"file://{tmp_path}/out.bin"):
        status = query_status(open_printer(url))
        assert status.online is None and status.paper is PaperState.UNKNOWN


@pytest.mark.parametrize(
    ("state", "error", "cause"),
    [
        (PrinterState.OUT, PaperOut, "out of paper"),
        (PrinterState.COVER_OPEN, CoverOpen, "cover open"),
        (PrinterState.SILENT, PrinterStatusUnknown, "did not answer"),
    ],
)
def test_a_job_to_an_unfit_printer_is_not_sent_and_says_why(
    virtual_printer: VirtualPrinter,
    slip_factory: Callable[..., ReleaseSlipPrint],
    state: PrinterState,
    error: type[Exception],
    cause: str,
) -> None:
    virtual_printer.state = state
    with pytest.raises(error, match=cause) as caught:
        print_slip(virtual_printer.url, slip_factory(), timeout=0.3)
    assert not caught.value.job_sent
    assert "nothing was sent" in str(caught.value)
    with pytest.raises(TimeoutError):
        virtual_printer.wait_for_jobs(1, timeout=0.2)


def test_an_unreachable_printer_is_a_clear_offline_error(slip_factory: Callable[..., ReleaseSlipPrint]) -> None:
    with socket.socket() as probe:  # a port with nobody listening
        probe.bind(("127.0.0.1", 0))
        url = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    with pytest.raises(PrinterOffline, match="cannot reach printer") as caught:
        print_slip(url, slip_factory(), timeout=0.5)
    assert not caught.value.job_sent


def test_paper_running_out_during_the_job_is_reported_once_and_never_reprinted(
    virtual_printer: VirtualPrinter, slip_factory: Callable[..., ReleaseSlipPrint]
) -> None:
    def roll_ends(_record: object) -> None:
        virtual_printer.state = PrinterState.OUT

    virtual_printer.on_job = roll_ends
    with pytest.raises(PaperOut, match="may be incomplete") as caught:
        print_slip(virtual_printer.url, slip_factory(), timeout=0.3)
    assert caught.value.job_sent
    jobs = virtual_printer.wait_for_jobs(1)
    assert len(jobs) == 1 and jobs[0].printed


def test_a_printer_that_stops_answering_after_the_job_is_not_taken_as_ok(
    virtual_printer: VirtualPrinter, slip_factory: Callable[..., ReleaseSlipPrint]
) -> None:
    def hangs(_record: object) -> None:
        virtual_printer.state = PrinterState.SILENT

    virtual_printer.on_job = hangs
    with pytest.raises(PrinterStatusUnknown) as caught:
        print_slip(virtual_printer.url, slip_factory(), timeout=0.3)
    assert caught.value.job_sent
    assert len(virtual_printer.wait_for_jobs(1)) == 1


@pytest.fixture
def serial_printer_pty() -> Iterator[tuple[str, dict[str, PrinterState]]]:
    """A pseudo-terminal with the virtual printer's interpreter on the master end, for the serial backend."""
    master, slave = os.openpty()
    holder = {"state": PrinterState.OK}
    stop = threading.Event()
    interpreter = Interpreter(576, lambda: holder["state"], lambda job: None, lambda: 1)

    def serve() -> None:
        while not stop.is_set():
            try:
                data = os.read(master, 4096)
            except OSError:
                return
            reply = interpreter.feed(data)
            if reply:
                os.write(master, reply)

    thread = threading.Thread(target=serve, daemon=True)
    thread.start()
    yield os.ttyname(slave), holder
    stop.set()
    os.close(slave)
    os.close(master)
    thread.join(timeout=5)


@pytest.mark.parametrize("state", [PrinterState.OK, PrinterState.OUT, PrinterState.SILENT])
def test_status_over_a_serial_line(serial_printer_pty, state: PrinterState) -> None:
    path, holder = serial_printer_pty
    holder["state"] = state
    printer = open_printer(f"serial://{path}?baudrate=115200", timeout=0.3)
    try:
        status = query_status(printer, timeout=0.3)
    finally:
        printer.close()
    assert (status.online, status.paper, status.cover) == EXPECTED[state]


def test_status_replies_follow_the_epson_bit_layout() -> None:
    for state in PrinterState:
        replies = [status_reply(state, n) for n in (1, 2, 4)]
        if state is PrinterState.SILENT:
            assert replies == [None, None, None]
            continue
        assert all(r is not None and r[0] & 0x93 == 0x12 for r in replies)
        decoded = decode_status(*(r[0] for r in replies if r is not None))
        assert (decoded.online, decoded.paper, decoded.cover) == EXPECTED[state]


def test_a_printer_switched_off_mid_job_is_an_error_saying_the_job_was_sent(
    slip_factory: Callable[..., ReleaseSlipPrint],
) -> None:
    """The network backend alone would lose such a job silently; the status check after it catches it."""
    listener = socket.create_server(("127.0.0.1", 0))
    got_job = threading.Event()

    def answer_then_power_off() -> None:
        conn, _ = listener.accept()
        with conn:
            for n in (1, 2, 4):  # the status queries before the job
                query = b""
                while len(query) < 3:
                    query += conn.recv(3 - len(query))
                assert query == bytes([0x10, 0x04, n])
                conn.sendall(b"\x12")
            conn.recv(1)
            got_job.set()

    thread = threading.Thread(target=answer_then_power_off, daemon=True)
    thread.start()
    url = f"tcp://127.0.0.1:{listener.getsockname()[1]}"
    try:
        with pytest.raises(PrinterOffline, match="before printing") as caught:
            print_slip(url, slip_factory(), timeout=1.0)
    finally:
        thread.join(timeout=5)
        listener.close()
    assert got_job.is_set()
    assert caught.value.job_sent


def _spelling_dle_eot_1(height: int, row: int) -> Image.Image:
    """A blank image whose dots in `row` spell 10 04 01 (ink = 1): x = 3, 13 and 23."""
    image = Image.new("1", (576, height), 1)
    for x in (3, 13, 23):
        image.putpixel((x, row), 0)
    return image


def test_image_dots_that_spell_a_status_query_do_not_shift_the_status_read_after_the_job(
    virtual_printer: VirtualPrinter,
) -> None:
    """A healthy printer answers 0x16 to DLE EOT 1; read as the answer to DLE EOT 2 it would say "cover open"."""
    virtual_printer.print_speed_mm_s = 150  # the stray answer comes as the image prints, after the job was sent
    job = cmd.INIT + cmd.raster_image(_spelling_dle_eot_1(300, 200), 576) + cmd.FEED_AND_CUT
    printer = open_printer(virtual_printer.url, timeout=2.0)
    try:
        printer._raw(job)
        status = query_status(printer, timeout=2.0)
    finally:
        printer.close()
    assert (status.online, status.paper, status.cover) == EXPECTED[PrinterState.OK]
    [record] = virtual_printer.wait_for_jobs(1)
    assert record.printed and not record.errors


def test_a_stray_status_byte_already_on_its_way_is_not_taken_as_the_answer(virtual_printer: VirtualPrinter) -> None:
    """Image data from elsewhere (another program, an older kiosk) may still make the printer answer unasked."""
    virtual_printer.print_speed_mm_s = 150
    _, data = cmd.raster_rows(Image.new("1", (576, 200), 1), 576)
    row = 150 * 72
    data = data[:row] + bytes([0x10, 0x04, 0x01]) + data[row + 3 :]
    raw_image = b"\x1dv0\x00" + bytes([72, 0, 200, 0]) + data
    printer = open_printer(virtual_printer.url, timeout=2.0)
    try:
        printer._raw(cmd.INIT + raw_image + cmd.FEED_AND_CUT)
        status = query_status(printer, timeout=2.0)
    finally:
        printer.close()
    assert (status.online, status.paper, status.cover) == EXPECTED[PrinterState.OK]
