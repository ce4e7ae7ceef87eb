"""The signature pad's PNG (R-REP-7, R-CLN-5): only an image that decodes whole is stored, so every form it is
later drawn on prints."""

from __future__ import annotations

import base64
import io

import pytest
from PIL import Image

from server.domain.errors import DomainError
from server.domain.service.signatures import PNG_DATA_URL, PNG_MAGIC, resident_signature


def _png(size: tuple[int, int]) -> bytes:
    out = io.BytesIO()
    Image.new("L", size, 255).save(out, format="PNG")
    return out.getvalue()


def _url(data: bytes) -> str:
    return PNG_DATA_URL + base64.b64encode(data).decode()


def test_a_pads_png_is_kept_as_sent() -> None:
    url = _url(_png((600, 240)))
    assert resident_signature(url) == url


@pytest.mark.parametrize(
    "data",
    [
        PNG_MAGIC + b"\0" * 16,  # the header and nothing of an image: it used to be stored, then broke the form's PDF
        _png((600, 240))[:-30],  # cut short
        _png((5000, 10)),  # not a pad's canvas
    ],
    ids=["header-only", "truncated", "too-wide"],
)
def test_r_rep_7_a_png_that_does_not_decode_whole_is_refused(data: bytes) -> None:
    with pytest.raises(DomainError) as refused:
        resident_signature(_url(data))
    assert refused.value.code == "bad_signature"
