"""Gate-camera frames of slips printed by our own virtual printer, each with one kind of damage.

The slips are real print jobs (layout, printer font, QR module from the profile) with tokens of the lengths
slips have. Each kind is one thing a guard meets at the gate: a lamp's reflection, a fold, crumpled paper,
a moving hand, a slip held at a slant, a dim booth. Frames are 1280x720 at about 4-5.5 camera pixels per
module, the size ARCHITECTURE.md asks the slip to print at. Every frame has its own seeded generator.
"""

from __future__ import annotations

import cv2
import numpy as np

from devices.qr.synthetic import degrade
from devices.qr.synthetic.frames import FRAME_SIZE, SyntheticFrame
from devices.qr.synthetic.scene import busy_background, composite, desk_background, placement
from devices.qr.synthetic.slip import Slip, printed_slip, printed_token

PRINTED_KINDS = ("glare", "crease", "crumple_light", "crumple_medium", "blur", "tilt", "low_light")
# Token lengths of real slips: a few catalogue lines, several Chinese names, the longest the kiosk allows.
TOKEN_LENGTHS = (180, 280, 380, 480, 644)
_CRUMPLE_MODULES = {"crumple_light": (0.3, 0.5), "crumple_medium": (0.7, 1.0)}  # peak displacement, in modules


class PrintedFrames:
    """Frames of printed slips; the slips (one per token length) are printed once and reused."""

    def __init__(self, seed: int, *, size: tuple[int, int] = FRAME_SIZE) -> None:
        self.seed = seed
        self.size = size
        rng = np.random.default_rng([seed, 99])
        self.slips = [printed_slip(printed_token(rng, n), items=1 + n // 100) for n in TOKEN_LENGTHS]

    def frame(self, kind: str, index: int) -> SyntheticFrame:
        rng = np.random.default_rng([self.seed, PRINTED_KINDS.index(kind), index])
        slip = self.slips[index % len(self.slips)]
        paper = slip.image
        x0, y0, x1, y1 = slip.qr_box
        if kind.startswith("crumple"):
            low, high = _CRUMPLE_MODULES[kind]
            paper = degrade.crumple(rng, paper, float(rng.uniform(low, high)) * slip.module)
        elif kind == "crease":
            through = (rng.uniform(x0, x1), rng.uniform(y0, y1))
            paper = degrade.crease(rng, paper, through, float(rng.uniform(0.4, 0.9)) * slip.module)
        tilt = float(rng.uniform(0.12, 0.22)) if kind == "tilt" else float(rng.uniform(0.0, 0.05))
        module_px = float(rng.uniform(4.0, 5.5))
        frame, centre, side = self._place(rng, slip, paper, module_px, tilt)
        if kind == "glare":
            frame = degrade.specular_glare(rng, frame, centre, float(rng.uniform(0.1, 0.2)) * side)
        if kind == "low_light":
            frame = degrade.low_light(rng, frame, float(rng.uniform(0.22, 0.35)))
        if kind == "blur":
            if rng.random() < 0.5:
                frame = degrade.gaussian_blur(frame, float(rng.uniform(1.0, 1.5)))
            else:
                frame = degrade.motion_blur(rng, frame, float(rng.uniform(3.0, 4.5)))
        else:
            frame = degrade.gaussian_blur(frame, float(rng.uniform(0.3, 0.7)))
        frame = degrade.sensor_noise(rng, frame, 3.0)
        return SyntheticFrame(degrade.jpeg(frame, 85), slip.text, kind, 0)

    def _place(
        self, rng: np.random.Generator, slip: Slip, paper: np.ndarray, module_px: float, tilt: float
    ) -> tuple[np.ndarray, tuple[float, float], float]:
        """The slip in a frame; the code's centre there and its side in camera pixels."""
        x0, y0, x1, y1 = slip.qr_box
        scale = module_px / slip.module
        extent = float(max(x1 - x0, y1 - y0))
        homography = placement(
            rng,
            (paper.shape[1], paper.shape[0]),
            ((x0 + x1) / 2, (y0 + y1) / 2),
            self.size,
            scale,
            float(rng.uniform(0, 360)),
            tilt,
            extent,
        )
        background = busy_background(rng, self.size) if rng.random() < 0.5 else desk_background(rng, self.size)
        tint = rng.uniform(0.9, 1.0, size=3)  # thermal paper is not quite white
        layer = np.clip(paper[:, :, None].astype(np.float32) * tint[None, None, :], 0, 255).astype(np.uint8)
        centre = cv2.perspectiveTransform(np.array([[[(x0 + x1) / 2, (y0 + y1) / 2]]], np.float32), homography)
        cx, cy = (float(v) for v in centre[0, 0])
        return composite(background, layer, homography), (cx, cy), extent * scale


def printed_set(seed: int, per_kind: int, kinds: tuple[str, ...] = PRINTED_KINDS) -> list[SyntheticFrame]:
    """``per_kind`` frames of each kind of damage, of slips printed by the virtual printer."""
    factory = PrintedFrames(seed)
    return [factory.frame(kind, index) for kind in kinds for index in range(per_kind)]
