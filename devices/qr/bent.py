"""Reading a QR code printed on bent paper: follow the bent module grid, then let zxing-cpp decode what was sampled.

A crumpled slip bends the grid smoothly by up to a module or two, so one homography from the code's corners
samples many modules in the wrong place, and zxing-cpp's own alignment-pattern grid is too coarse for bumps
a couple of dozen modules across. Here, for a code zxing-cpp found but could not read:

1. a homography from its corners takes module coordinates to the frame;
2. the finder and alignment patterns are located near where that homography puts them, and a thin-plate
   spline through their offsets gives a first, smooth displacement of every module;
3. the module edges themselves then give what is left: in the image resampled on that grid, edges fall on
   whole module coordinates, so the phase of the edge strength at the module frequency, averaged over a few
   modules, is the remaining offset; it is known modulo one module, so it is unwrapped across the code (least
   squares) and pinned to the patterns;
4. every module is sampled at its corrected centre, thresholded against its neighbours and drawn as a clean
   symbol, which zxing-cpp then decodes with its usual Reed–Solomon check.

The result is only ever a candidate for that check: a wrong grid gives a symbol that fails it, as a damaged
code does in any decoder, and nothing here makes up a text (the slip's signature is checked after that).
"""

from __future__ import annotations

from collections.abc import Iterator

import cv2
import numpy as np

from devices.qr.result import Point

_PX = 4  # pixels per module of the resampled code
_MARGIN = 3  # modules around the code in the resampled image, room to find a misplaced finder pattern
_EDGE_WINDOW = 2.0  # modules: the spread of the average that measures the grid's phase
_QUIET = 4  # modules of quiet zone around the drawn symbol
_THRESHOLD_WINDOW = 9  # modules: a module is dark when darker than the mean of this square around it
_MIN_MATCH = 0.5  # normalised correlation below which a pattern is taken as not found
_TPS_STRIDE = 3  # modules between the points where the spline is solved


def alignment_positions(version: int) -> list[int]:
    """Row/column indices of the alignment pattern centres of a QR code version (ISO/IEC 18004 Annex E)."""
    if version < 2:
        return []
    count = version // 7 + 2
    size = 17 + 4 * version
    step = 26 if version == 32 else (version * 4 + count * 2 + 1) // (count * 2 - 2) * 2
    return [6, *sorted(size - 7 - i * step for i in range(count - 1))]


def _pattern(rings: int) -> np.ndarray:
    """A finder (rings=4: light border, 7×7 dark frame…) or alignment (rings=3) pattern at ``_PX`` px a module."""
    side = 2 * rings + 1
    modules = np.zeros((side, side), np.float32)
    for ring in range(rings + 1):
        light = ring % 2 == 0
        modules[ring : side - ring, ring : side - ring] = 255.0 if light else 0.0
    if rings == 4:  # a finder's centre is a 3×3 dark square, not a ring
        modules[3:6, 3:6] = 0.0
    return cv2.resize(modules, None, fx=_PX, fy=_PX, interpolation=cv2.INTER_NEAREST)


_FINDER = _pattern(4)
_ALIGNMENT = _pattern(3)


