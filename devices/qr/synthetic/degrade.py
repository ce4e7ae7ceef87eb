"""Camera-like degradations of an image; each takes the random generator it may use, so results are repeatable."""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np
from numpy.typing import NDArray


def _pixels(values: NDArray[np.floating[Any]]) -> NDArray[np.uint8]:
    """Float intensities back to 8-bit pixels, clipped to 0..255."""
    clipped: NDArray[np.floating[Any]] = np.clip(values, 0, 255)  # numpy's stubs cannot infer this one
    return clipped.astype(np.uint8)


def smooth_field(rng: np.random.Generator, shape: tuple[int, int], cells: int) -> np.ndarray:
    """A smooth random field in [-1, 1] of ``shape`` (height, width), with about ``cells`` bumps across."""
    height, width = shape
    coarse = rng.uniform(-1.0, 1.0, size=(max(2, cells * height // max(width, 1) + 2), cells + 2))
    field = cv2.resize(coarse.astype(np.float32), (width, height), interpolation=cv2.INTER_CUBIC)
    return np.clip(field, -1.0, 1.0)


def crumple(rng: np.random.Generator, image: np.ndarray, amplitude_px: float) -> np.ndarray:
    """Uneven paper: bend the image by a smooth displacement field and shade it as folds would."""
    height, width = image.shape[:2]
    if amplitude_px > 0:
        dx = smooth_field(rng, (height, width), 4) * amplitude_px
        dy = smooth_field(rng, (height, width), 4) * amplitude_px
        xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
        image = cv2.remap(image, xs + dx, ys + dy, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
    shade = 1.0 - 0.12 * (smooth_field(rng, (height, width), 3) + 1.0) * min(1.0, amplitude_px / 3.0 + 0.3)
    if image.ndim == 3:
        shade = shade[:, :, None]
    return _pixels(image.astype(np.float32) * shade)


def gaussian_blur(image: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return image
    return cv2.GaussianBlur(image, (0, 0), sigmaX=sigma)


def motion_blur(rng: np.random.Generator, image: np.ndarray, length_px: float) -> np.ndarray:
    """A hand moving the slip: a line kernel at a random angle."""
    size = round(length_px)
    if size < 2:
        return image
    line = np.zeros((size, size), np.float32)
    line[size // 2, :] = 1.0
    angle = float(rng.uniform(0, 180))
    rotation = cv2.getRotationMatrix2D(((size - 1) / 2, (size - 1) / 2), angle, 1.0)
    kernel = np.asarray(cv2.warpAffine(line, rotation, (size, size)), np.float32)
    kernel /= max(float(kernel.sum()), 1e-6)
    return cv2.filter2D(image, -1, kernel)


def sensor_noise(rng: np.random.Generator, image: np.ndarray, sigma: float) -> np.ndarray:
    if sigma <= 0:
        return image
    noise = rng.normal(0.0, sigma, size=image.shape).astype(np.float32)
    return _pixels(image.astype(np.float32) + noise)


def low_light(rng: np.random.Generator, image: np.ndarray, gain: float) -> np.ndarray:
    """A dim lobby: less signal, a lifted black level, then the sensor noise that comes with high gain."""
    dim = image.astype(np.float32) * gain + 8.0
    return sensor_noise(rng, _pixels(dim), 3.0 + 6.0 * (1.0 - gain))


def glare(
    rng: np.random.Generator, image: np.ndarray, centre: tuple[float, float], radius: float, strength: float
) -> np.ndarray:
    """A ceiling light reflected on glossy paper or a screen: a bright soft blob that washes out contrast."""
    height, width = image.shape[:2]
    cx = centre[0] + rng.uniform(-radius, radius)
    cy = centre[1] + rng.uniform(-radius, radius)
    ys, xs = np.ogrid[:height, :width]
    blob = np.exp(-(((xs - cx) ** 2 + (ys - cy) ** 2) / (2.0 * radius**2))).astype(np.float32)
    if image.ndim == 3:
        blob = blob[:, :, None]
    base = image.astype(np.float32)
    return _pixels(base + (255.0 - base) * blob * strength)


def moire(rng: np.random.Generator, image: np.ndarray, strength: float) -> np.ndarray:
    """Interference between a screen's pixel grid and the sensor's: fine slanted fringes."""
    height, width = image.shape[:2]
    period = rng.uniform(2.2, 4.0)
    angle = rng.uniform(0, np.pi)
    ys, xs = np.mgrid[:height, :width].astype(np.float32)
    phase = (xs * np.cos(angle) + ys * np.sin(angle)) * (2 * np.pi / period)
    beat = smooth_field(rng, (height, width), 3) * 0.5 + 0.5
    pattern = 1.0 + strength * np.sin(phase) * beat
    if image.ndim == 3:
        pattern = pattern[:, :, None]
    return _pixels(image.astype(np.float32) * pattern)


def jpeg(image: np.ndarray, quality: int) -> np.ndarray:
    """A compressed stream (RTSP cameras, MJPG webcams)."""
    ok, encoded = cv2.imencode(".jpg", image, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError("JPEG encoding failed")
    decoded = cv2.imdecode(encoded, cv2.IMREAD_UNCHANGED)
    if decoded is None:
        raise RuntimeError("JPEG decoding failed")
    return decoded


def crease(rng: np.random.Generator, image: np.ndarray, through: tuple[float, float], depth_px: float) -> np.ndarray:
    """A fold pressed flat again: a straight line through ``through`` where the paper kinks, so the far side is
    shifted by up to ``depth_px`` and lit differently, with a thin shadow and a highlight along the ridge."""
    height, width = image.shape[:2]
    angle = rng.uniform(0, np.pi)
    normal = np.array([np.cos(angle), np.sin(angle)], np.float32)
    xs, ys = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
    distance = (xs - through[0]) * normal[0] + (ys - through[1]) * normal[1]
    # The far side moves towards the fold as its half tilts; the ridge itself stays put.
    pull = depth_px * np.clip(distance / 40.0, 0.0, 1.0)
    bent = cv2.remap(
        image, xs + pull * normal[0], ys + pull * normal[1], cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE
    )
    side = np.where(distance > 0, rng.uniform(0.72, 0.9), rng.uniform(0.95, 1.05)).astype(np.float32)
    ridge = 1.0 - 0.35 * np.exp(-((distance - 1.5) ** 2) / 2.0) + 0.25 * np.exp(-((distance + 2.0) ** 2) / 3.0)
    shade = side * ridge.astype(np.float32)
    if bent.ndim == 3:
        shade = shade[:, :, None]
    return _pixels(bent.astype(np.float32) * shade)


def specular_glare(
    rng: np.random.Generator, image: np.ndarray, centre: tuple[float, float], radius: float
) -> np.ndarray:
    """A lamp's reflection on glossy thermal paper: a core burnt out to white (nothing printed shows through)
    and a soft halo that lifts the black around it."""
    height, width = image.shape[:2]
    cx = centre[0] + rng.uniform(-0.3, 0.3) * radius
    cy = centre[1] + rng.uniform(-0.3, 0.3) * radius
    stretch = rng.uniform(0.6, 1.6)  # lamps are seldom round in a reflection
    ys, xs = np.ogrid[:height, :width]
    blob = np.exp(-(((xs - cx) / stretch) ** 2 + ((ys - cy) * stretch) ** 2) / (2.0 * radius**2)).astype(np.float32)
    lift = np.clip(blob * rng.uniform(1.6, 2.4), 0.0, 1.0)  # saturates where blob > ~0.5
    if image.ndim == 3:
        lift = lift[:, :, None]
    base = image.astype(np.float32)
    return _pixels(base + (255.0 - base) * lift)
