"""The gate's background sync: uploads the outbox soon after each decision and about every few seconds, downloads
keys, revocations, the roster and the day's slips about every minute (HARDWARE-NOTES: devices upload about every
minute and download about every five; a gate at a busy door does both sooner), and backs off exponentially while
the server cannot be reached."""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

import httpx

from gate.link import GateLink

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class SyncTiming:
    upload_every: float = 5.0
    refresh_every: float = 60.0
    backoff_initial: float = 1.0
    backoff_max: float = 60.0


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
        """One round: refresh the reference data if due (or to find the server again), then upload."""
        if refresh or not self.link.online:
            self.link.refresh_reference()
        if self.link.queue_length():
            self.link.upload()

    def _run(self) -> None:
        next_refresh = 0.0
        while not self._stop.is_set():
            now = time.monotonic()
            try:
                self.run_once(now >= next_refresh)
            except (httpx.TransportError, OSError) as exc:
                self.failures += 1
                delay = self.backoff()
                log.info("server unreachable (%s); next try in %.1f s", type(exc).__name__, delay)
            except Exception:  # a bad answer must not end the gate's sync for the shift
                self.failures += 1
                delay = self.backoff()
                log.exception("sync failed; next try in %.1f s", delay)
            else:
                if now >= next_refresh:
                    next_refresh = now + self.timing.refresh_every
                self.failures = 0
                delay = min(self.timing.upload_every, max(0.0, next_refresh - time.monotonic()))
            self._wake.wait(delay)
            self._wake.clear()
