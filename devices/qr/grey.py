"""One conversion of a camera frame to 8-bit grey, shared by every decoder."""

from __future__ import annotations

import cv2
import numpy as np


def to_grey(image: np.ndarray) -> np.ndarray:
    """Grey, C-contiguous uint8 view of a BGR, BGRA or grey frame (grey frames are returned as they are)."""
    if image.dtype != np.uint8:
        raise ValueError(f"expected an 8-bit image, got dtype {image.dtype}")
    if image.ndim == 2:
        return np.ascontiguousarray(image)
    if image.ndim == 3 and image.shape[2] == 1:
        return np.ascontiguousarray(image[:, :, 0])
    if image.ndim == 3 and image.shape[2] == 3:
        return cv2.cvtColor(image, cv2.COLOR_BGR2GRAY)
    if image.ndim == 3 and image.shape[2] == 4:
        return cv2.cvtColor(image, cv2.COLOR_BGRA2GRAY)
    raise ValueError(f"expected a grey, BGR or BGRA image, got shape {image.shape}")
