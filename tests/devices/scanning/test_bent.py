"""The bent-grid reader's own pieces: the alignment-pattern table, and a grid it straightens."""

from __future__ import annotations

import numpy as np
import qrcode.util

from devices.qr.bent import BentGrid, alignment_positions
from devices.qr.decoders import ZxingDecoder
from devices.qr.synthetic import degrade
from devices.qr.synthetic.slip import qr_image


def test_alignment_positions_are_the_standard_table() -> None:
    for version in range(1, 41):
        assert alignment_positions(version) == list(qrcode.util.pattern_position(version)), version


def test_the_grid_follows_paper_bent_by_a_module() -> None:
    """A code 6 px a module on a slip-wide paper bent by up to a module: the straight grid misreads many modules
    and its drawing does not decode; after the pattern fit and the edge phase almost every module is right and
    the drawing decodes to the code's text."""
    px = 6
    token = "RS2:" + "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ" * 4
    code = qr_image(token, px)
    paper = np.full((576, 576), 255, np.uint8)
    at = (576 - code.shape[0]) // 2
    paper[at : at + code.shape[0], at : at + code.shape[1]] = code
    bent = degrade.crumple(np.random.default_rng(11), paper, 1.0 * px)
    size = code.shape[0] // px - 8  # less the quiet zone
    first, last = float(at + 4 * px), float(at + (4 + size) * px)
    grid = BentGrid(bent, ((first, first), (last, first), (last, last), (first, last)), (size - 17) // 4)
    straight = grid.symbol()
    grid.fit_patterns()
    grid.follow_edges()
    followed = grid.symbol()
    centres = slice(4 * px + px // 2, None, px)
    truth = code[centres, centres][:size, :size] < 128
    wrong = [int(((symbol[16::4, 16::4][:size, :size] < 128) != truth).sum()) for symbol in (straight, followed)]
    assert wrong[0] > 10 * wrong[1] and wrong[1] < 0.01 * size * size
    pure = ZxingDecoder(try_downscale=False, try_invert=False, is_pure=True)
    assert pure.decode_grey(straight) == []
    assert [code.text for code in pure.decode_grey(followed)] == [token]
