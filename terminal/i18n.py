"""Translation catalogues for the touch-screen apps: one JSON file per language, Chinese first."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

LANGUAGES = ("zh", "en")


class Catalogue:
    """All texts of one app. Screens never hold text of their own; they ask the catalogue by key."""

    def __init__(self, folder: Path, language: str = "zh") -> None:
        self.texts = {lang: json.loads((folder / f"{lang}.json").read_text(encoding="utf-8")) for lang in LANGUAGES}
        self.language = language if language in LANGUAGES else LANGUAGES[0]
        self._listeners: list[Callable[[str], None]] = []

    def t(self, key: str, **values: object) -> str:
        """The text for `key` in the current language; a missing key shows as itself so it is noticed."""
        text = self.texts[self.language].get(key, key)
        return text.format(**values) if values else text

    def set_language(self, language: str) -> None:
        if language not in LANGUAGES:
            raise ValueError(f"unknown language {language!r}; expected one of {', '.join(LANGUAGES)}")
        self.language = language
        for listener in self._listeners:
            listener(language)

    def toggle(self) -> str:
        self.set_language("en" if self.language == "zh" else "zh")
        return self.language

    def on_change(self, listener: Callable[[str], None]) -> None:
        self._listeners.append(listener)

    def missing_keys(self) -> dict[str, set[str]]:
        """Keys one language has and another lacks (empty when the catalogue is complete)."""
        every = set().union(*(set(texts) for texts in self.texts.values()))
        return {lang: every - set(texts) for lang, texts in self.texts.items() if every - set(texts)}
