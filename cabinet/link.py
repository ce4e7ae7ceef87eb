"""Whether the agent can ask the server right now, decided by outcomes as the gate does: any answer about the request
(even a refusal) means the server is there; no answer, a server fault or this cabinet's token refused means it is
away, and the agent works from what it synced until the background sync reaches the server again."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from typing import TypeVar

import httpx

from server.contract.client import ApiError

log = logging.getLogger(__name__)
T = TypeVar("T")


class ServerAway(Exception):
    """The server could not be asked. `maybe_sent`: the request may have reached it (resend with the same
    Idempotency-Key to learn its answer)."""

    def __init__(self, message: str, *, maybe_sent: bool) -> None:
        super().__init__(message)
        self.maybe_sent = maybe_sent


class Link:
    """The server as the agent last found it: `online` is None until the first call."""

    def __init__(self) -> None:
        self.online: bool | None = None
        self._lock = threading.Lock()

    def ask(self, call: Callable[[], T]) -> T:
        """`call()`'s answer; ServerAway when no answer came; ApiError when the server refused the request."""
        try:
            answer = call()
        except httpx.TransportError as exc:
            away = ServerAway(
                f"no answer from the server ({type(exc).__name__}: {exc})",
                maybe_sent=not isinstance(exc, httpx.ConnectError),
            )
            self._set(False, str(away))
            raise away from exc
        except ApiError as exc:
            if exc.token_refused or exc.status >= 500:
                why = "it refused this cabinet's device token" if exc.token_refused else f"server fault {exc}"
                away = ServerAway(why, maybe_sent=exc.status >= 500)
                self._set(False, why)
                raise away from exc
            self._set(True, "")
            raise
        self._set(True, "")
        return answer

    def _set(self, online: bool, why: str) -> None:
        with self._lock:
            before, self.online = self.online, online
        if before is online:
            return
        if online:
            log.info("server reachable")
        else:
            log.warning("server away (%s): signing in from the synced roster, opening the synced unlocks", why)
