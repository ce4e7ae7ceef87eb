"""Touch widgets both apps use: large buttons and an on-screen numeric keypad."""

from __future__ import annotations

from collections.abc import Callable

from kivy.uix.button import Button
from kivy.uix.gridlayout import GridLayout

from terminal.kivy_setup import FONT_NAME

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
