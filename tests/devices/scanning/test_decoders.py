"""Each decoder reads real slip QR codes in clean, rotated, inverted and degraded frames, and nothing else."""

from __future__ import annotations

import cv2
import numpy as np
import pytest

from devices.qr import DECODER_NAMES, make_decoder, text_from_bytes, to_grey
from devices.qr.decoders import ZxingDecoder
from devices.qr.synthetic import FrameFactory, SyntheticFrame, qr_image


@pytest.mark.parametrize("kind", ["clean", "rotated", "inverted", "degraded", "phone_dark"])
@pytest.mark.parametrize("name", DECODER_NAMES)
def test_each_decoder_reads_slip_frames(name: str, kind: str, slip_frames: dict[str, SyntheticFrame]) -> None:
    frame = slip_frames[kind]
    codes = make_decoder(name).decode(frame.image)
    assert [code.text for code in codes] == [frame.text]
    assert codes[0].raw == frame.text.encode("ascii")
    assert codes[0].decoder == name
    assert len(codes[0].corners) == 4


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_each_decoder_reads_nothing_in_code_free_frames(name: str, code_free_frames: list[SyntheticFrame]) -> None:
    decoder = make_decoder(name)
    frames = code_free_frames if name == "zxing" else code_free_frames[:15]  # the slow decoders on fewer
    reads = [code.text for frame in frames for code in decoder.decode(frame.image)]
    assert reads == []


def _binary_frame(payload: bytes) -> np.ndarray:
    code = qr_image(payload, 6)
    frame = np.full((480, 640), 200, np.uint8)
    frame[40 : 40 + code.shape[0], 100 : 100 + code.shape[1]] = code
    return frame


@pytest.mark.parametrize("name", ["zxing", "opencv"])
def test_gb2312_content_comes_back_as_the_chinese_it_says(name: str) -> None:
    """zxing-cpp guesses ISO-8859-1 or Shift_JIS for codes without an ECI; the bytes are read as GB2312 here.
    (ZBar re-encodes such bytes itself before we see them, so pyzbar cannot be helped.)"""
    text = "物品放行条 旧书架x2"
    codes = make_decoder(name).decode(_binary_frame(text.encode("gb2312")))
    assert [code.text for code in codes] == [text]
    assert codes[0].raw == text.encode("gb2312")


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_binary_content_with_zero_bytes_comes_back_safely(name: str) -> None:
    payload = bytes([0, 1, 2, 0xFF, 0, 0x80]) + b"tail"
    codes = make_decoder(name).decode(_binary_frame(payload))
    assert len(codes) == 1
    if name != "pyzbar":  # ZBar cuts binary content at the first zero byte (HARDWARE-NOTES)
        assert codes[0].text is None and codes[0].raw == payload


def test_text_from_bytes_says_what_is_text_and_what_is_not() -> None:
    assert text_from_bytes(b"RS2:KB0/C0X49*965W") == "RS2:KB0/C0X49*965W"
    assert text_from_bytes("放行".encode()) == "放行"
    assert text_from_bytes("阿里 放行条".encode("gb2312")) == "阿里 放行条"
    assert text_from_bytes("行1\n行2\t".encode("gbk")) == "行1\n行2\t"
    assert text_from_bytes(b"ab\xffcd") is None
    assert text_from_bytes(bytes(range(256))) is None
    assert text_from_bytes(b"\x00tail") is None


def test_frames_are_converted_to_grey_once_whatever_their_layout(factory: FrameFactory) -> None:
    bgr = factory.clean(7).image
    grey = to_grey(bgr)
    assert grey.ndim == 2 and grey.dtype == np.uint8
    assert to_grey(grey) is not None and np.array_equal(to_grey(grey), grey)
    bgra = np.dstack([bgr, np.full(bgr.shape[:2], 255, np.uint8)])
    assert np.array_equal(to_grey(bgra), grey)
    with pytest.raises(ValueError, match="8-bit"):
        to_grey(bgr.astype(np.float32))


def test_unknown_decoder_names_the_known_ones() -> None:
    with pytest.raises(ValueError, match="zxing, pyzbar, opencv"):
        make_decoder("quirc")


def test_zxing_at_full_size_then_downscaled_reads_what_one_read_does(
    slip_frames: dict[str, SyntheticFrame], factory: FrameFactory
) -> None:
    """The scan pipeline reads a frame at full size first and its downscaled copies only when that gave
    nothing: the full size reads inverted codes too, and a code read in a downscaled copy has its corners
    in the frame's coordinates."""
    decoder = ZxingDecoder()
    inverted = to_grey(slip_frames["inverted"].image)
    assert [c.text for c in decoder.read_full_size(inverted).codes] == [slip_frames["inverted"].text]
    clean = factory.clean(3)
    big = cv2.resize(to_grey(clean.image), None, fx=3, fy=3, interpolation=cv2.INTER_NEAREST)
    (full,) = decoder.read_full_size(big).codes
    (small,) = decoder.read_downscaled(big).codes
    assert full.text == small.text == clean.text
    assert np.abs(np.array(full.corners) - np.array(small.corners)).max() < 3 * 3
