"""The Chinese-mode text encoder and the width-aware wrapper."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from devices.printing.textenc import (
    FULL_WIDTH_FORMS,
    char_bytes,
    char_width,
    encodable,
    encode_line,
    normalize,
    text_width,
    wrap,
)

ANY_TEXT = st.text(alphabet=st.characters(blacklist_categories=("Cs",), max_codepoint=0x2FFFF), max_size=300)


@given(ANY_TEXT, st.integers(min_value=2, max_value=64))
def test_wrap_never_splits_a_character_and_fits(text: str, columns: int) -> None:
    lines = wrap(text, columns)
    assert "".join(lines) == text
    assert all(text_width(line) <= columns for line in lines)
    # greedy: each line but the last was ended only because its successor's first character did not fit
    for line, following in itertools.pairwise(lines):
        assert text_width(line) + char_width(following[0]) > columns


@given(ANY_TEXT)
def test_every_encodable_character_is_ascii_or_a_two_byte_code(text: str) -> None:
    for ch in normalize(text):
        data = char_bytes(ch)
        if data is None:
            assert len(ch.encode("gb18030")) == 4
            continue
        assert (len(data) == 1 and data[0] < 0x80) or (len(data) == 2 and data[0] >= 0x81)
        assert data.decode("gb18030") == ch


@pytest.mark.parametrize(
    ("given_text", "printed"),
    [("¥200", "￥200"), ("• 沙发", "· 沙发"), ("1‒2", "1－2"), ("\u00a0x", " x"), ("a\tb\nc", "a b c")],
)
def test_characters_with_four_byte_codes_get_full_width_forms(given_text: str, printed: str) -> None:
    assert normalize(given_text) == printed
    assert len(encode_line(printed)) == sum(2 if ord(ch) > 0x7F else 1 for ch in printed)


def test_full_width_forms_table_only_holds_characters_that_need_it() -> None:
    for original, replacement in FULL_WIDTH_FORMS.items():
        assert len(original.encode("gb18030")) == 4
        assert len(replacement.encode("gb18030")) <= 2


def test_chinese_punctuation_keeps_its_two_byte_codes() -> None:
    line = "“冰箱”—双门，（含）：；！？。–"
    assert normalize(line) == line
    assert encode_line(line).decode("gb18030") == line
    assert b"?" not in encode_line(line)


@pytest.mark.parametrize("ch", ["𠀀", "㐀", "鿰", "😀"])
def test_characters_without_a_two_byte_code_are_not_encodable(ch: str) -> None:
    assert not encodable(normalize(ch))
    with pytest.raises(ValueError, match=f"U\\+{ord(ch):04X}"):
        encode_line(ch)
    assert char_width(ch) == 2
