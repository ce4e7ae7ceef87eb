"""Seeded synthetic camera frames of release slips and phone screens (see :mod:`.frames`)."""

from devices.qr.synthetic.frames import (
    FRAME_SIZE,
    LEVELS,
    FrameFactory,
    SyntheticFrame,
    code_free_set,
    degraded_set,
)
from devices.qr.synthetic.slip import Slip, draw_slip, load_slip, qr_image, slip_token

__all__ = [
    "FRAME_SIZE",
    "LEVELS",
    "FrameFactory",
    "Slip",
    "SyntheticFrame",
    "code_free_set",
    "degraded_set",
    "draw_slip",
    "load_slip",
    "qr_image",
    "slip_token",
]
