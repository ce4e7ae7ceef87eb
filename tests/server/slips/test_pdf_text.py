"""The tests' reader of the console's PDFs (`pdf_text`) reads every stream whole, whatever its last byte."""

from __future__ import annotations

import zlib

from .pdf_text import _stream


def test_a_compressed_stream_ending_in_a_carriage_return_is_read_whole() -> None:
    """A stream's last byte may be 0x0D (one compressed stream in 256): it is data, not part of the line break
    before `endstream`, so the page's text operators are still found (R-REL-7's reconciliation PDF once read as
    empty this way)."""
    # zlib's stream ends with its Adler-32 sum, whose last byte is 1 + the sum of the bytes, modulo 256.
    content = next(
        text for n in range(1, 300) if zlib.compress(text := b"BT /F1 12 Tf (%s) Tj ET" % (b"a" * n))[-1] == 13
    )
    data = zlib.compress(content)
    body = b"<< /Filter /FlateDecode /Length %d >>\nstream\n%s\nendstream\n" % (len(data), data)
    assert _stream(body) == content
    assert _stream(b"<< /Length 12 0 R >>\nstream\n%s\nendstream\n" % data) == content  # a length given elsewhere
