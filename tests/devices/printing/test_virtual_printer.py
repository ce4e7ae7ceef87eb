"""The virtual printer's interpreter: what it understands, what it refuses, and bytes split anywhere."""

from __future__ import annotations

import logging
import socket
from collections.abc import Callable

import numpy as np
import pytest
from escpos.printer import Dummy
from PIL import Image

from devices.printing import ReleaseSlipPrint, slip_bytes
from devices.printing import commands as cmd
from devices.printing.virtual import Interpreter, Job, PrinterState, VirtualPrinter


def run(data: bytes, chunk: int | None = None, state: PrinterState = PrinterState.OK) -> tuple[list[Job], bytes]:
    jobs: list[Job] = []
    counter = iter(range(1, 1000))
    interpreter = Interpreter(576, lambda: state, jobs.append, lambda: next(counter))
    replies = b""
    step = chunk or len(data) or 1
    for start in range(0, len(data), step):
        replies += interpreter.feed(data[start : start + step])
    interpreter.close()
    return jobs, replies


def test_bytes_split_anywhere_give_the_same_paper(slip_factory: Callable[..., ReleaseSlipPrint]) -> None:
    data = slip_bytes(slip_factory())
    [whole], _ = run(data)
    [bytewise], _ = run(data, chunk=1)
    [odd], _ = run(data, chunk=7)
    assert whole.paper and bytewise.paper and odd.paper
    assert whole.paper.text_lines == bytewise.paper.text_lines == odd.paper.text_lines
    assert np.array_equal(np.array(whole.paper.image()), np.array(bytewise.paper.image()))
    assert whole.qr_payloads == bytewise.qr_payloads == odd.qr_payloads


def test_chinese_mode_in_and_out() -> None:
    data = cmd.INIT + cmd.CHINESE_ON + "中文 ABC".encode("gb18030") + cmd.LF + cmd.CHINESE_OFF + b"plain\n"
    data += cmd.FEED_AND_CUT
    [job], _ = run(data)
    assert job.paper is not None and job.paper.text_lines == ["中文 ABC", "plain"]
    assert job.cut and not job.errors


def test_gb_bytes_outside_chinese_mode_are_refused_with_a_logged_error(caplog: pytest.LogCaptureFixture) -> None:
    data = cmd.INIT + "中文".encode("gb18030") + cmd.LF + b"after\n" + cmd.FEED_AND_CUT
    with caplog.at_level(logging.ERROR):
        [job], _ = run(data)
    assert job.errors and "outside Chinese mode" in job.errors[0]
    assert "outside Chinese mode" in caplog.text
    assert job.paper is not None and job.paper.text_lines == []  # nothing after the refusal is guessed at
    assert bytes(job.data) == data  # but every byte is kept in the job file


@pytest.mark.parametrize(
    "unknown",
    [b"\x1b~\x01", b"\x1d\x7f", b"\x1c\x70\x01\x00", b"\x07", b"\x1d(L\x02\x000\x32"],
)
def test_unknown_commands_are_refused_not_guessed(unknown: bytes, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.ERROR):
        [job], _ = run(cmd.INIT + b"ok\n" + unknown + b"more\n")
    assert job.paper is not None and job.paper.text_lines == ["ok"]
    assert len(job.errors) == 1 and "refused" in job.errors[0]
    assert "refused" in caplog.text


def test_styles_and_sizes() -> None:
    data = cmd.INIT + cmd.CHINESE_ON + cmd.char_size(2, 2) + "大".encode("gb18030") + cmd.LF
    data += cmd.char_size(1, 1) + cmd.bold(True) + b"B" + cmd.LF + cmd.align("right") + b"R" + cmd.LF
    [job], _ = run(data)
    assert job.paper is not None
    big, bold, right = job.paper.rows
    assert big.size == (576, 48 + 6) and bold.size == (576, 30)
    ink = ~np.array(big)
    assert ink[:, 48:].sum() == 0 and ink[:, :48].sum() > 0  # 48 dots wide: GS ! doubled the Chinese cell
    right_ink = np.nonzero((~np.array(right)).any(axis=0))[0]
    assert right_ink.min() >= 576 - 12


def test_status_queries_inside_a_job_are_answered_in_order_and_left_out_of_the_job() -> None:
    eot = b"\x10\x04"
    data = eot + b"\x01" + cmd.INIT + b"x\n" + eot + b"\x04" + cmd.FEED_AND_CUT
    [job], replies = run(data, state=PrinterState.NEAR_END)
    assert replies == bytes([0x16, 0x12 | 0x0C])  # 0x16: healthy, the drawer pin reads high
    assert bytes(job.data) == cmd.INIT + b"x\n" + cmd.FEED_AND_CUT


def test_status_query_bytes_inside_image_data_are_answered_as_a_real_printer_does() -> None:
    row = bytes([0x10, 0x04, 0x02]) + bytes(69)  # dots that spell DLE EOT 2 in a 576-dot row
    image = b"\x1dv0\x00" + bytes([72, 0, 2, 0]) + row + bytes(72)
    [job], replies = run(cmd.INIT + image + cmd.FEED_AND_CUT, state=PrinterState.COVER_OPEN)
    assert replies == bytes([0x12 | 0x04])  # answered though nobody asked, as "cover open"
    assert bytes(job.data) == cmd.INIT + image + cmd.FEED_AND_CUT and not job.errors


