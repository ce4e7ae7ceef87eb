"""Typing on an on-screen keyboard: pinyin for Chinese, plain letters for English.

Plain logic, no Kivy: a keyboard widget (the kiosk's, the gate's) only draws a `Composer` and forwards its keys.
Readings come from pypinyin's dictionaries (characters and phrases) and frequencies from jieba's dictionary, so
the commonest characters and phrases come first.
"""

from __future__ import annotations

import threading
import unicodedata
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
DIRECT = frozenset("0123456789")  # typed as they are in both modes
MAX_LETTERS = 24
PAGE_SIZE = 8
MAX_SYLLABLE = 6  # "zhuang", "shuang"
MAX_PHRASE = 4
MIN_PHRASE_COUNT = 10  # rarer words would only push common ones down the candidate pages
RARE_READING = 20


@lru_cache(maxsize=4096)  # a few thousand readings, met hundreds of thousands of times while building
def plain(reading: str) -> str:
    """A reading as typed: "zhōng" → "zhong", "lǜ" → "lv"."""
    decomposed = unicodedata.normalize("NFD", reading.lower()).replace("u\u0308", "v")
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@dataclass(frozen=True)
class Candidate:
    """What picking offers: the text, and how many of the typed letters it stands for."""

    text: str
    consumed: int


class PinyinIndex:
    """Syllable → characters and whole reading → phrases, each list commonest first."""

    def __init__(self, chars: Mapping[str, Mapping[str, int]], phrases: Mapping[str, Sequence[str]]) -> None:
        """`chars`: syllable → {character: score}; `phrases`: whole reading → phrases, commonest first."""
        self._scores, self._phrases = chars, phrases
        self._chars = {k: sorted(v, key=lambda c, v=v: (-v[c], c)) for k, v in chars.items()}
        self._prefixed: dict[str, list[str]] = {}

    @classmethod
    def build(
        cls,
        char_readings: Mapping[str, Sequence[str]],
        phrase_readings: Mapping[str, Sequence[str]],
        frequency: Mapping[str, int],
    ) -> PinyinIndex:
        """From each character's readings (its usual one first), the readings of phrases whose characters are
        read otherwise than usual, and word counts. Phrases are the words of 2–4 characters counted at least
        `MIN_PHRASE_COUNT` times."""
        scores: dict[str, dict[str, int]] = defaultdict(dict)
        for char, readings in char_readings.items():
            for n, syllable in enumerate(dict.fromkeys(plain(r) for r in readings)):
                # A character is offered first for its usual reading; for another one it counts for less.
                scores[syllable][char] = frequency.get(char, 0) // (1 if n == 0 else RARE_READING)
        phrases: dict[str, list[str]] = defaultdict(list)
        for word, count in frequency.items():
            if 2 <= len(word) <= MAX_PHRASE and count >= MIN_PHRASE_COUNT:
                syllables = phrase_readings.get(word) or [
                    char_readings[c][0] if c in char_readings else "" for c in word
                ]
                if all(syllables):
                    phrases["".join(plain(s) for s in syllables)].append(word)
        return cls(scores, {k: sorted(v, key=lambda w: (-frequency[w], w)) for k, v in phrases.items()})

    def is_syllable(self, letters: str) -> bool:
        return letters in self._chars

    def chars(self, syllable: str) -> Sequence[str]:
        return self._chars.get(syllable, ())

    def phrases(self, letters: str) -> Sequence[str]:
        return self._phrases.get(letters, ())

    def chars_starting(self, prefix: str) -> Sequence[str]:
        """Characters of every syllable that starts with `prefix` (while only "zh" is typed), commonest first."""
        if prefix not in self._prefixed:
            best: dict[str, int] = {}
            for syllable, scores in self._scores.items():
                if syllable.startswith(prefix):
                    for char, score in scores.items():
                        best[char] = max(score, best.get(char, 0))
            self._prefixed[prefix] = sorted(best, key=lambda c: (-best[c], c))
        return self._prefixed[prefix]

    def candidates(self, letters: str) -> list[Candidate]:
        """Phrases read as all of `letters`, then characters of its first syllable (or of any syllable it begins)."""
        if not letters:
            return []
        out = [Candidate(p, len(letters)) for p in self.phrases(letters) if len(p) > 1]
        head = next(
            (letters[:n] for n in range(min(len(letters), MAX_SYLLABLE), 0, -1) if self.is_syllable(letters[:n])), ""
        )
        if head:
            out += [Candidate(c, len(head)) for c in self.chars(head)]
        else:
            out += [Candidate(c, len(letters)) for c in self.chars_starting(letters)]
        return out


