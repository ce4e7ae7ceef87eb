"""Domain errors carry a stable code (used in API errors and translations) and a human message."""

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
        message: str,
        *,
        code: str | None = None,
        status: int | None = None,
        keep_changes: bool | None = None,
        **detail: Any,
    ):
        super().__init__(message)
        self.message = message
        if keep_changes is not None:
            self.keep_changes = keep_changes
        if code:
            self.code = code
        if status:
            self.status = status
        self.detail = detail


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