class BentGrid:
    """One found-but-unread code: its size, the homography of its corners, and the grid's displacement field."""

    def __init__(self, grey: np.ndarray, corners: tuple[Point, ...], version: int) -> None:
        self.grey = grey
        self.version = version
        self.size = 17 + 4 * version
        square = np.array([[0, 0], [self.size, 0], [self.size, self.size], [0, self.size]], np.float32)
        self.homography = cv2.getPerspectiveTransform(square, np.array(corners, np.float32))
        self.dx = np.zeros((self.size, self.size), np.float32)
        self.dy = np.zeros((self.size, self.size), np.float32)
        self.anchors: list[tuple[Point, Point]] = []  # (module position, measured offset) of located patterns

    def fit_patterns(self) -> None:
        """Step 2: locate the finder and alignment patterns and bend the grid smoothly through them."""
        image = self.resampled()
        self.anchors = []
        for centre, template in self._patterns():
            offset = _locate(image, template, centre)
            if offset is not None:
                self.anchors.append((centre, offset))
        if self.anchors:
            self.dx, self.dy = _thin_plate(self.anchors, self.size)

    def follow_edges(self) -> None:
        """Step 3: add the offset the module edges still show, unwrapped across the code, pinned to the patterns."""
        shifts = []
        for wrapped in _edge_phase(self.resampled(), self.size):
            offset = _unwrap(wrapped)
            at_anchors = [offset[int(v), int(u)] for (u, v), _ in self.anchors] or [0.0]
            shifts.append(offset - np.round(np.median(at_anchors)))
        self.dx = self.dx + shifts[0]
        self.dy = self.dy + shifts[1]

    def resampled(self) -> np.ndarray:
        """The code and ``_MARGIN`` modules around it on the current grid, ``_PX`` px a module (float32).

        The grid is mapped to the frame exactly at module centres and linearly in between: the bend is smooth
        over a module.
        """
        centres = self._module_centres()
        side = centres.shape[0] * _PX
        map_x = cv2.resize(centres[..., 0], (side, side), interpolation=cv2.INTER_LINEAR)
        map_y = cv2.resize(centres[..., 1], (side, side), interpolation=cv2.INTER_LINEAR)
        image = cv2.remap(self.grey, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        return image.astype(np.float32)

    def symbol(self) -> np.ndarray:
        """Step 4: the code drawn clean from its module centres, with a quiet zone, 4 px a module."""
        values = self._module_values()
        threshold = cv2.blur(values, (_THRESHOLD_WINDOW, _THRESHOLD_WINDOW), borderType=cv2.BORDER_REFLECT)
        drawn = np.full((self.size + 2 * _QUIET, self.size + 2 * _QUIET), 255, np.uint8)
        drawn[_QUIET:-_QUIET, _QUIET:-_QUIET] = np.where(values < threshold, 0, 255)
        return cv2.resize(drawn, None, fx=4, fy=4, interpolation=cv2.INTER_NEAREST)

    def _module_values(self) -> np.ndarray:
        """Each module's grey: the mean of the middle half of its pixels in :meth:`resampled` (the two middle
        pixels each way, an eighth of a module either side of its centre), which averages noise and keeps
        clear of the neighbours. Only those pixels are sampled."""
        across = _middle_pixels(self._module_centres()).transpose(1, 0, 2)
        at = _middle_pixels(across).transpose(1, 0, 2)
        map_x, map_y = (np.ascontiguousarray(at[..., axis]) for axis in (0, 1))
        pixels = cv2.remap(self.grey, map_x, map_y, cv2.INTER_LINEAR, borderMode=cv2.BORDER_REPLICATE)
        values: np.ndarray = cv2.resize(pixels.astype(np.float32), (self.size, self.size), interpolation=cv2.INTER_AREA)
        return values

    def _module_centres(self) -> np.ndarray:
        """Frame coordinates (x, y) of the centres of the code's modules and of ``_MARGIN`` modules around it,
        on the current grid."""
        cells = self.size + 2 * _MARGIN
        centres = np.arange(cells, dtype=np.float32) - _MARGIN + 0.5
        u, v = np.meshgrid(centres, centres)
        inside = np.clip(centres - 0.5, 0, self.size - 1)
        shift_x = self.dx[np.ix_(inside.astype(int), inside.astype(int))]
        shift_y = self.dy[np.ix_(inside.astype(int), inside.astype(int))]
        return self._to_frame(u + shift_x, v + shift_y)

    def _to_frame(self, u: np.ndarray, v: np.ndarray) -> np.ndarray:
        points = np.stack([u, v], axis=-1).reshape(-1, 1, 2).astype(np.float64)
        return cv2.perspectiveTransform(points, self.homography).reshape(*u.shape, 2).astype(np.float32)

    def _patterns(self) -> Iterator[tuple[Point, np.ndarray]]:
        far = self.size - 3.5
        for centre in ((3.5, 3.5), (far, 3.5), (3.5, far)):
            yield centre, _FINDER
        positions = alignment_positions(self.version)
        corners_taken = {(6, 6), (6, positions[-1]), (positions[-1], 6)} if positions else set()
        for row in positions:
            for column in positions:
                if (column, row) not in corners_taken:
                    yield (column + 0.5, row + 0.5), _ALIGNMENT


def _middle_pixels(centres: np.ndarray) -> np.ndarray:
    """Along the first axis, from the ``_MARGIN``-padded module centres, where the two middle pixels of each of
    the code's modules sit in :meth:`BentGrid.resampled`: its pixels _PX·k + 1 and _PX·k + 2 lie an eighth of a
    module either side of module k's centre, on the line to its neighbour."""
    size = centres.shape[0] - 2 * _MARGIN
    here = centres[_MARGIN : _MARGIN + size]
    pixels = np.empty((2 * size, *centres.shape[1:]), centres.dtype)
    pixels[0::2] = 0.875 * here + 0.125 * centres[_MARGIN - 1 : _MARGIN + size - 1]
    pixels[1::2] = 0.875 * here + 0.125 * centres[_MARGIN + 1 : _MARGIN + size + 1]
    return pixels


def _locate(image: np.ndarray, template: np.ndarray, centre: Point) -> Point | None:
    """How far (in modules) a pattern sits from ``centre``, searched within two modules; None if not there."""
    side = template.shape[0]
    reach = 2 * _PX
    x0 = round((centre[0] + _MARGIN) * _PX - side / 2) - reach
    y0 = round((centre[1] + _MARGIN) * _PX - side / 2) - reach
    if x0 < 0 or y0 < 0:
        return None
    window = image[y0 : y0 + side + 2 * reach, x0 : x0 + side + 2 * reach]
    if window.shape[0] < side or window.shape[1] < side:
        return None
    _, best, _, (x, y) = cv2.minMaxLoc(cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED))
    if best < _MIN_MATCH:
        return None
    return (x - reach) / _PX, (y - reach) / _PX


