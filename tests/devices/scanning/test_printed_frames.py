"""Frames of slips printed by the virtual printer, the kinds of damage a gate meets, and the passes that cope."""

from __future__ import annotations

import numpy as np
import pytest

from devices.printing import get_profile
from devices.printing.layout import qr_module_dots
from devices.qr import ScanPipeline, to_grey
from devices.qr.synthetic import degrade
from devices.qr.synthetic.printed import PRINTED_KINDS, PrintedFrames
from devices.qr.synthetic.slip import printed_slip, printed_token


@pytest.fixture(scope="module")
def printed() -> PrintedFrames:
    return PrintedFrames(2026)


def test_printed_slips_carry_the_virtual_printers_code_at_the_layouts_module(printed: PrintedFrames) -> None:
    assert [len(slip.text or "") for slip in printed.slips] == [180, 280, 380, 480, 644]
    cn80 = get_profile("cn80")
    assert [slip.module for slip in printed.slips] == [qr_module_dots(s.text or "", cn80) for s in printed.slips]
    assert printed.slips[-1].module == 6  # the longest token, version 19: 6 dots a module
    for slip in printed.slips:
        x0, y0, x1, y1 = slip.qr_box
        assert slip.image.shape[1] == 576 and 0 < x0 < x1 <= 576 and 0 < y0 < y1 < slip.image.shape[0]
        assert set(np.unique(slip.image)) == {0, 255}  # thermal dots, nothing in between


def test_every_kind_of_damage_is_a_readable_frame_size_and_repeatable(printed: PrintedFrames) -> None:
    for kind in PRINTED_KINDS:
        frame = printed.frame(kind, 3)
        assert frame.image.shape == (720, 1280, 3) and frame.kind == kind and frame.text is not None
        assert np.array_equal(frame.image, printed.frame(kind, 3).image)


def test_specular_glare_burns_part_of_the_code_out_to_white() -> None:
    rng = np.random.default_rng(1)
    code = np.zeros((200, 200), np.uint8)  # all ink
    glared = degrade.specular_glare(rng, code, (100.0, 100.0), 30.0)
    burnt = glared == 255
    assert 0.03 < burnt.mean() < 0.3  # a saturated core over part of the code, not all of it
    assert glared[0, 0] < 30 and glared[100, 100] == 255  # corners keep their ink, the core has none


def test_a_crease_shades_one_side_and_bends_the_print_along_a_line() -> None:
    rng = np.random.default_rng(2)
    paper = np.full((200, 200), 255, np.uint8)
    paper[:, ::10] = 0  # vertical rules, to see them move
    creased = degrade.crease(rng, paper, (100.0, 100.0), 4.0)
    assert creased.shape == paper.shape and not np.array_equal(creased, paper)
    white = creased[paper == 255].astype(int)
    assert white.max() - np.percentile(white, 5) > 20  # one side darker than the other, and a ridge


def test_crumpling_moves_the_print_smoothly() -> None:
    rng = np.random.default_rng(3)
    paper = np.full((300, 576), 255, np.uint8)
    paper[:, ::8] = 0
    crumpled = degrade.crumple(rng, paper, 6.0)
    moved = (crumpled < 128) != (paper < 128)
    assert 0.02 < moved.mean() < 0.5


def test_a_fallback_pass_reads_glare_the_first_pass_cannot(printed: PrintedFrames) -> None:
    """Around a lamp's reflection the ink is lifted; the found-but-unread code, upscaled, is read again."""
    first_only = ScanPipeline(fallbacks=False, budget_ms=None)
    pipeline = ScanPipeline(budget_ms=None)
    for index in range(24):
        frame = printed.frame("glare", index)
        if frame.text in {code.text for code in first_only.scan(frame.image).codes}:
            continue
        result = pipeline.scan(frame.image)
        assert [code.text for code in result.codes] == [frame.text]
        assert result.passes[0] == "first" and len(result.passes) > 1
        return
    pytest.fail("every glare frame was read by the first pass: the set no longer tests the fallbacks")


def test_a_printed_token_is_in_the_qr_alphanumeric_set() -> None:
    token = printed_token(np.random.default_rng(4), 300)
    assert len(token) == 300 and token.startswith("RS2:") and not token.endswith(" ")
    slip = printed_slip(token, items=2)
    read = ScanPipeline(budget_ms=None).scan(np.dstack([slip.image] * 3)).codes
    assert [code.text for code in read] == [token] and to_grey(slip.image) is not None


def test_a_medium_crumpled_slip_is_read_on_its_bent_grid(printed: PrintedFrames) -> None:
    """The first pass finds the code but samples a straight grid over bent paper; the bent-grid pass reads it."""
    frame = printed.frame("crumple_medium", 8)
    assert frame.text not in {code.text for code in ScanPipeline(fallbacks=False).scan(frame.image).codes}
    result = ScanPipeline(budget_ms=None).scan(frame.image)
    assert [code.text for code in result.codes] == [frame.text]
    assert result.passes[-1] == "bent"


def test_a_code_damaged_beyond_its_error_correction_is_not_misread(printed: PrintedFrames) -> None:
    """A near miss: a slip's code, crumpled, with the middle third of its data modules scrambled. zxing-cpp
    still finds the code and makes out its version, so the bent-grid pass and the centre pass run on it (the
    global and region passes never read such a frame) and none reads anything."""
    slip = printed.slips[2]
    paper = slip.image.copy()
    x0, y0, x1, y1 = slip.qr_box
    step = int(slip.module)
    rng = np.random.default_rng(5)
    third = (y1 - y0) // 3
    band = paper[y0 + third : y1 - third, x0 + 10 * step : x1 - 10 * step]
    noise = rng.integers(0, 2, (band.shape[0] // step + 1, band.shape[1] // step + 1)).astype(np.uint8) * 255
    band[:] = np.kron(noise, np.ones((step, step), np.uint8))[: band.shape[0], : band.shape[1]]
    crumpled = degrade.crumple(rng, paper, 0.8 * slip.module)
    result = ScanPipeline(budget_ms=None).scan(np.dstack([crumpled] * 3))
    assert result.codes == []
    assert result.passes == ("first", "bent", "centre")
