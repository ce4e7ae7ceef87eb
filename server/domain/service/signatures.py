"""A resident's signature from the signature pad (R-REP-7, R-CLN-5): a PNG image as a data URL, of a bounded size;
anything else is refused with a clear error before a step is taken."""

from __future__ import annotations

import base64
import binascii
import io

from PIL import Image

from server.domain.errors import DomainError

PNG_DATA_URL = "data:image/png;base64,"
PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
MAX_SIGNATURE_BYTES = 100_000  # a pad's PNG is a few to some tens of kilobytes
MAX_DATA_URL = MAX_SIGNATURE_BYTES * 4 // 3 + len(PNG_DATA_URL)  # the longest field a form may send


def too_large(max_bytes: int) -> DomainError:
    kb = max_bytes // 1024
    return DomainError(
        f"签名图片超过 {kb} KB，请清除后重新签名",
        f"the signature image is over {kb} KB: clear the pad and sign again",
        code="signature_too_large",
    )


def resident_signature(data_url: str, max_bytes: int = MAX_SIGNATURE_BYTES) -> str:
    """`data_url` if it is a PNG from the pad of at most `max_bytes`; `missing_fields` when empty,
    `signature_too_large` when larger, `bad_signature` otherwise."""
    text = data_url.strip()
    if not text:
        missing = ["resident_signature"]
        raise DomainError(
            "请住户在签名板上签名", "the resident signs on the pad", code="missing_fields", fields=missing
        )
    if len(text) > max_bytes * 4 // 3 + 4 + len(PNG_DATA_URL):
        raise too_large(max_bytes)
    try:
        if not text.startswith(PNG_DATA_URL):
            raise ValueError
        raw = base64.b64decode(text[len(PNG_DATA_URL) :], validate=True)
        if not raw.startswith(PNG_MAGIC):
            raise ValueError
        _check_image(raw)
    except (ValueError, binascii.Error, OSError, SyntaxError, Image.DecompressionBombError):
        raise DomainError(
            "签名无效，请在签名板上重新签名", "the signature is not valid: sign again on the pad", code="bad_signature"
        ) from None
    if len(raw) > max_bytes:
        raise too_large(max_bytes)
    return text


MAX_SIDE = 4096  # pixels: a pad or a tablet's canvas, never a poster


def _check_image(data: bytes) -> None:
    """The PNG decodes whole, at a pad's size: what is stored can be drawn on a form later. A file that only begins
    like a PNG would otherwise be accepted here and fail when its register or form is printed."""
    with Image.open(io.BytesIO(data)) as image:
        if image.format != "PNG" or max(image.size) > MAX_SIDE:
            raise ValueError
        image.load()
