"""The gate's per-frame scan: a cheap first pass on every frame, costlier passes only when it fails and the
frame budget has time left.

Passes, in order of frames read per millisecond on the printed-slip and degraded sets:
1. ``first``   zxing-cpp, local-average binarizer, inverted codes, and downscaled copies when the full size
               found nothing with a version; it also reports codes it found (finder patterns located) but
               could not read.
2. ``bent``    each found-but-unread code whose version zxing-cpp made out, resampled along its bent module
               grid (crumpled paper), see :mod:`devices.qr.bent`.
3. ``centre``  the middle of the frame upscaled, where a held slip usually is: small modules get more pixels.
4. ``global``  the whole frame with the global-histogram binarizer (copes with glare gradients differently).
5. ``region``  each found-but-unread code's surroundings, upscaled and read with both binarizers.

``global`` and ``region`` only run when no found code has a version: on a frame where one has, they never
read what ``bent`` could not, and skipping them keeps a failed frame's cost well inside the budget.

Each pass's cost is learnt as it runs (a moving average), and a pass is skipped when it would not fit in
what is left of the budget, so a frame's cost stays bounded whatever it shows.
"""

from __future__ import annotations

import ctypes
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import cv2
import numpy as np
import zxingcpp

from devices.qr.bent import bent_symbol
from devices.qr.decoders import DEFAULT_DECODER, Decoder, make_decoder
from devices.qr.decoders.zxing import Unread, ZxingDecoder
from devices.qr.grey import to_grey
from devices.qr.result import Decoded, Point

# A first pass that finds a code it cannot read (~1 ms of CPU), the bent grid (~1.5-3 ms a code, by its size)
# and the centre pass (~1 ms) must fit, with room for a busy machine; a 25 fps camera gives 40 ms a frame.
DEFAULT_BUDGET_MS = 10.0
_REGION_UPSCALE = 2.0
_CENTRE_FRACTION = 0.6
_CENTRE_UPSCALE = 1.5
# glibc's mallopt parameters (malloc.h): blocks up to 16 MB come from the heap, and up to 128 MB freed at its
# top stays there.
_M_TRIM_THRESHOLD = -1
_M_MMAP_THRESHOLD = -3
_KEPT_BLOCK_BYTES = 16 * 1024 * 1024
_KEPT_HEAP_BYTES = 128 * 1024 * 1024


@dataclass(frozen=True)
class FrameScan:
    """What the pipeline read in one frame, which passes ran, and how long it took."""

    codes: list[Decoded]
    passes: tuple[str, ...]
    ms: float


@dataclass
class _Context:
    grey: np.ndarray
    unread: list[Unread] = field(default_factory=list)
    versioned: list[tuple[tuple[Point, ...], int]] = field(default_factory=list)


@dataclass
class _Pass:
    name: str
    run: Callable[[_Context], list[Decoded]]
    applies: Callable[[_Context], bool]
    estimate_ms: float

    def learn(self, ms: float) -> None:
        self.estimate_ms = 0.8 * self.estimate_ms + 0.2 * ms


def _unique(codes: Sequence[Decoded]) -> list[Decoded]:
    seen: set[bytes] = set()
    out = []
    for code in codes:
        if code.raw not in seen:
            seen.add(code.raw)
            out.append(code)
    return out


