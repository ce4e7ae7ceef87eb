"""Forwarding cabinet events to the server: taken into the outbox at once, uploaded in the background."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import httpx

from cabinet.outbox import EventOutbox
from devices.cabinet.events import CabinetEvent
from server.contract.cabinet import CabinetEventIn, CabinetEventsIn, CabinetEventsOut
from server.contract.client import ApiError

log = logging.getLogger("estate.cabinet")

Send = Callable[[CabinetEventsIn, str], CabinetEventsOut]


def to_wire(event: CabinetEvent) -> dict[str, Any]:
    """An event as the server takes it (JSON-ready)."""
    fields = event.to_dict()
    reason = fields.get("reason")
    if "waited_s" in fields:
        reason = f"not seen open within {fields['waited_s']:.1f} s"
    elif "open_s" in fields:
        reason = f"open for {fields['open_s']:.0f} s"
    elif "home_slot" in fields:
        reason = f"belongs in board {fields['home_board']} slot {fields['home_slot']}"
    wire = CabinetEventIn(
        event=event.name,
        board=event.board,
        slot=fields.get("slot"),
        at=event.at,
        request_id=fields.get("request_id"),
        tag=fields.get("tag"),
        reason=reason,
    )
    return wire.model_dump(mode="json")


@dataclass(frozen=True)
class Retry:
    """Delays after failed uploads: doubling from `initial` up to `maximum` seconds."""

    initial: float = 1.0
    maximum: float = 60.0

    def delay(self, failures: int) -> float:
        return min(self.maximum, self.initial * 2 ** max(0, failures - 1))


class EventForwarder:
    def __init__(self, outbox: EventOutbox, send: Send, retry: Retry | None = None) -> None:
        self.outbox = outbox
        self.send = send
        self.retry = retry or Retry()
        self.failures = 0
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def accept(self, event: CabinetEvent) -> None:
        """Keep the event (on disk) and wake the uploader. Called on the cabinet's polling thread."""
        self.outbox.add(to_wire(event))
        if self.failures == 0:  # while the server is away, retries keep their back-off
            self._wake.set()

    def flush_once(self) -> bool:
        """Try to upload the oldest batch. True if the server took it (or nothing was waiting)."""
        batch = self.outbox.next_batch()
        if batch is None:
            return True
        key, events = batch
        try:
            self.send(CabinetEventsIn.model_validate({"events": events}), key)
        except (httpx.HTTPError, ApiError) as exc:
            # Network faults and refusals alike keep the batch: an event is never dropped on the agent's side.
            self.failures += 1
            log.warning("cabinet events not uploaded (%s); %d waiting", exc, self.outbox.pending())
            return False
        self.outbox.done(key)
        self.failures = 0
        return True

    def _run(self) -> None:
        while not self._stop.is_set():
            sent = self.flush_once()
            if sent and self.outbox.pending():
                continue
            self._wake.wait(timeout=self.retry.delay(self.failures) if not sent else None)
            self._wake.clear()

    def start(self) -> EventForwarder:
        self._thread = threading.Thread(target=self._run, name="cabinet-uploader", daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
