"""Debounce: the same code held in front of the camera is reported once per window, not once per frame."""

from __future__ import annotations

DEFAULT_WINDOW_S = 3.0


class Debouncer:
    """Admits a text at most once per ``window_s`` seconds (times are the frames' capture times, monotonic)."""

    def __init__(self, window_s: float = DEFAULT_WINDOW_S) -> None:
        if window_s < 0:
            raise ValueError(f"debounce window must be zero or more seconds, got {window_s}")
        self.window_s = window_s
        self._last: dict[str, float] = {}

    def admit(self, text: str, now: float) -> bool:
        """True when ``text`` was not reported in the window before ``now``; records the report."""
        self._forget_before(now - self.window_s)
        last = self._last.get(text)
        if last is not None and now - last < self.window_s:
            return False
        self._last[text] = now
        return True

    def _forget_before(self, cutoff: float) -> None:
        # Keeps the table as small as the number of codes seen within one window.
        for text in [t for t, at in self._last.items() if at <= cutoff]:
            del self._last[text]
