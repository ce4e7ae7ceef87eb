"""The on-screen keyboard's logic: pinyin letters → candidates (commonest first) → committed text; English
letters straight in; the box's size kept. Runs on the real dictionaries (pypinyin's readings, jieba's counts)."""

from __future__ import annotations

import pytest

from terminal.pinyin import PAGE_SIZE, Composer, PinyinIndex, load_index, plain


@pytest.fixture(scope="module")
def index() -> PinyinIndex:
    return load_index()


def typed(composer: Composer, letters: str) -> list[str]:
    for key in letters:
        composer.key(key)
    return [c.text for c in composer.shown]


def test_readings_are_typed_without_tones() -> None:
    assert plain("zhōng") == "zhong" and plain("lǜ") == "lv" and plain("nǚ") == "nv" and plain("ér") == "er"


def test_single_characters_come_commonest_first(index: PinyinIndex) -> None:
    composer = Composer(index, max_chars=16)
    shown = typed(composer, "shi")
    assert shown[0] == "是" and len(shown) == PAGE_SIZE
    assert index.chars("shi").index("是") < index.chars("shi").index("十") < index.chars("shi").index("铈")
    assert typed(Composer(index, max_chars=16), "zh")[:2] == ["这", "中"]  # only the start of a syllable typed


def test_phrases_of_the_whole_reading_come_before_characters(index: PinyinIndex) -> None:
    composer = Composer(index, max_chars=16)
    shown = typed(composer, "yigui")
    assert "衣柜" in shown and shown.index("衣柜") < shown.index("一")
    composer.pick(shown.index("衣柜"))
    assert composer.text == "衣柜" and composer.letters == "" and composer.shown == []


def test_a_character_takes_its_syllable_and_the_rest_waits(index: PinyinIndex) -> None:
    composer = Composer(index, max_chars=16)
    typed(composer, "jiushujia")
    first = [c.text for c in composer.shown]
    assert "旧" in first
    composer.pick(first.index("旧"))
    assert composer.text == "旧" and composer.letters == "shujia"
    shown = [c.text for c in composer.shown]
    composer.pick(shown.index("书架"))
    assert composer.text == "旧书架" and composer.letters == ""


def test_pages_backspace_space_and_clear(index: PinyinIndex) -> None:
    composer = Composer(index, max_chars=16)
    first = typed(composer, "yi")
    composer.turn(1)
    second = [c.text for c in composer.shown]
    assert second and not set(first) & set(second)
    composer.turn(-1)
    composer.turn(-1)
    assert [c.text for c in composer.shown] == first
    composer.backspace()
    assert composer.letters == "y"
    composer.key("i")
    composer.space()  # the commonest candidate
    assert composer.text == "一" and composer.letters == ""
    composer.backspace()
    assert composer.text == ""
    typed(composer, "ma")
    composer.clear()
    assert (composer.text, composer.letters, composer.shown) == ("", "", [])


def test_english_letters_and_digits_go_straight_in(index: PinyinIndex) -> None:
    composer = Composer(index, max_chars=16, mode="latin")
    typed(composer, "old")
    composer.space()
    typed(composer, "desk2")
    assert composer.text == "old desk2" and composer.letters == ""
    composer.toggle_mode()
    typed(composer, "zhuo")
    composer.toggle_mode()  # letters still waiting stay as they were typed
    assert composer.text == "old desk2zhuo" and composer.mode == "latin"


def test_the_box_holds_no_more_than_a_slip_line(index: PinyinIndex) -> None:
    composer = Composer(index, max_chars=3)
    typed(composer, "shafa")
    composer.pick(0)
    assert composer.text == "沙发"
    shown = typed(composer, "yigui")
    composer.pick(shown.index("衣柜"))  # two more would not fit: nothing is committed
    assert composer.text == "沙发" and composer.letters == "yigui"
    composer.space()
    assert composer.text == "沙发"
    composer.clear()
    composer.mode = "latin"
    typed(composer, "abcd")
    assert composer.text == "abc"


def test_an_index_built_from_given_readings() -> None:
    index = PinyinIndex.build(
        {"马": ["mǎ"], "吗": ["ma", "mǎ"], "妈": ["mā"], "长": ["cháng", "zhǎng"], "张": ["zhāng"], "掌": ["zhǎng"]},
        {"长大": ["zhǎng", "dà"]},
        {"马": 100, "吗": 500, "妈": 50, "妈妈": 40, "马马": 2, "长": 1000, "张": 300, "掌": 10, "长大": 15},
    )
    assert list(index.chars("ma")) == ["吗", "马", "妈"]
    # 长 is counted for zhang only as its less usual reading: after 张, before the rarer 掌
    assert list(index.chars("zhang")) == ["张", "长", "掌"]
    assert [c.text for c in index.candidates("mama")] == ["妈妈", "吗", "马", "妈"]  # 马马 is too rare to offer
    assert index.candidates("zhangda")[0].text == "长大"  # a phrase's own reading
