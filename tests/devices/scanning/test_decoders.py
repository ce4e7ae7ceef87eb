"""Each decoder reads real slip QR codes in clean, rotated, inverted and degraded frames, and nothing else."""

from __future__ import annotations

import numpy as np
import pytest

from devices.qr import DECODER_NAMES, make_decoder, text_from_bytes, to_grey
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


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_non_utf8_content_comes_back_as_text(name: str) -> None:
    payload = b"\xff\xfe\x80 slip \xc3\x28 bytes"
    codes = make_decoder(name).decode(_binary_frame(payload))
    assert len(codes) == 1
    # QR byte mode without an ECI is ISO-8859-1: every decoder agrees on that reading of the bytes.
    assert codes[0].text == payload.decode("latin-1")
    if name == "zxing":
        # ZBar and OpenCV re-encode byte-mode content as UTF-8 themselves; zxing-cpp hands back the bytes as sent.
        assert codes[0].raw == payload


@pytest.mark.parametrize("name", DECODER_NAMES)
def test_binary_content_with_zero_bytes_comes_back_safely(name: str) -> None:
    payload = bytes([0, 1, 2, 0xFF, 0, 0x80]) + b"tail"
    codes = make_decoder(name).decode(_binary_frame(payload))
    assert len(codes) == 1
    assert isinstance(codes[0].text, str)
    assert codes[0].text.endswith("tail")


def test_text_from_bytes_never_raises() -> None:
    assert text_from_bytes(b"ES1.k1.S-0042") == "ES1.k1.S-0042"
    assert text_from_bytes("放行".encode()) == "放行"
    assert text_from_bytes(b"ab\xffcd") == "ab\\xffcd"
    assert text_from_bytes(bytes(range(256))).startswith("\x00\x01")


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
