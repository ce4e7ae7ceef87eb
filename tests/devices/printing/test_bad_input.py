"""Acceptance: names outside GB18030's 2-byte range, very long item names, no items, oversized tokens."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from escpos.printer import Dummy
from PIL import Image

from devices.printing import (
    PrinterProfile,
    PrintMode,
    ReleaseSlipPrint,
    SlipContentError,
    SlipItem,
    get_profile,
    print_slip,
    slip_bytes,
)
from devices.printing.layout import MIN_QR_MODULE_DOTS, Block, Feed, QrBlock, TextLine, layout_slip
from devices.printing.qrmatrix import qr_matrix
from devices.printing.render import line_height
from devices.printing.textenc import text_width
from devices.printing.virtual import VirtualPrinter
from tests.devices.printing.conftest import decode_qr

RARE_NAME = "王𠀀㐀"  # U+20000 and U+3400 have only 4-byte GB18030 codes


def test_characters_without_two_byte_codes_are_drawn_never_sent_as_question_marks(
    virtual_printer: VirtualPrinter, slip_factory: Callable[..., ReleaseSlipPrint]
) -> None:
    slip = slip_factory(applicant=RARE_NAME)
    data = slip_bytes(slip)
    assert "𠀀".encode("gb18030") not in data and "㐀".encode("gb18030") not in data
    assert "Applicant: 王".encode("gb18030") not in data  # the line is not sent as text at all ...
    assert b"\x1dv0" in data  # ... but as a raster image
    print_slip(virtual_printer.url, slip)
    [job] = virtual_printer.wait_for_jobs(1)
    assert not job.errors

    profile = get_profile("cn80")
    blocks = layout_slip(slip, profile)
    lines = [b for b in blocks if isinstance(b, TextLine)]
    drawn = next(b for b in lines if RARE_NAME in b.text)
    # Every other line still arrives as text; the line with the rare characters arrives as an image.
    assert list(job.text_lines) == [b.full_text(profile.columns) for b in lines if b is not drawn]

    # The picture of that line is on the paper where the line belongs, with ink where the rare characters are.
    paper = np.array(Image.open(job.png_path).convert("1"))
    top = _line_top(blocks, drawn)
    start = text_width(drawn.text.split(RARE_NAME)[0]) * 12
    rare = paper[top : top + 24, start + 24 : start + 72]  # the cells of 𠀀 and 㐀
    assert (~rare).sum() > 40
    assert decode_qr(job.png_path) == [slip.qr_token]


def _line_top(blocks: list[Block], target: TextLine) -> int:
    y = 0
    for block in blocks:
        if block is target:
            return y
        if isinstance(block, TextLine):
            y += line_height(block.height_mult)
        elif isinstance(block, Feed):
            y += block.dots
        elif isinstance(block, QrBlock):
            y += len(qr_matrix(block.data)) * block.module
    raise AssertionError("line not in layout")


@pytest.mark.parametrize("profile", ["cn80", "cn58"])
def test_a_200_character_item_name_wraps_on_character_width(
    virtual_printer: VirtualPrinter, slip_factory: Callable[..., ReleaseSlipPrint], profile: str
) -> None:
    name = ("超长物品名称Long item name " * 12)[:199] + "尾"
    assert len(name) == 200
    slip = slip_factory(items=(SlipItem(name, 3), SlipItem("椅子", 2)))
    prof = get_profile(profile)
    virtual_printer.width = prof.dots
    print_slip(virtual_printer.url, slip, prof)
    [job] = virtual_printer.wait_for_jobs(1)

    lines = [b for b in layout_slip(slip, prof) if isinstance(b, TextLine)]
    assert list(job.text_lines) == [b.full_text(prof.columns) for b in lines]
    assert all(text_width(line) <= prof.columns for line in job.text_lines)

    first = next(i for i, b in enumerate(lines) if b.text.startswith("1. "))
    second = next(i for i, b in enumerate(lines) if b.text.startswith("2. "))
    item_lines = lines[first:second]
    assert len(item_lines) > 3
    assert item_lines[0].right == "x3"
    assert all(b.text.startswith("   ") and not b.right for b in item_lines[1:])
    # Words stay whole: each break is between words (its space not printed) or inside the Chinese.
    assert " ".join(b.text[3:].rstrip() for b in item_lines).replace("称 ", "称") == name.replace("称 ", "称")
    assert all(not b.text[3:].startswith(("ong", "tem", "ame")) for b in item_lines)


def test_an_empty_item_list_is_refused_before_anything_is_sent(
    virtual_printer: VirtualPrinter, slip_factory: Callable[..., ReleaseSlipPrint]
) -> None:
    with pytest.raises(SlipContentError, match="no item lines") as caught:
        print_slip(virtual_printer.url, slip_factory(items=()))
    assert not caught.value.job_sent
    with pytest.raises(TimeoutError):
        virtual_printer.wait_for_jobs(1, timeout=0.2)


def test_a_token_too_big_for_the_paper_is_refused_before_anything_is_sent(
    slip_factory: Callable[..., ReleaseSlipPrint],
) -> None:
    # 576 dots at 4 dots a module, one module of margin each side: at most 142 modules (version 31, 141 modules).
    printer = Dummy()
    largest = slip_factory(qr_token="A" * 1499)  # version 31 at Q in alphanumeric mode
    print_slip(printer, largest)
    assert b"A" * 1499 in printer.output and b"\x1d(k\x03\x001C" + bytes([MIN_QR_MODULE_DOTS]) in printer.output
    printer.clear()
    with pytest.raises(SlipContentError, match="too wide for the 576-dot paper"):
        print_slip(printer, slip_factory(qr_token="A" * 1500))  # version 32
    assert printer.output == b""


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"qr_token": "令牌"}, "ASCII"),
        ({"qr_token": ""}, "empty"),
        ({"items": (SlipItem("沙发", 0),)}, "quantity"),
        ({"items": (SlipItem("  ", 1),)}, "empty name"),
        ({"unit": ""}, "unit is empty"),
        ({"valid_until": None}, "after issued_at"),
    ],
)
def test_other_unprintable_slips_get_clear_errors(
    slip_factory: Callable[..., ReleaseSlipPrint], changes: dict[str, object], message: str
) -> None:
    if changes.get("valid_until", 1) is None:
        changes = {"valid_until": slip_factory().issued_at}
    with pytest.raises(SlipContentError, match=message):
        slip_bytes(slip_factory(**changes))


def test_a_qr_code_wider_than_the_paper_is_refused(slip_factory: Callable[..., ReleaseSlipPrint]) -> None:
    narrow = PrinterProfile("narrow", "a 32 mm label printer", 256, 21, 8, PrintMode.NATIVE)
    with pytest.raises(SlipContentError, match="too wide for the 256-dot paper"):
        slip_bytes(slip_factory(), narrow)
