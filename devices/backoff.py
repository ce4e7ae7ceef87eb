"""How long to wait before trying again after failures in a row: the one back-off of every retry loop (the camera's
reconnects, the apps' uploads and syncs)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Backoff:
    """Delays after failures: ``initial``, multiplied by ``factor`` after each further failure, at most ``maximum``
    seconds."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 10.0

    def delay(self, failures: int) -> float:
        """Seconds to wait after `failures` failures in a row (the first waits `initial`)."""
        return min(self.maximum, self.initial * self.factor ** max(0, failures - 1))