def test_our_raster_images_never_carry_real_time_command_bytes() -> None:
    """A lone dot followed by dots spelling 04, 05 or 14 is cleared: one dot of text, never of a QR module."""
    pixels = np.full((3, 576), 255, np.uint8)
    for y, second in enumerate((0x04, 0x05, 0x14)):
        pixels[y, 3] = 0  # byte 0 = 0x10
        pixels[y, [8 + i for i in range(8) if second & (0x80 >> i)]] = 0
    _, data = cmd.raster_rows(Image.fromarray(pixels).convert("1"), 576)
    for seq in (b"\x10\x04", b"\x10\x05", b"\x10\x14"):
        assert seq not in data
    assert [data[72 * y + 1] for y in range(3)] == [0x04, 0x05, 0x14]  # only the lone dot went
    [job], replies = run(cmd.INIT + cmd.raster_image(Image.fromarray(pixels).convert("1"), 576) + cmd.FEED_AND_CUT)
    assert replies == b"" and not job.errors


def test_each_cut_ends_a_job_and_a_connection_of_queries_makes_none() -> None:
    data = (cmd.INIT + b"one\n" + cmd.FEED_AND_CUT) + (cmd.INIT + b"two\n" + cmd.FEED_AND_CUT)
    jobs, _ = run(data)
    assert [j.paper.text_lines for j in jobs if j.paper] == [["one"], ["two"]]
    assert run(b"\x10\x04\x01\x10\x04\x04")[0] == []


def test_a_job_cut_off_mid_command_is_still_delivered_with_an_error() -> None:
    data = cmd.INIT + b"start\n" + cmd.qr_native(b"HELLO", 4)[:10]
    [job], _ = run(data)
    assert not job.cut
    assert job.paper is not None and job.paper.text_lines == ["start"]
    assert "inside a command" in job.errors[0]


def test_python_escpos_native_qr_is_drawn_at_the_commanded_module_size() -> None:
    printer = Dummy()
    printer.set(align="center")
    printer.qr("MODULE-SIZE", size=5, native=True)
    printer.cut()
    [job], _ = run(printer.output)
    assert job.qr_payloads == [b"MODULE-SIZE"] and not job.errors
    assert job.paper is not None
    ink = ~np.array(job.paper.image().convert("1"))
    cols = np.nonzero(ink.any(axis=0))[0]
    width = cols.max() - cols.min() + 1
    assert width == 21 * 5  # version 1 symbol: 21 modules of 5 dots


def test_jobs_are_written_as_bin_and_png_and_refused_when_paper_is_out(
    virtual_printer: VirtualPrinter, slip_factory: Callable[..., ReleaseSlipPrint]
) -> None:
    data = slip_bytes(slip_factory())
    with socket.create_connection(virtual_printer.address) as conn:
        conn.sendall(data)
    [printed] = virtual_printer.wait_for_jobs(1)
    assert printed.bin_path.read_bytes() == data
    assert printed.png_path is not None and Image.open(printed.png_path).width == 576

    virtual_printer.state = PrinterState.OUT
    with socket.create_connection(virtual_printer.address) as conn:
        conn.sendall(data)
    _, held = virtual_printer.wait_for_jobs(2)
    assert not held.printed and held.bin_path.read_bytes() == data
    assert "not printed: printer state is out" in held.errors


def test_esc_bang_enlarges_latin_only_and_gs_bang_enlarges_chinese_too() -> None:
    esc_double = b"\x1b!\x30"  # double width and height
    data = cmd.INIT + cmd.CHINESE_ON + esc_double + b"A" + "中".encode("gb18030") + cmd.LF
    data += cmd.char_size(2, 2) + "中".encode("gb18030") + cmd.LF
    [job], _ = run(data)
    assert job.paper is not None
    mixed, big = (~np.array(row) for row in job.paper.rows)
    latin_cols = np.nonzero(mixed[:, :24].any(axis=0))[0]
    chinese_cols = np.nonzero(mixed[:, 24:].any(axis=0))[0] + 24
    assert latin_cols.max() >= 12  # "A" spans a doubled 24-dot cell
    assert chinese_cols.max() < 48  # "中" stays 24 dots wide
    assert np.nonzero(big.any(axis=0))[0].max() >= 30  # GS ! doubled "中"


def test_stopping_ends_connections_a_client_left_open(tmp_path) -> None:
    printer = VirtualPrinter(tmp_path).start()
    conn = socket.create_connection(printer.address)
    conn.sendall(cmd.INIT + b"left open\n\x10\x04\x01")
    assert conn.recv(1) == b"\x16"  # the reply shows the printer has read everything before it
    printer.stop()
    [job] = printer.wait_for_jobs(1, timeout=1)  # the open job was delivered when its connection ended
    assert job.text_lines == ("left open",) and not job.cut
    conn.close()
