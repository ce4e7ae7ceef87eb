"""pyzbar (ZBar, needs the libzbar0 system package): reads only dark-on-light codes, so we invert ourselves."""

from __future__ import annotations

from types import ModuleType
from typing import cast

import numpy as np

from devices.qr.decoders.base import Decoder
from devices.qr.result import Decoded, text_from_bytes


class DecoderUnavailable(RuntimeError):
    """A decoder whose library (or system package) is not installed."""


def _load_pyzbar() -> ModuleType:
    try:
        from pyzbar import pyzbar
    except ImportError as exc:  # the Python package is present but libzbar0 is not, or neither is
        raise DecoderUnavailable(
            f"pyzbar cannot load ZBar ({exc}); install the system package libzbar0 (apt-get install libzbar0)"
        ) from None
    return cast(ModuleType, pyzbar)  # pyzbar ships no types


class PyzbarDecoder(Decoder):
    name = "pyzbar"

    def __init__(self) -> None:
        self._pyzbar = _load_pyzbar()
        self._symbols = [self._pyzbar.ZBarSymbol.QRCODE]

    def _read(self, grey: np.ndarray) -> list[Decoded]:
        found = self._pyzbar.decode(grey, symbols=self._symbols)
        return [
            Decoded(
                text_from_bytes(item.data),
                bytes(item.data),
                tuple((float(p.x), float(p.y)) for p in item.polygon),
                self.name,
            )
            for item in found
        ]

    def decode_grey(self, grey: np.ndarray) -> list[Decoded]:
        # ZBar reads the first channel of what it is given: it must be grey, which decode() guarantees.
        codes = self._read(grey)
        if not codes:
            codes = self._read(255 - grey)  # light-on-dark codes (phone dark mode)
        return codes
