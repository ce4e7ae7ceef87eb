"""Seeded camera-like frames of slips and phone screens, across difficulty levels, for tests and the benchmark.

Every frame comes from its own generator seeded by (factory seed, kind, index), so a frame is the same
whatever else was generated before it.
"""

from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from devices.qr.synthetic import degrade
from devices.qr.synthetic.scene import busy_background, composite, desk_background, phone_screen, placement
from devices.qr.synthetic.slip import Slip, draw_slip, qr_image, slip_token

FRAME_SIZE = (1280, 720)
LEVELS = (0, 1, 2, 3)

# Per difficulty level: camera pixels per module, tilt, paper bend, blur, noise, and chances of bad light.
_MODULE_PX = ((4.5, 7.0), (3.2, 4.5), (2.5, 3.4), (2.0, 2.7))
_PERSPECTIVE = (0.03, 0.08, 0.12, 0.18)
_CRUMPLE_PX = (0.0, 1.0, 2.0, 3.0)
_BLUR_SIGMA = ((0.0, 0.5), (0.3, 0.8), (0.5, 1.0), (0.7, 1.2))
_NOISE_SIGMA = (2.0, 4.0, 7.0, 10.0)
_JPEG_QUALITY = (92, 85, 75, 65)
_KIND_IDS = {"clean": 1, "rotated": 2, "inverted": 3, "degraded": 4, "phone": 5, "no_code": 6}


@dataclass(frozen=True)
class SyntheticFrame:
    """A BGR camera frame, the text of the code in it (None when there is none), how it was made."""

    image: np.ndarray
    text: str | None
    kind: str
    level: int


