"""Composing a camera frame: a background, and a slip or phone screen placed in it under perspective."""

from __future__ import annotations

import cv2
import numpy as np

_WORDS = ("GATE", "LOBBY", "EXIT", "B2", "PARKING", "NO SMOKING", "3-2-1201", "DELIVERY", "0571", "QR?", "ID")


def desk_background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A plain counter top: a smooth colour gradient with a little texture."""
    width, height = size
    base = rng.uniform(40, 200, size=3).astype(np.float32)
    tilt = rng.uniform(-40, 40, size=3).astype(np.float32)
    ramp = np.linspace(-0.5, 0.5, width, dtype=np.float32)[None, :, None]
    frame = base[None, None, :] + tilt[None, None, :] * ramp + rng.normal(0, 3, size=(height, width, 3))
    return np.clip(np.broadcast_to(frame, (height, width, 3)), 0, 255).astype(np.uint8)


def finder_like(size: int) -> np.ndarray:
    """Nested squares shaped like a QR finder pattern (1:1:3:1:1): a hard negative for detectors."""
    unit = max(1, size // 7)
    square = np.zeros((7 * unit, 7 * unit), np.uint8)
    square[unit:-unit, unit:-unit] = 255
    square[2 * unit : -2 * unit, 2 * unit : -2 * unit] = 0
    return square


def busy_background(rng: np.random.Generator, size: tuple[int, int]) -> np.ndarray:
    """A cluttered gate booth: shapes, lines, printed words, stripes, checkers and finder-like squares."""
    width, height = size
    frame = desk_background(rng, size)
    for _ in range(int(rng.integers(25, 45))):
        colour = tuple(int(c) for c in rng.integers(0, 256, size=3))
        kind = int(rng.integers(0, 6))
        x, y = int(rng.integers(0, width)), int(rng.integers(0, height))
        if kind == 0:
            w, h = int(rng.integers(20, 300)), int(rng.integers(20, 200))
            cv2.rectangle(frame, (x, y), (x + w, y + h), colour, -1 if rng.random() < 0.6 else int(rng.integers(1, 6)))
        elif kind == 1:
            end = (int(rng.integers(0, width)), int(rng.integers(0, height)))
            cv2.line(frame, (x, y), end, colour, int(rng.integers(1, 8)))
        elif kind == 2:
            cv2.circle(frame, (x, y), int(rng.integers(5, 120)), colour, -1 if rng.random() < 0.5 else 3)
        elif kind == 3:
            word = str(rng.choice(_WORDS))
            cv2.putText(
                frame,
                word,
                (x, y),
                cv2.FONT_HERSHEY_SIMPLEX,
                float(rng.uniform(0.5, 3.0)),
                colour,
                int(rng.integers(1, 5)),
            )
        elif kind == 4:
            w, h = int(rng.integers(40, 200)), int(rng.integers(30, 120))
            stripes = (np.arange(w) // int(rng.integers(2, 9))) % 2
            patch = np.where(stripes[None, :, None] > 0, 255, 0).astype(np.uint8)
            _paste(frame, np.broadcast_to(patch, (h, w, 3)), x, y)
        else:
            cell = int(rng.integers(3, 12))
            n = int(rng.integers(6, 20))
            checker = (
                (np.indices((n, n)).sum(axis=0) % 2) * 255 if rng.random() < 0.5 else rng.integers(0, 2, (n, n)) * 255
            )
            patch = np.kron(checker.astype(np.uint8), np.ones((cell, cell), np.uint8))
            _paste(frame, np.repeat(patch[:, :, None], 3, axis=2), x, y)
            if rng.random() < 0.5:
                square = finder_like(int(rng.integers(14, 60)))
                _paste(frame, np.repeat(square[:, :, None], 3, axis=2), x + patch.shape[1] + 4, y)
    return frame


def _paste(frame: np.ndarray, patch: np.ndarray, x: int, y: int) -> None:
    height, width = frame.shape[:2]
    x1, y1 = min(width, x + patch.shape[1]), min(height, y + patch.shape[0])
    if x1 > x and y1 > y:
        frame[y:y1, x:x1] = patch[: y1 - y, : x1 - x]


def placement(
    rng: np.random.Generator,
    object_size: tuple[int, int],
    anchor: tuple[float, float],
    frame_size: tuple[int, int],
    scale: float,
    angle_deg: float,
    perspective: float,
    anchor_extent: float,
) -> np.ndarray:
    """A homography taking an object (width, height) into the frame.

    ``anchor`` (a point of the object, the QR centre) lands near the frame centre, scaled by ``scale`` and
    rotated by ``angle_deg``; the object's corners then move by up to ``perspective`` × the anchor's extent
    in the frame, a tilt of the slip towards or away from the camera.
    """
    width, height = object_size
    frame_w, frame_h = frame_size
    margin = anchor_extent * scale * 0.75
    target = (
        frame_w / 2 + rng.uniform(-1, 1) * max(0.0, frame_w / 2 - margin) * 0.6,
        frame_h / 2 + rng.uniform(-1, 1) * max(0.0, frame_h / 2 - margin) * 0.6,
    )
    rotation = cv2.getRotationMatrix2D(anchor, angle_deg, scale)
    rotation[:, 2] += np.array(target) - np.array(anchor)
    corners = np.array([[0, 0], [width, 0], [width, height], [0, height]], np.float32)
    placed = cv2.transform(corners[None], rotation)[0]
    jitter = rng.uniform(-1, 1, size=(4, 2)) * perspective * anchor_extent * scale
    return cv2.getPerspectiveTransform(corners, (placed + jitter).astype(np.float32))


def composite(frame: np.ndarray, layer: np.ndarray, homography: np.ndarray) -> np.ndarray:
    """``layer`` (BGR) warped by ``homography`` over ``frame``, with anti-aliased edges."""
    height, width = frame.shape[:2]
    warped = cv2.warpPerspective(layer, homography, (width, height), flags=cv2.INTER_LINEAR)
    mask = cv2.warpPerspective(
        np.full(layer.shape[:2], 255, np.uint8), homography, (width, height), flags=cv2.INTER_LINEAR
    )
    alpha = (mask.astype(np.float32) / 255.0)[:, :, None]
    return (warped.astype(np.float32) * alpha + frame.astype(np.float32) * (1.0 - alpha)).astype(np.uint8)


def phone_screen(code: np.ndarray, *, dark_mode: bool) -> np.ndarray:
    """A phone showing a QR code: bezel, screen, the code centred; dark mode draws light modules on black."""
    side = code.shape[0]
    screen_w, screen_h = int(side * 1.25), int(side * 2.1)
    bezel = max(6, side // 14)
    background, ink = (18, 235) if dark_mode else (250, 10)
    screen = np.full((screen_h, screen_w), background, np.uint8)
    top, left = (screen_h - side) // 2, (screen_w - side) // 2
    screen[top : top + side, left : left + side] = np.where(code < 128, ink, background)
    # A title bar and a few lines of text above and below, as an app would show.
    cv2.rectangle(screen, (0, 0), (screen_w, side // 6), int(abs(background - 40)), -1)
    for row in range(3):
        y = top + side + 20 + row * 22
        cv2.line(screen, (left, y), (left + int(side * (0.9 - 0.2 * row)), y), ink, 6)
    phone = np.full((screen_h + 2 * bezel, screen_w + 2 * bezel), 12, np.uint8)
    phone[bezel:-bezel, bezel:-bezel] = screen
    return phone
