"""The console's translation catalogue: one JSON file per language under `locales/`, keys shared by both."""

from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

LOCALES = Path(__file__).with_name("locales")
LANGUAGES = ("zh", "en")
DEFAULT = "zh"


@lru_cache
def catalogue(lang: str) -> dict[str, str]:
    return json.loads((LOCALES / f"{lang}.json").read_text(encoding="utf-8"))


def translate(lang: str, key: str, **values: object) -> str:
    """The text for `key`; a key missing from a catalogue shows as the key itself, so it is noticed."""
    text = catalogue(lang if lang in LANGUAGES else DEFAULT).get(key, key)
    return text.format(**values) if values else text


def pick_language(requested: str | None, fallback: str = DEFAULT) -> str:
    return requested if requested in LANGUAGES else fallback
