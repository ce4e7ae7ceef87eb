"""Forwarding cabinet events to the server: taken into the outbox (`terminal.outbox`) at once, uploaded in the
background in batches; a batch keeps its Idempotency-Key until the server has taken it, so one whose answer was lost
is recorded once."""

from __future__ import annotations

import json
import logging
import re
import sqlite3
import uuid
from collections.abc import Callable
from contextlib import closing
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
from annotated_types import MaxLen
from pydantic import ValidationError

from cabinet.config import CabinetConfig
from devices.backoff import Backoff
from devices.cabinet.driver import Cabinet
from devices.cabinet.events import CabinetEvent
from devices.cabinet.ledger import UnlockLedger
from devices.cabinet.reader import ReturnPointReader
from devices.cabinet.tags import hex_of_tag_id
from server.contract.cabinet import CabinetEventIn, CabinetEventsIn, CabinetEventsOut
from server.contract.client import ApiError
from terminal.outbox import SCHEMA, Outbox
from terminal.salvage import Salvage, finish_interrupted, problem_of, rebuild
from terminal.worker import Worker

log = logging.getLogger(__name__)

Send = Callable[[CabinetEventsIn, str], CabinetEventsOut]
ROUTE = "cabinet_events"  # POST /cabinet/events
KEEP_SENT = timedelta(days=7)  # what the server took stays in the file a week, for a technician looking into a case
# What the contract's `Text` refuses: control characters (a babbling line's bytes) and lone surrogates.
_UNSENDABLE = re.compile("[\x00-\x1f\x7f-\x9f\ud800-\udfff]")


def open_outbox(path: Path, now: datetime | None = None) -> Outbox:
    """The agent's outbox in `path`: a damaged file is moved aside and what could be read of it kept; events an
    earlier agent kept in its own `events` table are moved in, a batch already formed keeping its key."""
    finish_interrupted(path)
    problem = problem_of(path, "integrity_check") if path.exists() else None
    if problem is not None:
        stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
        done = rebuild(path, f"corrupt-{stamp}", Salvage())
        log.warning(
            "the cabinet's outbox was damaged (%s); moved to %s: %d events recovered, %s could not be read",
            problem,
            done.moved_to.name,
            done.salvaged,
            "an unknown number" if done.lost is None else done.lost,
        )
    elif path.exists():
        _take_old_events(path)
    return Outbox(path)


def _take_old_events(path: Path) -> None:
    with closing(sqlite3.connect(path)) as conn:
        if conn.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'events'").fetchone() is None:
            return
        conn.executescript(SCHEMA)
        with conn:
            for body, batch in conn.execute("SELECT body, batch FROM events ORDER BY id").fetchall():
                nonce = uuid.uuid4().hex
                conn.execute(
                    "INSERT INTO outbox (nonce, route, body, number, at) VALUES (?, ?, ?, '', ?)",
                    (nonce, ROUTE, body, json.loads(body)["at"]),
                )
                if batch is not None:
                    conn.execute("INSERT INTO outbox_batches (nonce, batch) VALUES (?, ?)", (nonce, batch))
            conn.execute("DROP TABLE events")


def _fit(name: str, value: object) -> str | None:
    """A text field as the contract takes it: control characters replaced, cut to the field's length with "…"."""
    if value is None:
        return None
    text = _UNSENDABLE.sub("?", str(value))
    limit = next((m.max_length for m in CabinetEventIn.model_fields[name].metadata if isinstance(m, MaxLen)), None)
    return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"


def open_cabinet(settings: CabinetConfig, *, ledger: UnlockLedger | None = None, **options: Any) -> Cabinet:
    """The driver for the boards the settings describe, each with its own profile (channels, wiring, byte order),
    sending unlocks through `ledger`; `options` go to the driver as they are (a key reader, timeouts)."""
    profiles = settings.profiles()
    options.setdefault("poll_interval", settings.poll_interval)
    return Cabinet(settings.cabinet, settings.protocol, list(profiles), profiles=profiles, ledger=ledger, **options)


