"""Acceptance: slip -> bytes -> virtual printer over TCP -> PNG; text and QR come back exactly."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import pytest
from PIL import Image

from devices.printing import PROFILES, PrintMode, ReleaseSlipPrint, get_profile, print_slip, slip_bytes
from devices.printing import commands as cmd
from devices.printing.layout import TextLine, layout_slip
from devices.printing.profiles import with_mode
from devices.printing.render import render_blocks
from devices.printing.virtual import VirtualPrinter
from tests.devices.printing.conftest import TOKEN, decode_qr

NATIVE_PROFILES = [name for name, p in PROFILES.items() if p.mode is PrintMode.NATIVE]


def expected_lines(slip: ReleaseSlipPrint, profile_name: str) -> list[str]:
    profile = get_profile(profile_name)
    return [b.full_text(profile.columns) for b in layout_slip(slip, profile) if isinstance(b, TextLine)]


@pytest.mark.parametrize("profile", NATIVE_PROFILES)
def test_native_slip_round_trip(
    virtual_printer: VirtualPrinter, slip_factory: Callable[..., ReleaseSlipPrint], profile: str
) -> None:
    virtual_printer.width = get_profile(profile).dots
    slip = slip_factory()
    result = print_slip(virtual_printer.url, slip, profile)
    assert result.confirmed

    [job] = virtual_printer.wait_for_jobs(1)
    assert job.printed and job.cut and not job.errors
    assert job.bin_path.read_bytes() == slip_bytes(slip, profile)  # status queries are not part of the job
    assert list(job.text_lines) == expected_lines(slip, profile)
    recovered = "".join(job.text_lines)
    for text in ("观海台小区", "物品放行条", "R20261127-0042", "3栋2单元1201", "张三（业主 Owner）", "押金 ￥200"):
        assert text in recovered
    for item in slip.items:
        assert item.name in recovered
    assert "2026-11-27 14:30" in recovered  # issued 06:30 UTC, shown in Asia/Shanghai
    assert job.qr_payloads == (TOKEN.encode(),)
    assert decode_qr(job.png_path) == [TOKEN]


@pytest.mark.parametrize("profile", list(PROFILES))
def test_raster_slip_round_trip(
    virtual_printer: VirtualPrinter, slip_factory: Callable[..., ReleaseSlipPrint], profile: str
) -> None:
    prof = with_mode(get_profile(profile), PrintMode.RASTER)
    virtual_printer.width = prof.dots
    slip = slip_factory()
    print_slip(virtual_printer.url, slip, prof)

    [job] = virtual_printer.wait_for_jobs(1)
    assert job.printed and not job.errors
    assert job.text_lines == ()  # nothing went as text: the printer needs no Chinese font
    assert job.qr_payloads == ()
    paper = np.array(Image.open(job.png_path).convert("1"))
    drawn = np.array(render_blocks(layout_slip(slip, prof), prof))
    # The paper carries the slip drawn here (text included), followed by the blank tail feed; only lone dots
    # whose bytes would spell a real-time command were left out.
    assert dots_left_out(drawn, paper[: drawn.shape[0]]) <= 10
    assert paper[drawn.shape[0] :].all()
    assert decode_qr(job.png_path) == [TOKEN]


def test_native_and_raster_put_the_same_dots_on_paper(
    virtual_printer: VirtualPrinter, slip_factory: Callable[..., ReleaseSlipPrint]
) -> None:
    slip = slip_factory()
    print_slip(virtual_printer.url, slip, "cn80", PrintMode.NATIVE)
    print_slip(virtual_printer.url, slip, "cn80", PrintMode.RASTER)
    native, raster = virtual_printer.wait_for_jobs(2)
    paper = [np.array(Image.open(job.png_path).convert("1")) for job in (native, raster)]
    assert dots_left_out(*paper) <= 10


def dots_left_out(drawn: np.ndarray, paper: np.ndarray) -> int:
    """Ink dots (False) of `drawn` missing on `paper`; the paper has no ink the drawing lacks."""
    assert drawn.shape == paper.shape and not (~paper & drawn).any()
    return int((~drawn & paper).sum())


def test_raster_images_go_in_fragments_of_at_most_128_rows(slip_factory: Callable[..., ReleaseSlipPrint]) -> None:
    data = slip_bytes(slip_factory(), "tm512")
    pos, heights = 0, []
    while (pos := data.find(b"\x1dv0", pos)) != -1:
        width_bytes = data[pos + 4] | data[pos + 5] << 8
        rows = data[pos + 6] | data[pos + 7] << 8
        assert width_bytes == 512 // 8
        heights.append(rows)
        pos += 8 + width_bytes * rows
    assert len(heights) > 5
    assert max(heights) <= 128


@pytest.mark.parametrize("height", [48, 96, 128 + 48, 130])
def test_no_raster_fragment_is_a_multiple_of_48_rows(height: int) -> None:
    data = cmd.raster_image(Image.new("1", (64, height), 1), 64)
    rows = [data[i + 6] | data[i + 7] << 8 for i in range(len(data)) if data[i : i + 4] == b"\x1dv0\x00"]
    assert rows and all(r % 48 for r in rows)
    assert sum(rows) in (height, height + 1)
