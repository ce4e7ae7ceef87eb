"""QR decoders behind one interface: ``make_decoder("zxing" | "pyzbar" | "opencv")``."""

from __future__ import annotations

from collections.abc import Callable

from devices.qr.decoders.base import Decoder
from devices.qr.decoders.opencv import OpenCVDecoder
from devices.qr.decoders.pyzbar import DecoderUnavailable, PyzbarDecoder
from devices.qr.decoders.zxing import ZxingDecoder, ZxingRead

DEFAULT_DECODER = "zxing"

_FACTORIES: dict[str, Callable[[], Decoder]] = {
    "zxing": ZxingDecoder,
    "pyzbar": PyzbarDecoder,
    "opencv": OpenCVDecoder,
}

DECODER_NAMES: tuple[str, ...] = tuple(_FACTORIES)


def make_decoder(name: str = DEFAULT_DECODER) -> Decoder:
    """A new decoder by name; raises ValueError naming the known decoders for any other name."""
    try:
        factory = _FACTORIES[name]
    except KeyError:
        raise ValueError(f"unknown decoder {name!r}; expected one of: {', '.join(DECODER_NAMES)}") from None
    return factory()


__all__ = [
    "DECODER_NAMES",
    "DEFAULT_DECODER",
    "Decoder",
    "DecoderUnavailable",
    "OpenCVDecoder",
    "PyzbarDecoder",
    "ZxingDecoder",
    "ZxingRead",
    "make_decoder",
]
