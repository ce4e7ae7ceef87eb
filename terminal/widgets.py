"""Touch widgets both apps use: large buttons, an on-screen numeric keypad and a text keyboard with pinyin."""

from __future__ import annotations

from collections.abc import Callable

from kivy.uix.boxlayout import BoxLayout
from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout

from terminal.kivy_setup import FONT_NAME
from terminal.pinyin import PAGE_SIZE, Composer

# Touch targets of at least ~15 mm on a 21.5" 1080p panel: 90 px.
TOUCH = 96
PRIMARY = (0.04, 0.43, 0.31, 1)
DANGER = (0.70, 0.15, 0.12, 1)
NEUTRAL = (0.30, 0.36, 0.42, 1)


class BigButton(Button):
    """A button sized and coloured for a finger, with the CJK font."""

    def __init__(
        self, text: str = "", *, role: str = "primary", on_tap: Callable[[], None] | None = None, **kwargs: object
    ) -> None:
        colours = {"primary": PRIMARY, "danger": DANGER, "neutral": NEUTRAL}
        kwargs.setdefault("font_size", 40)
        kwargs.setdefault("size_hint_y", None)
        kwargs.setdefault("height", TOUCH)
        super().__init__(text=text, font_name=FONT_NAME, background_normal="", background_color=colours[role], **kwargs)
        if on_tap is not None:
            self.bind(on_release=lambda *_: on_tap())


class Keypad(GridLayout):
    """Digits, back-space and clear. Each key calls `on_key` with "0"–"9", "back" or "clear"."""

    KEYS = ("1", "2", "3", "4", "5", "6", "7", "8", "9", "clear", "0", "back")

    def __init__(
        self,
        on_key: Callable[[str], None],
        *,
        labels: dict[str, str] | None = None,
        extra_keys: tuple[str, ...] = (),
        **kwargs: object,
    ) -> None:
        kwargs.setdefault("cols", 3)
        kwargs.setdefault("spacing", 12)
        kwargs.setdefault("size_hint_y", None)
        super().__init__(**kwargs)
        labels = {"clear": "C", "back": "←", **(labels or {})}
        keys = (*self.KEYS, *extra_keys)
        self.height = (len(keys) + 2) // 3 * (TOUCH + 12)
        self.buttons: dict[str, BigButton] = {}
        for key in keys:
            button = BigButton(labels.get(key, key), role="neutral", on_tap=lambda k=key: on_key(k), font_size=48)
            self.buttons[key] = button
            self.add_widget(button)


class TextKeyboard(BoxLayout):
    """An on-screen keyboard that draws a `terminal.pinyin.Composer`: the candidates (with page keys), the
    letters, and a row of mode, space, back-space and clear. Touches go to `on_key` (a letter or digit, or
    "back", "space", "clear", "mode", "prev", "next") and `on_pick` (a candidate's place on the page); the
    owner changes the composer and draws the keyboard again."""

    ROWS = ("1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm")

    def __init__(
        self,
        composer: Composer,
        on_key: Callable[[str], None],
        on_pick: Callable[[int], None],
        labels: dict[str, str],
        **kwargs: object,
    ) -> None:
        kwargs.setdefault("orientation", "vertical")
        kwargs.setdefault("spacing", 8)
        kwargs.setdefault("size_hint_y", None)
        super().__init__(**kwargs)
        self.buttons: dict[str, BigButton] = {}
        key_height = TOUCH * 0.9
        candidates = BoxLayout(spacing=8, size_hint_y=None, height=key_height)
        candidates.add_widget(self._key("prev", labels["prev"], on_key, size_hint_x=None, width=TOUCH))
        for place in range(PAGE_SIZE):
            shown = composer.shown
            text = shown[place].text if place < len(shown) else ""
            button = BigButton(text, role="primary" if text else "neutral", font_size=40, height=key_height)
            if text:
                button.bind(on_release=lambda *_, p=place: on_pick(p))
            self.buttons[f"pick.{place}"] = button
            candidates.add_widget(button)
        candidates.add_widget(self._key("next", labels["next"], on_key, size_hint_x=None, width=TOUCH))
        self.add_widget(candidates)
        for row in self.ROWS:
            line = BoxLayout(spacing=8, size_hint_y=None, height=key_height)
            for char in row:
                line.add_widget(self._key(char, char.upper() if composer.mode == "latin" else char, on_key))
            self.add_widget(line)
        last = BoxLayout(spacing=8, size_hint_y=None, height=key_height)
        mode = labels["to_latin"] if composer.mode == "pinyin" else labels["to_pinyin"]
        last.add_widget(self._key("mode", mode, on_key, size_hint_x=0.8))
        last.add_widget(self._key("space", labels["space"], on_key, size_hint_x=2.4))
        last.add_widget(self._key("back", labels["back"], on_key, size_hint_x=0.8))
        last.add_widget(self._key("clear", labels["clear"], on_key, size_hint_x=0.8))
        self.add_widget(last)
        self.height = 6 * key_height + 5 * 8

    def _key(self, key: str, label: str, on_key: Callable[[str], None], **kwargs: object) -> BigButton:
        kwargs.setdefault("height", TOUCH * 0.9)
        button = BigButton(label, role="neutral", on_tap=lambda: on_key(key), font_size=40, **kwargs)
        self.buttons[key] = button
        return button