class ScanPipeline:
    """Frame → codes. ``budget_ms=None`` runs every pass that applies (for still photos)."""

    def __init__(
        self,
        primary: Decoder | None = None,
        *,
        fallbacks: bool = True,
        budget_ms: float | None = DEFAULT_BUDGET_MS,
        clock: Callable[[], float] = time.perf_counter,
    ) -> None:
        _keep_freed_memory()
        self.primary = primary if primary is not None else ZxingDecoder()
        self.budget_ms = budget_ms
        self._clock = clock
        self._passes: list[_Pass] = []
        if isinstance(self.primary, ZxingDecoder):
            self._passes.append(_Pass("first", self._first_zxing, lambda _: True, 2.0))
            if fallbacks:
                self._passes += self._zxing_fallbacks()
        else:
            # Fallback passes rely on zxing-cpp's found-but-unread reports; other decoders run alone, as they
            # are, so a technician can compare them.
            self._passes.append(_Pass("first", self._first_other, lambda _: True, 30.0))

    @classmethod
    def for_decoder(cls, name: str = DEFAULT_DECODER, *, budget_ms: float | None = DEFAULT_BUDGET_MS) -> ScanPipeline:
        return cls(make_decoder(name), budget_ms=budget_ms)

    @property
    def decoder_name(self) -> str:
        return self.primary.name

    def scan(self, image: np.ndarray) -> FrameScan:
        start = self._clock()
        context = _Context(to_grey(image))
        ran: list[str] = []
        for step in self._passes:
            if ran and not step.applies(context):
                continue
            elapsed = (self._clock() - start) * 1000.0
            if ran and self.budget_ms is not None and elapsed + step.estimate_ms > self.budget_ms:
                continue
            began = self._clock()
            codes = step.run(context)
            step.learn((self._clock() - began) * 1000.0)
            ran.append(step.name)
            if codes:
                return FrameScan(_unique(codes), tuple(ran), (self._clock() - start) * 1000.0)
        return FrameScan([], tuple(ran), (self._clock() - start) * 1000.0)

    def _first_zxing(self, context: _Context) -> list[Decoded]:
        """The primary decoder on the frame at full size, then on its downscaled copies unless the full size
        gave a code, or a code with a version: that one is not too big for the frame, and the bent pass is
        next."""
        assert isinstance(self.primary, ZxingDecoder)
        read = self.primary.read_full_size(context.grey, with_unread=True)
        codes, unread = read.codes, read.unread
        if not codes and all(code.version is None for code in unread):
            more = self.primary.read_downscaled(context.grey, with_unread=True)
            codes, unread = more.codes, unread + more.unread
        context.unread = _distinct(unread)
        context.versioned = _versioned(context.unread)
        return codes

    def _first_other(self, context: _Context) -> list[Decoded]:
        return self.primary.decode_grey(context.grey)

    def _zxing_fallbacks(self) -> list[_Pass]:
        sharp = ZxingDecoder(try_downscale=False)
        sharp_global = ZxingDecoder(try_downscale=False, binarizer=zxingcpp.Binarizer.GlobalHistogram)
        global_hist = ZxingDecoder(binarizer=zxingcpp.Binarizer.GlobalHistogram)
        pure = ZxingDecoder(try_downscale=False, try_invert=False, is_pure=True)

        def region(context: _Context) -> list[Decoded]:
            codes: list[Decoded] = []
            for unread in context.unread:
                crop, (x0, y0) = _around(context.grey, unread.corners)
                big = cv2.resize(crop, None, fx=_REGION_UPSCALE, fy=_REGION_UPSCALE, interpolation=cv2.INTER_CUBIC)
                found = sharp.decode_grey(big) or sharp_global.decode_grey(big)
                codes += [_moved(code, _REGION_UPSCALE, x0, y0) for code in found]
            return codes

        def bent(context: _Context) -> list[Decoded]:
            for corners, version in context.versioned:
                found = pure.decode_grey(bent_symbol(context.grey, corners, version))
                if found:
                    return [Decoded(code.text, code.raw, corners, code.decoder) for code in found]
            return []

        def centre(context: _Context) -> list[Decoded]:
            height, width = context.grey.shape
            ch, cw = int(height * _CENTRE_FRACTION), int(width * _CENTRE_FRACTION)
            y0, x0 = (height - ch) // 2, (width - cw) // 2
            crop = context.grey[y0 : y0 + ch, x0 : x0 + cw]
            big = cv2.resize(crop, None, fx=_CENTRE_UPSCALE, fy=_CENTRE_UPSCALE, interpolation=cv2.INTER_LINEAR)
            return [_moved(code, _CENTRE_UPSCALE, x0, y0) for code in sharp.decode_grey(big)]

        return [
            _Pass("bent", bent, lambda context: bool(context.versioned), 3.0),
            _Pass("centre", centre, lambda _: True, 1.0),
            _Pass("global", lambda context: global_hist.decode_grey(context.grey), lambda c: not c.versioned, 0.8),
            _Pass("region", region, lambda context: bool(context.unread) and not context.versioned, 3.0),
        ]


def _keep_freed_memory() -> None:
    """Keep freed memory in the process's heap (glibc) instead of handing it back to the kernel.

    A frame's large temporaries (the grey frame, zxing-cpp's binarized copies, a resampled code: hundreds of
    kB each) are otherwise unmapped when freed and mapped afresh for the next frame, a page fault for every
    4 kB touched: a thousand on a frame the bent pass reads, up to a third of its time. Kept, the next frame
    reuses them; the process holds on to its largest frame's worth, a few tens of MB.
    """
    if not sys.platform.startswith("linux"):
        return
    try:
        mallopt = ctypes.CDLL(None).mallopt  # glibc; other C libraries have no such call
    except (OSError, AttributeError):
        return
    mallopt(_M_MMAP_THRESHOLD, _KEPT_BLOCK_BYTES)
    mallopt(_M_TRIM_THRESHOLD, _KEPT_HEAP_BYTES)


def _distinct(unread: list[Unread]) -> list[Unread]:
    """Each found code once: zxing-cpp reports one code again from each downscaled copy it tried. The one kept
    is the first with a version (the grid's size), else the first."""
    kept: list[Unread] = []
    for code in sorted(unread, key=lambda u: u.version is None):
        if not any(_same_place(code, other) for other in kept):
            kept.append(code)
    return kept


def _same_place(a: Unread, b: Unread) -> bool:
    (ax, ay), (bx, by) = _centre(a.corners), _centre(b.corners)
    side = max(x for x, _ in a.corners) - min(x for x, _ in a.corners)
    return (ax - bx) ** 2 + (ay - by) ** 2 < (0.25 * side) ** 2


def _centre(corners: tuple[Point, ...]) -> Point:
    return sum(x for x, _ in corners) / len(corners), sum(y for _, y in corners) / len(corners)


def _versioned(unread: list[Unread]) -> list[tuple[tuple[Point, ...], int]]:
    """Corners and version of the found codes whose version zxing-cpp made out (the grid's size), largest
    first: a misread small one is more often a piece of clutter than a slip."""
    found = [(u.corners, u.version) for u in unread if u.version is not None]
    return sorted(found, key=lambda item: -item[1])


def _around(grey: np.ndarray, corners: tuple[Point, ...]) -> tuple[np.ndarray, tuple[int, int]]:
    """The code's bounding box with a quarter of its size as margin (the quiet zone and a misplaced corner)."""
    xs = [x for x, _ in corners]
    ys = [y for _, y in corners]
    margin = 0.25 * max(max(xs) - min(xs), max(ys) - min(ys)) + 8
    height, width = grey.shape
    x0, x1 = int(max(0, min(xs) - margin)), int(min(width, max(xs) + margin))
    y0, y1 = int(max(0, min(ys) - margin)), int(min(height, max(ys) + margin))
    return grey[y0:y1, x0:x1], (x0, y0)


def _moved(code: Decoded, scale: float, x0: int, y0: int) -> Decoded:
    """A code read in a scaled crop, with its corners back in frame coordinates."""
    corners = tuple((x / scale + x0, y / scale + y0) for x, y in code.corners)
    return Decoded(code.text, code.raw, corners, code.decoder)
