"""The scan pipeline: a cheap first pass, fallback passes only when it fails and the budget allows."""

from __future__ import annotations

from pathlib import Path

import cv2
import pytest
import zxingcpp

from devices.qr import ScanPipeline, to_grey
from devices.qr.synthetic import FrameFactory, SyntheticFrame, degraded_set, draw_slip, load_slip


def test_clean_frame_is_read_by_the_first_pass_alone(slip_frames: dict[str, SyntheticFrame]) -> None:
    frame = slip_frames["clean"]
    result = ScanPipeline().scan(frame.image)
    assert [code.text for code in result.codes] == [frame.text]
    assert result.passes == ("first",)


def test_inverted_and_phone_dark_mode_frames_are_read(slip_frames: dict[str, SyntheticFrame]) -> None:
    pipeline = ScanPipeline()
    for kind in ("inverted", "phone_dark"):
        frame = slip_frames[kind]
        assert [code.text for code in pipeline.scan(frame.image).codes] == [frame.text]


def test_fallback_passes_run_when_the_first_fails(code_free_frames: list[SyntheticFrame]) -> None:
    result = ScanPipeline(budget_ms=None).scan(code_free_frames[0].image)
    assert result.codes == []
    assert result.passes[0] == "first"
    assert {"global", "centre"} <= set(result.passes)


def test_no_budget_left_means_no_fallback_pass(code_free_frames: list[SyntheticFrame]) -> None:
    result = ScanPipeline(budget_ms=0.0).scan(code_free_frames[1].image)
    assert result.passes == ("first",)


def test_a_pass_that_would_overrun_the_budget_is_skipped(code_free_frames: list[SyntheticFrame]) -> None:
    ticks = iter(range(0, 10_000))

    def clock() -> float:
        return next(ticks) / 1000.0  # every reading of the clock is one more millisecond

    result = ScanPipeline(budget_ms=4.0, clock=clock).scan(code_free_frames[2].image)
    assert result.passes[0] == "first"
    assert "centre" not in result.passes  # the first pass took 4 ms by this clock: no 1 ms pass fits after it


def test_pipeline_reads_nothing_in_many_busy_code_free_frames(code_free_frames: list[SyntheticFrame]) -> None:
    pipeline = ScanPipeline(budget_ms=None)  # every pass on every frame: the most chances for a false read
    reads = [code.text for frame in code_free_frames for code in pipeline.scan(frame.image).codes]
    assert reads == []


def test_pipeline_reads_at_least_what_plain_zxing_reads_on_degraded_frames() -> None:
    frames = degraded_set(7, 8, levels=(2, 3))
    pipeline = ScanPipeline(budget_ms=None)
    ours = plain = 0
    for frame in frames:
        ours += frame.text in {code.text for code in pipeline.scan(frame.image).codes}
        found = zxingcpp.read_barcodes(to_grey(frame.image), formats=zxingcpp.BarcodeFormat.QRCode)
        plain += frame.text in {barcode.text for barcode in found}
    assert ours >= plain
    assert ours > 0


def test_read_code_corners_are_in_frame_coordinates(factory: FrameFactory) -> None:
    frame = factory.clean(11)
    (code,) = ScanPipeline().scan(frame.image).codes
    height, width = frame.image.shape[:2]
    assert all(0 <= x <= width and 0 <= y <= height for x, y in code.corners)


def test_synthetic_frames_are_repeatable() -> None:
    first = FrameFactory(99).degraded(5, 2)
    again = FrameFactory(99).degraded(5, 2)
    other = FrameFactory(100).degraded(5, 2)
    assert first.text == again.text and (first.image == again.image).all()
    assert first.text != other.text
    assert first.image.shape == (720, 1280, 3)


def test_frames_from_a_printed_slip_png(tmp_path: Path) -> None:
    """A slip image from disk (as the virtual printer writes job-N.png) is the source of camera frames."""
    token = "ES1.k1.S20261127-0042.E1.3-2-1201.1795000000.C101x1.signature-goes-here"
    png = tmp_path / "job-1.png"
    cv2.imwrite(str(png), draw_slip(token).image)
    slip = load_slip(png, token)
    frames = FrameFactory(5, slip=slip)
    pipeline = ScanPipeline()
    for frame in (frames.degraded(0, 1), frames.rotated(1), frames.phone(2, 1, dark_mode=True, moire=True)):
        assert frame.text == token
        assert [code.text for code in pipeline.scan(frame.image).codes] == [token]
    with pytest.raises(ValueError, match="no QR code with the expected text"):
        load_slip(png, "another token")
