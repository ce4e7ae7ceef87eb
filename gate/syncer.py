"""The gate's background sync: a heartbeat every two seconds tells the guard within seconds that the server went
away or came back; the outbox is uploaded soon after each decision and at every heartbeat while it holds
anything; keys, revocations, the roster and the day's slips are downloaded about every minute (HARDWARE-NOTES:
devices upload about every minute and download about every five; a gate at a busy door does both sooner), and at
once when the server is back. While the server cannot be reached the gate retries with a back-off of at most three
seconds, so it resyncs within seconds of the server's return."""

from __future__ import annotations

import time
from dataclasses import dataclass

import httpx

from devices.backoff import Backoff
from gate.link import GateLink, TokenRefused
from terminal.worker import Worker


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
        backoff = Backoff(initial=self.timing.backoff_initial, maximum=self.timing.backoff_max)
        self.worker = Worker("gate-sync", self._step, backoff, expected=(httpx.TransportError, OSError, TokenRefused))
        self._next_refresh = 0.0

    @property
    def failures(self) -> int:
        return self.worker.failures

    def start(self) -> None:
        self.worker.start()

    def stop(self, timeout: float = 5.0) -> None:
        self.worker.stop(timeout)

    def kick(self) -> None:
        """Upload now (after a decision), unless the server is known to be away: the back-off then decides."""
        self.worker.wake()

    def run_once(self, refresh: bool) -> None:
        """One round: refresh the reference data if due (or to find the server again), else a heartbeat; then
        upload what waits."""
        if refresh or not self.link.online:
            self.link.refresh_reference()
        else:
            self.link.heartbeat()
        if self.link.queue_length():
            self.link.upload()

    def _step(self) -> float:
        now = time.monotonic()
        due = now >= self._next_refresh
        self.run_once(due)
        if due:
            self._next_refresh = now + self.timing.refresh_every
        return min(self.timing.heartbeat_every, max(0.0, self._next_refresh - time.monotonic()))
