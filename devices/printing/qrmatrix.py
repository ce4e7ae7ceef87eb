"""QR symbols as module matrices, built the way a printer's GS ( k model 2 builds them."""

from __future__ import annotations

import qrcode

_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def _code(data: str, ec: str) -> qrcode.QRCode:
    code = qrcode.QRCode(error_correction=_LEVELS[ec], border=0)
    code.add_data(data.encode("latin-1"))
    return code


def qr_modules(data: str, ec: str = "M") -> int:
    """Modules across the smallest symbol holding `data` (cheap: no masking)."""
    return 17 + 4 * _code(data, ec).best_fit()


def qr_matrix(data: str, ec: str = "M") -> list[list[bool]]:
    """The QR symbol's modules (no quiet zone)."""
    code = _code(data, ec)
    code.make(fit=True)
    return code.get_matrix()
