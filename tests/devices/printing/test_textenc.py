"""The Chinese-mode text encoder and the width-aware wrapper."""

from __future__ import annotations

import itertools
import re
from datetime import UTC, datetime

import pytest
from hypothesis import example, given
from hypothesis import strategies as st

from devices.printing import PROFILES, get_profile
from devices.printing.diagnostic import diagnostic_slip
from devices.printing.layout import TextLine, layout_slip
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


def _rejoined(lines: list[str], text: str) -> list[bool]:
    """Check `lines` are `text` in order, with at most one space left out at each break; say where one was."""
    rest, dropped = text, []
    for line in lines:
        assert rest.startswith(line)
        rest = rest[len(line) :]
        drop = rest.startswith(" ") and line is not lines[-1]
        dropped.append(drop)
        rest = rest[1:] if drop else rest
    # the text's last character, a space that would end the full last line, is dropped with the break too
    assert rest in ("", " ")
    return dropped


def _first_unit(text: str) -> str:
    word = re.match(r"[!-~]+", text)
    return word[0] if word else text[:1]


@given(ANY_TEXT, st.integers(min_value=2, max_value=64))
@example("\x80 ", 2)  # a full line, then a final space: the space goes with the break
def test_wrap_never_splits_a_character_and_fits(text: str, columns: int) -> None:
    lines = wrap(text, columns)
    dropped = _rejoined(lines, text) if text else []
    assert all(text_width(line) <= columns for line in lines)
    if text.endswith(" ") and not "".join(lines).endswith(" "):  # the last space was dropped: the line was full
        assert text_width(lines[-1]) + 1 > columns
    # greedy: a line ends only when the next word (or character, or the space at the break) does not fit
    for (line, following), space in zip(itertools.pairwise(lines), dropped, strict=False):
        unit = " " if space else _first_unit(following)
        assert text_width(line) + min(text_width(unit), columns) > columns or text_width(unit) > columns


@pytest.mark.parametrize(
    ("text", "columns", "lines"),
    [
        (
            "三人布艺沙发（含靠垫） Three-seat fabric sofa with cushions",
            40,
            ["三人布艺沙发（含靠垫） Three-seat fabric", "sofa with cushions"],
        ),
        ("有效至 Valid until: 2026-11-27 17:17", 30, ["有效至 Valid until: 2026-11-27", "17:17"]),
        ("沙发沙发沙发", 7, ["沙发沙", "发沙发"]),
        ("x" * 12, 5, ["xxxxx", "xxxxx", "xx"]),
    ],
)
def test_latin_words_and_times_wrap_whole_chinese_anywhere(text: str, columns: int, lines: list[str]) -> None:
    assert wrap(text, columns) == lines


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


@pytest.mark.parametrize("profile", sorted(PROFILES))
def test_the_test_slip_keeps_english_words_and_times_whole(profile: str) -> None:
    slip = diagnostic_slip(datetime(2026, 11, 27, 9, 17, tzinfo=UTC))
    prof = get_profile(profile)
    lines = [b.full_text(prof.columns) for b in layout_slip(slip, prof) if isinstance(b, TextLine)]
    words = [
        "Three-seat",
        "fabric",
        "sofa",
        "with",
        "cushions",
        "Carton",
        "boxes",
        "English",
        "Show",
        "this",
        "slip",
        "at",
        "the",
        "gate",
        "17:17",
        "17:27",
    ]
    for word in words:
        assert any(word in line for line in lines), (word, lines)