class FrameFactory:
    """Makes frames from drawn slips (a new token per frame) or from one given slip (e.g. a printer PNG)."""

    def __init__(self, seed: int, *, size: tuple[int, int] = FRAME_SIZE, slip: Slip | None = None) -> None:
        self.seed = seed
        self.size = size
        self.slip = slip

    def _rng(self, kind: str, index: int, level: int = 0) -> np.random.Generator:
        return np.random.default_rng([self.seed, _KIND_IDS[kind], level, index])

    def _slip(self, rng: np.random.Generator) -> Slip:
        return self.slip if self.slip is not None else draw_slip(slip_token(rng))

    def _place_slip(
        self,
        rng: np.random.Generator,
        slip: Slip,
        background: np.ndarray,
        *,
        module_px: float,
        angle: float,
        perspective: float,
        paper: np.ndarray | None = None,
    ) -> np.ndarray:
        x0, y0, x1, y1 = slip.qr_box
        image = slip.image if paper is None else paper
        scale = module_px / slip.module
        homography = placement(
            rng,
            (image.shape[1], image.shape[0]),
            ((x0 + x1) / 2, (y0 + y1) / 2),
            self.size,
            scale,
            angle,
            perspective,
            float(max(x1 - x0, y1 - y0)),
        )
        tint = rng.uniform(0.9, 1.0, size=3)  # thermal paper is not quite white
        layer = np.clip(image[:, :, None].astype(np.float32) * tint[None, None, :], 0, 255).astype(np.uint8)
        return composite(background, layer, homography)

    def clean(self, index: int = 0) -> SyntheticFrame:
        """A flat, upright, sharp slip at 5 px per module on a plain counter."""
        rng = self._rng("clean", index)
        slip = self._slip(rng)
        frame = self._place_slip(rng, slip, desk_background(rng, self.size), module_px=5.0, angle=0.0, perspective=0.0)
        return SyntheticFrame(frame, slip.text, "clean", 0)

    def rotated(self, index: int = 0, angle: float | None = None) -> SyntheticFrame:
        """A slip held at an odd angle (any angle, slight tilt)."""
        rng = self._rng("rotated", index)
        slip = self._slip(rng)
        turn = float(rng.uniform(20, 340)) if angle is None else angle
        frame = self._place_slip(
            rng, slip, desk_background(rng, self.size), module_px=5.0, angle=turn, perspective=0.04
        )
        return SyntheticFrame(frame, slip.text, "rotated", 0)

    def inverted(self, index: int = 0) -> SyntheticFrame:
        """A light-on-dark code (a reversed print, or a screen in dark mode) on a plain counter."""
        rng = self._rng("inverted", index)
        slip = self._slip(rng)
        frame = self._place_slip(
            rng,
            slip,
            desk_background(rng, self.size),
            module_px=5.0,
            angle=float(rng.uniform(-15, 15)),
            perspective=0.03,
            paper=255 - slip.image,
        )
        return SyntheticFrame(frame, slip.text, "inverted", 0)

    def degraded(self, index: int, level: int) -> SyntheticFrame:
        """A slip as a gate camera sees it at ``level`` (0 easy … 3 hard): tilt, bends, blur, noise, bad light."""
        rng = self._rng("degraded", index, level)
        slip = self._slip(rng)
        paper = degrade.crumple(rng, slip.image, _CRUMPLE_PX[level]) if level > 0 else slip.image
        background = busy_background(rng, self.size) if rng.random() < 0.5 else desk_background(rng, self.size)
        frame = self._place_slip(
            rng,
            slip,
            background,
            module_px=float(rng.uniform(*_MODULE_PX[level])),
            angle=float(rng.uniform(0, 360)),
            perspective=float(rng.uniform(0, _PERSPECTIVE[level])),
            paper=paper,
        )
        return SyntheticFrame(self._camera(rng, frame, level), slip.text, "degraded", level)

    def phone(self, index: int, level: int, *, dark_mode: bool, moire: bool) -> SyntheticFrame:
        """A phone screen showing the code, light or dark mode, with or without moiré fringes."""
        rng = self._rng("phone", index, level * 4 + 2 * int(dark_mode) + int(moire))
        text = self.slip.text if self.slip is not None else slip_token(rng)
        if text is None:
            raise ValueError("a phone frame needs a slip with a code")
        module_px = float(rng.uniform(*_MODULE_PX[min(level + 1, 3)])) * 1.2
        code = qr_image(text, 6)
        screen = phone_screen(code, dark_mode=dark_mode)
        centre = (screen.shape[1] / 2, screen.shape[0] / 2)
        homography = placement(
            rng,
            (screen.shape[1], screen.shape[0]),
            centre,
            self.size,
            module_px / 6,
            float(rng.uniform(-40, 40)),
            float(rng.uniform(0, _PERSPECTIVE[level])),
            float(code.shape[0]),
        )
        background = busy_background(rng, self.size) if rng.random() < 0.5 else desk_background(rng, self.size)
        frame = composite(background, cv2.cvtColor(screen, cv2.COLOR_GRAY2BGR), homography)
        if moire:
            frame = degrade.moire(rng, frame, float(rng.uniform(0.12, 0.25)))
        kind = f"phone_{'dark' if dark_mode else 'light'}{'_moire' if moire else ''}"
        return SyntheticFrame(self._camera(rng, frame, level, glossy=True), text, kind, level)

    def without_code(self, index: int) -> SyntheticFrame:
        """A busy frame with no QR code in it: clutter, finder-like squares, sometimes a slip without a code."""
        rng = self._rng("no_code", index)
        frame = busy_background(rng, self.size)
        if rng.random() < 0.5:
            blank = draw_slip(None)
            frame = self._place_slip(
                rng,
                blank,
                frame,
                module_px=float(rng.uniform(2.5, 6.0)),
                angle=float(rng.uniform(0, 360)),
                perspective=0.08,
            )
        level = int(rng.integers(0, 4))
        return SyntheticFrame(self._camera(rng, frame, level), None, "no_code", level)

    def _camera(self, rng: np.random.Generator, frame: np.ndarray, level: int, *, glossy: bool = False) -> np.ndarray:
        """What the sensor and lens add: glare, low light, blur, noise, compression."""
        width, height = self.size
        if rng.random() < (0.35 if glossy else 0.15) * level:
            centre = (width / 2 + rng.uniform(-200, 200), height / 2 + rng.uniform(-150, 150))
            frame = degrade.glare(rng, frame, centre, float(rng.uniform(60, 160)), float(rng.uniform(0.3, 0.6)))
        if rng.random() < 0.2 * level:
            frame = degrade.low_light(rng, frame, float(rng.uniform(0.25, 0.5)))
        frame = degrade.gaussian_blur(frame, float(rng.uniform(*_BLUR_SIGMA[level])))
        if level >= 2 and rng.random() < 0.3:
            frame = degrade.motion_blur(rng, frame, float(rng.uniform(2.0, 3.5)))
        frame = degrade.sensor_noise(rng, frame, _NOISE_SIGMA[level])
        return degrade.jpeg(frame, _JPEG_QUALITY[level])


def degraded_set(seed: int, per_level: int, levels: tuple[int, ...] = LEVELS) -> list[SyntheticFrame]:
    """``per_level`` frames at each level: three in four are slips, the rest phones (light, dark, moiré)."""
    factory = FrameFactory(seed)
    frames = []
    for level in levels:
        for index in range(per_level):
            if index % 4 == 3:
                variant = (index // 4) % 3
                frames.append(factory.phone(index, level, dark_mode=variant != 0, moire=variant == 2))
            else:
                frames.append(factory.degraded(index, level))
    return frames


def code_free_set(seed: int, count: int) -> list[SyntheticFrame]:
    factory = FrameFactory(seed)
    return [factory.without_code(index) for index in range(count)]
