"""Forwarding cabinet events to the server: taken into the outbox at once, uploaded in the background."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

import httpx

from cabinet.outbox import EventOutbox
from devices.backoff import Backoff
from devices.cabinet.events import CabinetEvent
from server.contract.cabinet import CabinetEventIn, CabinetEventsIn, CabinetEventsOut
from server.contract.client import ApiError
from terminal.worker import Worker

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


class EventForwarder:
    """Uploads the outbox's batches on a worker thread, one after another while they wait, with a back-off while
    the server cannot take them."""

    def __init__(self, outbox: EventOutbox, send: Send, backoff: Backoff | None = None) -> None:
        self.outbox = outbox
        self.send = send
        backoff = backoff or Backoff(initial=1.0, maximum=60.0)
        self.worker = Worker("cabinet-uploader", self._step, backoff, expected=(httpx.HTTPError, ApiError))

    @property
    def failures(self) -> int:
        return self.worker.failures

    def accept(self, event: CabinetEvent) -> None:
        """Keep the event (on disk) and wake the uploader. Called on the cabinet's polling thread."""
        self.outbox.add(to_wire(event))
        self.worker.wake()  # while the server is away, retries keep their back-off

    def flush_once(self) -> bool:
        """Try to upload the oldest batch. True if the server took it (or nothing was waiting)."""
        self.worker.run_once()
        return self.worker.failures == 0

    def _step(self) -> float | None:
        """Upload the oldest batch; at once again while more wait, else when an event comes."""
        batch = self.outbox.next_batch()
        if batch is None:
            return None
        key, events = batch
        try:
            self.send(CabinetEventsIn.model_validate({"events": events}), key)
        except (httpx.HTTPError, ApiError) as exc:
            # Network faults and refusals alike keep the batch: an event is never dropped on the agent's side.
            log.warning("cabinet events not uploaded (%s); %d waiting", exc, self.outbox.pending())
            raise
        self.outbox.done(key)
        return 0.0 if self.outbox.pending() else None

    def start(self) -> EventForwarder:
        self.worker.start()
        return self

    def stop(self) -> None:
        self.worker.stop()
