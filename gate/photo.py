"""The photo a gate keeps with a decision: the camera frame it decided on, as a JPEG under 200 KB (smaller quality
first, then a smaller picture), so a release with its photo stays a small request."""

from __future__ import annotations

import cv2
import numpy as np

MAX_PHOTO_BYTES = 200 * 1024
QUALITIES = (80, 65, 50, 35)


def jpeg_under(image: np.ndarray, limit: int = MAX_PHOTO_BYTES) -> bytes:
    """`image` (grey or BGR) as a JPEG of at most `limit` bytes."""
    picture = image
    while True:
        for quality in QUALITIES:
            ok, encoded = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, quality])
            if ok and len(encoded) <= limit:
                return encoded.tobytes()
        height, width = picture.shape[:2]
        if width <= 64 or height <= 64:
            raise ValueError("the frame does not fit in a JPEG of that size")
        picture = cv2.resize(picture, (width // 2, height // 2), interpolation=cv2.INTER_AREA)