def open_reader(settings: CabinetConfig, on_event: Callable[[CabinetEvent], None]) -> ReturnPointReader | None:
    """The return-point tag reader the settings name, not yet started (None: the cabinet has none)."""
    return ReturnPointReader(settings.tag_reader, on_event) if settings.tag_reader else None


def to_wire(event: CabinetEvent) -> dict[str, Any]:
    """An event as the server takes it (JSON-ready): a key's tag in the hex readers print (`tags.tag_hex`), texts
    fitted to the contract's limits, and an event the contract still refuses sent as its name, board and time with
    the refusal as reason: nothing seen is dropped."""
    fields = event.to_dict()
    reason = fields.get("reason")
    if "waited_s" in fields:
        reason = f"not seen open within {fields['waited_s']:.1f} s"
    elif "open_s" in fields:
        reason = f"open for {fields['open_s']:.0f} s"
    elif "home_slot" in fields:
        reason = f"belongs in board {fields['home_board']} slot {fields['home_slot']}"
    elif "reader" in fields and reason is None:
        reason = f"at the return-point reader {fields['reader']}"
    if fields.get("tag"):
        fields["tag"] = hex_of_tag_id(fields["tag"])  # as the contract and the key register take it
    texts = {name: _fit(name, fields.get(name)) for name in ("request_id", "tag")}
    try:
        wire = CabinetEventIn(
            event=event.name,
            board=event.board,
            slot=fields.get("slot"),
            at=event.at,
            **texts,
            reason=_fit("reason", reason),
        )
    except ValidationError as exc:
        log.warning("cabinet event %s does not fit the contract (%s); sent without its details", event.name, exc)
        wire = CabinetEventIn(
            event=event.name,
            board=min(max(event.board, 0), 255),
            slot=None,
            at=event.at,
            request_id=None,
            tag=None,
            reason=_fit("reason", f"{fields}: {exc}"),
        )
    return wire.model_dump(mode="json")


class EventForwarder:
    """Uploads the outbox's batches on a worker thread, one after another while they wait, with a back-off while
    the server cannot take them."""

    def __init__(self, outbox: Outbox, send: Send, backoff: Backoff | None = None) -> None:
        self.outbox = outbox
        self.send = send
        backoff = backoff or Backoff(initial=1.0, maximum=60.0)
        self.worker = Worker("cabinet-uploader", self._step, backoff, expected=(httpx.HTTPError, ApiError))

    @property
    def failures(self) -> int:
        return self.worker.failures

    def accept(self, event: CabinetEvent) -> None:
        """Keep the event (on disk) and wake the uploader. Called on the cabinet's polling thread."""
        self.outbox.add(uuid.uuid4().hex, ROUTE, json.dumps(to_wire(event), ensure_ascii=False), event.at)
        self.worker.wake()  # while the server is away, retries keep their back-off

    def accept_wire(self, event: CabinetEventIn) -> None:
        """Keep an event the agent itself made (a sign-in at the panel), as `accept` does."""
        self.outbox.add(uuid.uuid4().hex, ROUTE, event.model_dump_json(), event.at)
        self.worker.wake()

    def flush_once(self) -> bool:
        """Try to upload the oldest batch. True if the server took it (or nothing was waiting)."""
        self.worker.run_once()
        return self.worker.failures == 0

    def _step(self) -> float | None:
        """Upload the oldest batch; at once again while more wait, else when an event comes."""
        batch = self.outbox.next_batch()
        if batch is None:
            return None
        key, entries = batch
        events = [json.loads(entry.body) for entry in entries]
        try:
            self.send(CabinetEventsIn.model_validate({"events": events}), key)
        except (httpx.HTTPError, ApiError) as exc:
            # Network faults and refusals alike keep the batch: an event is never dropped on the agent's side.
            log.warning("cabinet events not uploaded (%s); %d waiting", exc, self.outbox.pending_count())
            raise
        now = datetime.now(UTC)
        self.outbox.batch_sent(key, "recorded", now)
        self.outbox.forget_sent(now - KEEP_SENT)
        return 0.0 if self.outbox.pending_count() else None

    def start(self) -> EventForwarder:
        self.worker.start()
        return self

    def stop(self) -> None:
        self.worker.stop()
