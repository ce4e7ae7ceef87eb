"""The gate's background sync: a heartbeat every two seconds tells the guard within seconds that the server went
away or came back; the outbox is uploaded soon after each decision and at every heartbeat while it holds
anything; keys, revocations, the roster and the day's slips are downloaded about every minute (HARDWARE-NOTES:
devices upload about every minute and download about every five; a gate at a busy door does both sooner), and at
once when the server is back. While the server cannot be reached the gate retries with a back-off of at most three
seconds, so it resyncs within seconds of the server's return."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import httpx

from gate.link import GateLink, TokenRefused

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncTiming:
    heartbeat_every: float = 2.0
    refresh_every: float = 60.0
    backoff_initial: float = 1.0
    backoff_max: float = 3.0


class Syncer:
    def __init__(self, link: GateLink, timing: SyncTiming | None = None) -> None:
        self.link = link
        self.timing = timing or SyncTiming()
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self.failures = 0

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="gate-sync", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def kick(self) -> None:
        """Upload now (after a decision), unless the server is known to be away: the back-off then decides."""
        if self.failures == 0:
            self._wake.set()

    def backoff(self) -> float:
        return min(self.timing.backoff_max, self.timing.backoff_initial * 2 ** max(0, self.failures - 1))

    def run_once(self, refresh: bool) -> None:
        """One round: refresh the reference data if due (or to find the server again), else a heartbeat; then
        upload what waits."""
        if refresh or not self.link.online:
            self.link.refresh_reference()
        else:
            self.link.heartbeat()
        if self.link.queue_length():
            self.link.upload()

    def _run(self) -> None:
        next_refresh = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                self.run_once(now >= next_refresh)
            except (httpx.TransportError, OSError, TokenRefused) as exc:
                self.failures += 1
                delay = self.backoff()
                log.debug("sync round failed (%s); next try in %.1f s", type(exc).__name__, delay)
            except Exception:  # a bad answer must not end the gate's sync for the shift
                self.failures += 1
                delay = self.backoff()
                log.exception("sync failed; next try in %.1f s", delay)
            else:
                if now >= next_refresh:
                    next_refresh = now + self.timing.refresh_every
                self.failures = 0
                delay = min(self.timing.heartbeat_every, max(0.0, next_refresh - time.monotonic()))
            self._wake.wait(delay)
            self._wake.clear()
