"""The touch apps' translation catalogue."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from terminal.i18n import Catalogue


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "zh.json").write_text(json.dumps({"hello": "您好，{name}", "only.zh": "只有中文"}), encoding="utf-8")
    (tmp_path / "en.json").write_text(json.dumps({"hello": "Hello, {name}"}), encoding="utf-8")
    return tmp_path


def test_chinese_first_and_one_touch_switch(folder: Path) -> None:
    seen: list[str] = []
    cat = Catalogue(folder)
    cat.on_change(seen.append)
    assert cat.t("hello", name="王") == "您好，王"
    assert cat.toggle() == "en" and cat.t("hello", name="Wang") == "Hello, Wang"
    assert seen == ["en"]
    with pytest.raises(ValueError):
        cat.set_language("fr")


def test_missing_keys_are_found_and_shown_as_the_key(folder: Path) -> None:
    cat = Catalogue(folder, "en")
    assert cat.missing_keys() == {"en": {"only.zh"}}
    assert cat.t("only.zh") == "only.zh"
