"""Unlock requests by id: a repeated request id never sends a second unlock frame."""

from __future__ import annotations

import enum
import threading
from dataclasses import dataclass, replace
from typing import Any

from devices.cabinet.errors import RequestIdConflict

Target = tuple[int, int | None]  # (board, slot); slot None: the whole board


class UnlockOutcome(enum.Enum):
    ACCEPTED = "accepted"  # the board acknowledged the command (not: the door opened)
    UNCONFIRMED = "unconfirmed"  # the frame went out but no valid answer came: the door may open; watch it
    NOT_SENT = "not_sent"  # the line was down before anything was written; the same id may be tried again


@dataclass(frozen=True)
class UnlockResult:
    request_id: str
    board: int
    slot: int | None
    outcome: UnlockOutcome
    detail: str = ""
    duplicate: bool = False  # this id had been handled before; nothing was sent this time

    @property
    def accepted(self) -> bool:
        return self.outcome is UnlockOutcome.ACCEPTED

    @property
    def sent(self) -> bool:
        return self.outcome is not UnlockOutcome.NOT_SENT

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "board": self.board,
            "slot": self.slot,
            "accepted": self.accepted,
            "outcome": self.outcome.value,
            "duplicate": self.duplicate,
            "detail": self.detail,
        }


class UnlockLedger:
    """Remembers every unlock request id handled on this cabinet (in memory; a service may persist its own)."""

    def __init__(self) -> None:
        self._done: dict[str, UnlockResult] = {}
        self._pending: dict[str, Target] = {}
        self._cond = threading.Condition()

    def claim(self, request_id: str, target: Target) -> UnlockResult | None:
        """None: the caller now owns `request_id` and must `settle` it. Otherwise the earlier result, marked duplicate.

        A concurrent caller with the same id waits for the first to settle rather than sending a second frame.
        """
        if not request_id:
            raise ValueError("an unlock needs a request id")
        with self._cond:
            while request_id in self._pending:
                self._check_target(request_id, self._pending[request_id], target)
                self._cond.wait()
            done = self._done.get(request_id)
            if done is not None:
                self._check_target(request_id, (done.board, done.slot), target)
                return replace(done, duplicate=True)
            self._pending[request_id] = target
            return None

    def settle(self, result: UnlockResult) -> None:
        with self._cond:
            self._pending.pop(result.request_id, None)
            if result.sent:
                self._done[result.request_id] = result
            self._cond.notify_all()

    @staticmethod
    def _check_target(request_id: str, known: Target, asked: Target) -> None:
        if known != asked:
            raise RequestIdConflict(
                f"request id {request_id!r} was used for board {known[0]} slot {known[1]}, "
                f"not board {asked[0]} slot {asked[1]} (请求编号重复使用)"
            )