_loaded: PinyinIndex | None = None
_loading = threading.Lock()


def load_index() -> PinyinIndex:
    """The index from pypinyin's and jieba's dictionaries, built once per process (about a second)."""
    global _loaded
    with _loading:
        if _loaded is None:
            from pypinyin.phrases_dict import phrases_dict
            from pypinyin.pinyin_dict import pinyin_dict

            frequency = _jieba_frequencies()
            chars = {
                chr(code): readings.split(",")
                for code, readings in pinyin_dict.items()
                if 0x4E00 <= code <= 0x9FFF  # the common CJK block: what a slip printer's font has
            }
            phrases = {p: [r[0] for r in readings] for p, readings in phrases_dict.items()}
            _loaded = PinyinIndex.build(chars, phrases, frequency)
        return _loaded


def _jieba_frequencies() -> dict[str, int]:
    """Word → count from jieba's dictionary (lines of "word count tag")."""
    frequency: dict[str, int] = {}
    text = (resources.files("jieba") / "dict.txt").read_text(encoding="utf-8")
    for line in text.splitlines():
        parts = line.split(" ", 2)
        if len(parts) >= 2 and parts[1].isdigit():
            frequency[parts[0]] = int(parts[1])
    return frequency


class Composer:
    """One text box typed on an on-screen keyboard: committed text, the pinyin letters not yet turned into
    characters, and the page of candidates shown. In "latin" mode letters go straight into the text."""

    def __init__(self, index: PinyinIndex, *, max_chars: int, mode: str = "pinyin") -> None:
        if mode not in ("pinyin", "latin"):
            raise ValueError(f"mode is pinyin or latin, not {mode!r}")
        self.index, self.max_chars, self.mode = index, max_chars, mode
        self.text = ""
        self.letters = ""
        self.page = 0
        self._candidates: list[Candidate] = []

    @property
    def full(self) -> bool:
        return len(self.text) >= self.max_chars

    def key(self, key: str) -> None:
        """A letter or digit key."""
        key = key.lower()
        if self.mode == "pinyin" and key in LETTERS:
            if len(self.letters) < MAX_LETTERS and not self.full:
                self._set_letters(self.letters + key)
        elif key in LETTERS or key in DIRECT:
            self._append(key)

    def press(self, key: str) -> None:
        """A key of the on-screen keyboard by name: a letter or digit, or back, space, clear, mode, prev, next."""
        actions = {
            "back": self.backspace,
            "space": self.space,
            "clear": self.clear,
            "mode": self.toggle_mode,
            "prev": lambda: self.turn(-1),
            "next": lambda: self.turn(1),
        }
        actions.get(key, lambda: self.key(key))()

    def backspace(self) -> None:
        if self.letters:
            self._set_letters(self.letters[:-1])
        else:
            self.text = self.text[:-1]

    def space(self) -> None:
        """While pinyin letters wait, the commonest candidate; otherwise a space between words."""
        if self.letters:
            if self._candidates:
                self._commit(self._candidates[0])
            return
        if self.text and not self.text.endswith(" "):
            self._append(" ")

    def clear(self) -> None:
        self.text = ""
        self._set_letters("")

    def toggle_mode(self) -> None:
        """Switch pinyin ↔ letters; letters still waiting stay as they were typed."""
        if self.letters:
            pending = self.letters
            self._set_letters("")
            for char in pending:
                self._append(char)
        self.mode = "latin" if self.mode == "pinyin" else "pinyin"

    @property
    def shown(self) -> list[Candidate]:
        """The candidates on the current page."""
        start = self.page * PAGE_SIZE
        return self._candidates[start : start + PAGE_SIZE]

    @property
    def pages(self) -> int:
        return -(-len(self._candidates) // PAGE_SIZE)

    def turn(self, delta: int) -> None:
        """The next (+1) or previous (-1) page of candidates, staying within the pages there are."""
        self.page = max(0, min(self.page + delta, self.pages - 1))

    def pick(self, position: int) -> None:
        """Commit the candidate at `position` on the current page."""
        shown = self.shown
        if 0 <= position < len(shown):
            self._commit(shown[position])

    def _commit(self, candidate: Candidate) -> None:
        room = self.max_chars - len(self.text)
        if len(candidate.text) > room:
            return
        self.text += candidate.text
        self._set_letters(self.letters[candidate.consumed :])

    def _append(self, text: str) -> None:
        if len(self.text) + len(text) <= self.max_chars:
            self.text += text

    def _set_letters(self, letters: str) -> None:
        self.letters, self.page = letters, 0
        self._candidates = self.index.candidates(letters)
