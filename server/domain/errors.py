"""Domain errors carry a stable code (used in API errors and translations) and a message in each language.

The Chinese and the English text are kept apart so that every screen shows the one its reader chose: the
console by its language, a device by its own (the API sends both, `message` and `message_en`).
"""

from __future__ import annotations

from typing import Any


class DomainError(Exception):
    """A request the rules refuse. `status` is the HTTP status the API answers with."""

    code = "invalid"
    status = 400
    # A refusal that must still be recorded (a failed sign-in, a wrong PIN) keeps the transaction's changes.
    keep_changes = False

    def __init__(
        self,
        zh: str,
        en: str,
        *,
        code: str | None = None,
        status: int | None = None,
        keep_changes: bool | None = None,
        **detail: Any,
    ):
        super().__init__(f"{zh} / {en}")  # logs and tracebacks show both
        self.zh, self.en = zh, en
        if keep_changes is not None:
            self.keep_changes = keep_changes
        if code:
            self.code = code
        if status:
            self.status = status
        self.detail = detail

    def text(self, language: str) -> str:
        """The message in `language` ("en", otherwise Chinese)."""
        return self.en if language == "en" else self.zh


class NotFound(DomainError):
    code = "not_found"
    status = 404


class Conflict(DomainError):
    code = "conflict"
    status = 409


class Forbidden(DomainError):
    code = "forbidden"
    status = 403


class Unauthorized(DomainError):
    code = "unauthorized"
    status = 401
