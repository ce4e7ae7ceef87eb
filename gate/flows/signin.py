"""Guard sign-in at the start of a shift: a PIN on the keypad or a staff card on the reader."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from server.contract.schemas import GuardOut

PIN_MAX = 8
PIN_MIN = 6


@dataclass
class SignInState:
    digits: str = ""
    error: str | None = None  # guard_unknown | login_throttled | not_synced | pin_short


class SignInRefused(Exception):
    """No guard has this PIN or card (or too many wrong tries); `code` says which."""

    def __init__(self, code: str) -> None:
        super().__init__(code)
        self.code = code


class SignIn:
    """Collects PIN digits; `submit` or `card` asks `authenticate` (online, or the roster offline)."""

    def __init__(self, authenticate: Callable[..., GuardOut]) -> None:
        self._authenticate = authenticate
        self.state = SignInState()

    def key(self, key: str) -> None:
        """A keypad key: a digit, "back" or "clear"."""
        s = self.state
        s.error = None
        if key == "clear":
            s.digits = ""
        elif key == "back":
            s.digits = s.digits[:-1]
        elif key.isdigit() and len(s.digits) < PIN_MAX:
            s.digits += key

    def submit(self) -> GuardOut | None:
        if len(self.state.digits) < PIN_MIN:
            self.state.error = "pin_short"
            return None
        return self._try(pin=self.state.digits)

    def card(self, card: str) -> GuardOut | None:
        return self._try(card=card.strip())

    def _try(self, **credential: str) -> GuardOut | None:
        try:
            guard = self._authenticate(**credential)
        except SignInRefused as exc:
            self.state = SignInState(error=exc.code)
            return None
        self.state = SignInState()
        return guard
