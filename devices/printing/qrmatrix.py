"""QR symbols as module matrices, built the way a printer's GS ( k model 2 builds them.

Slip codes use error correction Q (a quarter of the symbol may be lost to a crease or glare) and, for text in
the QR alphanumeric set (upper case, digits, `` $%*+-./:``), alphanumeric mode, as a printer selects it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import qrcode

if TYPE_CHECKING:
    from qrcode.image.pil import PilImage
    from qrcode.image.pure import PyPNGImage

_LEVELS = {
    "L": qrcode.constants.ERROR_CORRECT_L,
    "M": qrcode.constants.ERROR_CORRECT_M,
    "Q": qrcode.constants.ERROR_CORRECT_Q,
    "H": qrcode.constants.ERROR_CORRECT_H,
}


def _code(data: str, ec: str) -> qrcode.QRCode[PilImage | PyPNGImage]:  # the default image factory
    code = qrcode.QRCode(error_correction=_LEVELS[ec], border=0)
    code.add_data(data.encode("latin-1"))
    return code


QR_EC = "Q"


def qr_modules(data: str, ec: str = QR_EC) -> int:
    """Modules across the smallest symbol holding `data` (cheap: no masking)."""
    return 17 + 4 * _code(data, ec).best_fit()


def qr_matrix(data: str, ec: str = QR_EC) -> list[list[bool]]:
    """The QR symbol's modules (no quiet zone)."""
    code = _code(data, ec)
    code.make(fit=True)
    return code.get_matrix()
