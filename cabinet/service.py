"""The running agent as one object: the boards' driver with its persistent unlock ledger, the event outbox and its
uploader, the return-point tag reader, the staff panel, and the background work that syncs the roster and the
waiting unlocks and signs idle people out. `estate cabinet` runs one; tests run one in-process."""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any, Protocol

from cabinet.agent import EventForwarder, open_cabinet, open_outbox, open_reader
from cabinet.cache import Cached
from cabinet.config import CabinetConfig
from cabinet.control import CabinetApi, CabinetControl, Clock, utc_now
from cabinet.staff import StaffRoster
from cabinet.unlocks import UnlockBook
from devices.backoff import Backoff
from devices.cabinet.events import CabinetEvent
from devices.cabinet.ledger import SqliteLedger
from devices.cabinet.lines import LineReader
from server.contract.cabinet import CabinetEventsIn, CabinetEventsOut, CabinetRosterOut, CabinetUnlocksOut
from terminal.worker import Worker

log = logging.getLogger(__name__)
Listener = Callable[[CabinetEvent], None]


class AgentApi(CabinetApi, Protocol):
    def cabinet_events(self, events: CabinetEventsIn, idempotency_key: str) -> CabinetEventsOut: ...


class CabinetAgent:
    def __init__(
        self,
        settings: CabinetConfig,
        api: AgentApi,
        *,
        listeners: tuple[Listener, ...] = (),
        clock: Clock = utc_now,
        cabinet_options: dict[str, Any] | None = None,
        upload_backoff: Backoff | None = None,
    ) -> None:
        """`listeners` see every event too (the command prints them); `cabinet_options` go to the driver."""
        data = settings.data_dir
        self.settings = settings
        self.listeners = listeners
        self.ledger = SqliteLedger(data / "unlocks.db")
        self.outbox = open_outbox(data / "outbox.db")
        try:
            self.driver = open_cabinet(settings, ledger=self.ledger, **(cabinet_options or {}))
            self.reader = open_reader(settings, self._on_event)
            self.forwarder = EventForwarder(self.outbox, api.cabinet_events, upload_backoff)
            self.control = CabinetControl(
                api,
                self.driver,
                StaffRoster(Cached(data / "roster.json", CabinetRosterOut)),
                UnlockBook(Cached(data / "unlocks.json", CabinetUnlocksOut)),
                self.forwarder.accept_wire,
                clock=clock,
                idle_after=settings.idle_sign_out,
                sync_every=settings.sync_interval,
            )
            self.panel = LineReader(settings.panel, self.control.take_line, name="panel") if settings.panel else None
        except BaseException:
            self.ledger.close()
            self.outbox.close()
            raise
        self.worker = Worker("cabinet-control", self.control.tick, Backoff(initial=1.0, maximum=30.0))
        self.control.wake = self.worker.wake

    def _on_event(self, event: CabinetEvent) -> None:
        self.forwarder.accept(event)
        self.control.on_event(event)
        for listener in self.listeners:
            listener(event)

    def start(self) -> CabinetAgent:
        for unlock in self.ledger.interrupted():
            log.warning(
                "unlock %s of board %s slot %s was being sent when the program stopped: possibly sent, never sent "
                "again (unconfirmed)",
                unlock.request_id,
                unlock.board,
                unlock.slot,
            )
        self.forwarder.start()
        self.driver.subscribe(self._on_event)
        self.driver.start()
        if self.reader is not None:
            self.reader.start()
        self.worker.start()
        if self.panel is not None:
            self.panel.start()
        return self

    def stop(self) -> None:
        if self.panel is not None:
            self.panel.close()
        if self.reader is not None:
            self.reader.close()
        self.worker.stop()
        self.control.sign_out("the agent stopped")
        self.driver.close()
        self.forwarder.stop()
        self.ledger.close()
        self.outbox.close()

    def __enter__(self) -> CabinetAgent:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
