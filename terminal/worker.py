"""A background worker: one step run again and again on its own thread, at the pace the step asks for, waiting
longer after each failure in a row (`devices.backoff`), woken early on request and stopped cleanly. The cabinet's
uploader, the kiosk's heartbeat and the gate's sync each run on one."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from devices.backoff import Backoff

log = logging.getLogger(__name__)

# A step does its work and returns how many seconds to wait before the next one (None: until woken); it fails by
# raising.
Step = Callable[[], float | None]


class Worker:
    def __init__(
        self,
        name: str,
        step: Step,
        backoff: Backoff,
        *,
        expected: tuple[type[Exception], ...] = (),
    ) -> None:
        """`expected`: failures that are part of the job (the server away), logged at debug level since the step's
        owner reports them; any other is logged with its trace."""
        self.name, self.step, self.backoff, self.expected = name, step, backoff, expected
        self.failures = 0  # failed steps in a row
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self._thread.start()

    def wake(self) -> None:
        """Run the step now, unless it is failing: then the back-off decides when it runs again."""
        if self.failures == 0:
            self._wake.set()

    def stop(self, timeout: float = 10.0) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)

    def run_once(self) -> float | None:
        """One step; the seconds to wait before the next (the back-off's delay after a failure)."""
        try:
            delay = self.step()
        except self.expected as exc:
            self.failures += 1
            delay = self.backoff.delay(self.failures)
            log.debug("%s: %s: %s; next try in %.1f s", self.name, type(exc).__name__, exc, delay)
        except Exception:  # a bad answer must not end the worker for the rest of the shift
            self.failures += 1
            delay = self.backoff.delay(self.failures)
            log.exception("%s failed; next try in %.1f s", self.name, delay)
        else:
            self.failures = 0
        return delay

    def _run(self) -> None:
        while not self._stop.is_set():
            delay = self.run_once()
            if delay is not None and delay <= 0:
                continue
            self._wake.wait(delay)
            self._wake.clear()
