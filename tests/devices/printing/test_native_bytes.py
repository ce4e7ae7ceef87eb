"""Native-mode bytes on python-escpos's Dummy printer: the exact commands, and any text laid out safely."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from escpos.printer import Dummy
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from devices.printing import PROFILES, ReleaseSlipPrint, SlipItem, get_profile, print_slip, slip_bytes
from devices.printing.layout import TextLine, layout_slip, qr_module_dots
from devices.printing.qrmatrix import qr_modules
from devices.printing.textenc import text_width
from devices.printing.virtual import Interpreter, Job, PrinterState
from tests.devices.printing.conftest import TOKEN, make_slip


def test_print_slip_on_dummy_sends_exactly_the_slip_bytes(slip_factory: Callable[..., ReleaseSlipPrint]) -> None:
    printer = Dummy()
    result = print_slip(printer, slip_factory())
    assert printer.output == slip_bytes(slip_factory())
    assert result.bytes_sent == len(printer.output) and not result.confirmed


def test_native_job_structure(slip_factory: Callable[..., ReleaseSlipPrint]) -> None:
    data = slip_bytes(slip_factory(), "cn80")
    assert data.startswith(b"\x1b@\x1c&")  # initialise, enter Chinese mode
    assert data.endswith(b"\x1c.\x1bJ\x30\x1dVB\x00")  # leave Chinese mode, feed, cut
    assert b"\x1d!\x11" + "物品放行条".encode("gb18030") in data  # GS ! enlarges the Chinese title
    assert "三人布艺沙发".encode("gb18030") in data
    assert "押金 ￥200".encode("gb18030") in data  # ¥ went out as the 2-byte full-width ￥
    assert b"\x81\x30\x84\x36" not in data  # never the 4-byte GB18030 code of ¥


@pytest.mark.parametrize("profile", ["cn80", "cn58"])
def test_native_qr_commands(slip_factory: Callable[..., ReleaseSlipPrint], profile: str) -> None:
    data = slip_bytes(slip_factory(), profile)
    module = qr_module_dots(TOKEN, get_profile(profile))
    store_len = len(TOKEN) + 3
    qr = (
        b"\x1d(k\x04\x00\x31\x41\x32\x00"  # model 2
        + b"\x1d(k\x03\x00\x31\x43"
        + bytes([module])  # module size
        + b"\x1d(k\x03\x00\x31\x45\x32"  # error correction Q
        + b"\x1d(k"
        + bytes([store_len & 0xFF, store_len >> 8])
        + b"\x31\x50\x30"
        + TOKEN.encode()  # store
        + b"\x1d(k\x03\x00\x31\x51\x30"  # print
    )
    at = data.index(qr)
    assert data[at - 3 : at] == b"\x1ba\x01"  # centred with ESC a 1
    quiet = bytes([module * 4])
    assert data[at - 6 : at - 3] == b"\x1bJ" + quiet  # quiet zone above
    assert data[at + len(qr) : at + len(qr) + 3] == b"\x1bJ" + quiet  # and below


@pytest.mark.parametrize(
    ("chars", "version", "cn80", "cn58", "tm512"),
    [(100, 6, 8, 8, 8), (313, 13, 8, 5, 7), (644, 19, 6, 4, 5)],
)
def test_the_code_prints_with_the_largest_module_that_fits_the_paper(
    chars: int, version: int, cn80: int, cn58: int, tm512: int
) -> None:
    # 644 characters is the longest slip token (version 19 at Q): 6 dots, 0.75 mm, a module on 80 mm paper.
    token = "RS2:" + "Z" * (chars - 4)
    assert qr_modules(token) == 17 + 4 * version
    assert [qr_module_dots(token, get_profile(p)) for p in ("cn80", "cn58", "tm512")] == [cn80, cn58, tm512]


NAMES = st.text(
    alphabet=st.characters(blacklist_categories=("Cs", "Cc"), max_codepoint=0x2FFFF), min_size=1, max_size=120
).filter(lambda s: s.strip() != "")


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(applicant=NAMES, names=st.lists(NAMES, min_size=1, max_size=4), profile=st.sampled_from(sorted(PROFILES)))
def test_any_text_fits_the_paper_and_the_printer_understands_every_byte(
    applicant: str, names: list[str], profile: str
) -> None:
    slip = make_slip(applicant=applicant, items=tuple(SlipItem(n, 1) for n in names))
    prof = get_profile(profile)
    for block in layout_slip(slip, prof):
        if isinstance(block, TextLine):
            assert text_width(block.full_text(prof.columns)) * block.width_mult <= prof.columns
    jobs: list[Job] = []
    interpreter = Interpreter(prof.dots, lambda: PrinterState.OK, jobs.append, lambda: 1)
    interpreter.feed(slip_bytes(slip, prof, "native"))
    interpreter.close()
    [job] = jobs
    assert job.cut and not job.errors
    assert job.qr_payloads == [TOKEN.encode()]
