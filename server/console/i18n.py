"""The console's translation catalogue: JSON files per language under `locales/`, keys shared by both languages.

`zh.json` and `en.json` hold the shell's texts; each area of the console may keep its own `AREA.zh.json` and
`AREA.en.json` beside them, merged in at load.
"""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("zh", "en")
DEFAULT = "zh"


@lru_cache
def catalogue(lang: str) -> dict[str, str]:
    merged: dict[str, str] = {}
    for path in [LOCALES / f"{lang}.json", *sorted(LOCALES.glob(f"*.{lang}.json"))]:
        merged.update(json.loads(path.read_text(encoding="utf-8")))
    return merged


def translate(lang: str, key: str, **values: object) -> str:
    """The text for `key`; a key missing from a catalogue shows as the key itself, so it is noticed."""
    text = catalogue(lang if lang in LANGUAGES else DEFAULT).get(key, key)
    return text.format(**values) if values else text


def pick_language(requested: str | None, fallback: str = DEFAULT) -> str:
    return requested if requested in LANGUAGES else fallback