def _thin_plate(anchors: list[tuple[Point, Point]], size: int) -> tuple[np.ndarray, np.ndarray]:
    """A smooth displacement at every module centre through the anchors' offsets (a regularised thin-plate
    spline; a plane through fewer than four)."""
    at = np.array([position for position, _ in anchors], np.float64)
    offsets = np.array([offset for _, offset in anchors], np.float64)
    count = len(at)
    if count < 4:
        mean = offsets.mean(axis=0)
        return np.full((size, size), mean[0], np.float32), np.full((size, size), mean[1], np.float32)
    # Solved at the centres of 3×3-module blocks and spread linearly: the spline is smooth over many modules.
    blocks = -(-size // _TPS_STRIDE)
    centres = (np.arange(blocks) + 0.5) * _TPS_STRIDE
    u, v = np.meshgrid(centres, centres)
    queries = np.stack([u.ravel(), v.ravel()], axis=1)
    affine = np.hstack([np.ones((count, 1)), at])
    system = np.zeros((count + 3, count + 3))
    system[:count, :count] = _kernel(at, at) + np.eye(count)
    system[:count, count:] = affine
    system[count:, :count] = affine.T
    rhs = np.zeros((count + 3, 2))
    rhs[:count] = offsets
    weights = np.linalg.solve(system, rhs)
    field = _kernel(queries, at) @ weights[:count] + np.hstack([np.ones((len(queries), 1)), queries]) @ weights[count:]
    fine = blocks * _TPS_STRIDE
    spread_x, spread_y = (
        cv2.resize(field[:, axis].reshape(blocks, blocks).astype(np.float32), (fine, fine))[:size, :size]
        for axis in (0, 1)
    )
    return spread_x, spread_y


def _kernel(points: np.ndarray, centres: np.ndarray) -> np.ndarray:
    squared = (points[:, None, 0] - centres[None, :, 0]) ** 2 + (points[:, None, 1] - centres[None, :, 1]) ** 2
    kernel: np.ndarray = 0.5 * squared * np.log(np.maximum(squared, 1e-12))
    return kernel


def _edge_phase(image: np.ndarray, size: int) -> tuple[np.ndarray, np.ndarray]:
    """Per module, the offset (in modules, wrapped to ±½) of the vertical and horizontal edges around it from
    whole module coordinates."""
    smooth = cv2.GaussianBlur(image, (0, 0), _PX / 4)
    strength_x = np.abs(cv2.Sobel(smooth, cv2.CV_32F, 1, 0, ksize=3))
    strength_y = np.abs(cv2.Sobel(smooth, cv2.CV_32F, 0, 1, ksize=3))
    side = image.shape[0]
    cells = side // _PX
    # Each module's mean edge strength across its rows (x) or its columns (y), for each of its _PX pixels.
    across = cv2.resize(strength_x, (side, cells), interpolation=cv2.INTER_AREA).reshape(cells, cells, _PX)
    down = cv2.resize(strength_y, (cells, side), interpolation=cv2.INTER_AREA).reshape(cells, _PX, cells)
    down = down.transpose(0, 2, 1)
    return _module_phase(across, size), _module_phase(down, size)


# Pixel i sits at module coordinate i/_PX - _MARGIN + 0.5/_PX: edges fall where that is whole. The phase only
# depends on i modulo _PX, so one module's weights serve every module.
_TURN = 2 * np.pi * (np.arange(_PX, dtype=np.float32) + 0.5) / _PX
_WAVE = np.stack([np.cos(_TURN), np.sin(_TURN)], axis=1) / _PX


def _module_phase(profile: np.ndarray, size: int) -> np.ndarray:
    """The phase of each module's edge profile (cells × cells × _PX), averaged over ``_EDGE_WINDOW`` modules."""
    sums = []
    for weights in _WAVE.T:
        spread = cv2.GaussianBlur(np.ascontiguousarray(profile @ weights), (0, 0), _EDGE_WINDOW)
        sums.append(spread[_MARGIN : _MARGIN + size, _MARGIN : _MARGIN + size])
    return (np.arctan2(sums[1], sums[0]) / (2 * np.pi)).astype(np.float32)


def _unwrap(phase: np.ndarray) -> np.ndarray:
    """A smooth field from one known modulo 1: the least-squares fit to its wrapped differences (a Poisson
    equation, solved with a cosine transform), then moved by whole turns to agree with the measurement.

    Least squares spreads a few noisy differences over their neighbours where unwrapping along lines would
    carry each one to the end of its line.
    """
    rows, columns = phase.shape
    # cv2.dct takes even sizes, and is quick when half of it has small prime factors only; the edge rows and
    # columns carried on are flat, which the least squares leaves as they are.
    tall, wide = (2 * cv2.getOptimalDFTSize(-(-n // 2)) for n in phase.shape)
    even = np.pad(phase, ((0, tall - rows), (0, wide - columns)), mode="edge").astype(np.float64)
    across = np.zeros_like(even)
    down = np.zeros_like(even)
    across[:, :-1] = _wrapped(np.diff(even, axis=1))
    down[:-1, :] = _wrapped(np.diff(even, axis=0))
    divergence = across + down
    divergence[:, 1:] -= across[:, :-1]
    divergence[1:, :] -= down[:-1, :]
    height, width = even.shape
    eigen = 2 * np.cos(np.pi * np.arange(height) / height)[:, None] + 2 * np.cos(np.pi * np.arange(width) / width)
    eigen -= 4
    eigen[0, 0] = 1.0
    spectrum = cv2.dct(divergence) / eigen
    spectrum[0, 0] = 0.0
    smooth = cv2.idct(spectrum)[:rows, :columns]
    unwrapped: np.ndarray = (smooth + _wrapped(phase - smooth)).astype(np.float32)
    return unwrapped


def _wrapped(turns: np.ndarray) -> np.ndarray:
    wrapped: np.ndarray = turns - np.round(turns)
    return wrapped


def bent_symbol(grey: np.ndarray, corners: tuple[Point, ...], version: int) -> np.ndarray:
    """A clean drawing of the code zxing-cpp found at ``corners`` (of ``version``) but could not read, sampled
    on its bent grid."""
    grid = BentGrid(grey, corners, version)
    grid.fit_patterns()
    grid.follow_edges()
    return grid.symbol()
