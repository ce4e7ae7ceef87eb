"""The CJK font is found by configured path, environment, known locations or fontconfig."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from devices.printing import FontNotFound
from devices.printing.fonts import FONT_ENV, find_cjk_font, glyph


def test_a_configured_font_that_does_not_exist_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(FontNotFound, match="font file not found"):
        find_cjk_font(str(tmp_path / "missing.ttc"))


def test_the_environment_names_the_font(monkeypatch: pytest.MonkeyPatch) -> None:
    found = find_cjk_font()
    find_cjk_font.cache_clear()
    monkeypatch.setenv(FONT_ENV, str(found))
    try:
        assert find_cjk_font() == found
    finally:
        find_cjk_font.cache_clear()


def test_chinese_glyphs_fill_a_full_width_cell_and_latin_a_half_width_one() -> None:
    chinese, latin = glyph("放"), glyph("m")
    assert chinese.size == (24, 24) and latin.size == (12, 24)
    assert not np.array(chinese).all() and not np.array(latin).all()  # both carry ink (False = black)
