"""The gate's two files, opened at start-up so that a damaged file never stops the gate nor strands a decision.

- ``cache.db``: what the gate downloaded (`gate.store`). Checked with ``PRAGMA quick_check``; a damaged cache is moved
  aside and the gate starts with an empty one, filled again from the server at the next sync.
- ``outbox.db``: what the guards decided: the outbox and the gate's own uses of slips. Checked with
  ``PRAGMA integrity_check``; a damaged one is moved aside and everything readable in it is copied row by row into a
  fresh file. Events whose rows cannot be read are looked for in the file's raw bytes (each carries its nonce and
  time); what is still missing is logged and counted for the gate's status. A copied entry keeps its nonce, so one
  the server already has is answered ``duplicate`` and never recorded twice.
- the single ``gate.db`` of earlier versions (cache and outbox in one file) is split into the two on first start.

Each fresh file is written beside the old one and put in place by a rename, so a power cut during start-up leaves
either the old file or the complete new one.
"""

from __future__ import annotations

import json
import logging
import os
import re
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gate.link import event_from, number_of
from gate.store import REFERENCE_SCHEMA, USES_COLUMNS, LocalStore, uses_schema
from server.contract.passes import PassMovementRequest
from server.contract.schemas import GateEvent, ReleaseRequest
from terminal.outbox import Outbox
from terminal.salvage import RawRow, Salvage, Table, finish_interrupted, move_aside, problem_of, rebuild, write_fresh

log = logging.getLogger("estate.gate")

CACHE_FILE = "cache.db"
OUTBOX_FILE = "outbox.db"
OLD_FILE = "gate.db"  # cache and outbox in one file, before they were split
ROUTES = ("sync", "release", "pass")
_EVENT_START = re.compile(rb'\{"nonce":"')


@dataclass(frozen=True)
class Recovery:
    """What start-up found wrong with one of the gate's files, and what it did about it."""

    file: str  # cache | outbox | gate.db
    problem: str
    moved_to: Path
    salvaged: int = 0  # the guards' decisions copied into the fresh outbox
    lost: int | None = 0  # decisions that could not be read back; None: unknown (not a database at all)

    def describe(self) -> str:
        if self.file == "cache":
            return (
                f"本地缓存损坏，已移至 {self.moved_to.name}，将从服务器重新下载 / the local cache was damaged "
                f"({self.problem}); moved to {self.moved_to.name}, downloading it again from the server"
            )
        lost_zh = "未知条数" if self.lost is None else f"{self.lost} 条"
        lost_en = "an unknown number" if self.lost is None else str(self.lost)
        return (
            f"放行记录文件损坏，已移至 {self.moved_to.name}：恢复 {self.salvaged} 条，{lost_zh}无法恢复 / "
            f"the decisions file {self.file} was damaged ({self.problem}); moved to {self.moved_to.name}: "
            f"{self.salvaged} decisions recovered, {lost_en} could not be read"
        )


@dataclass
class GateStorage:
    store: LocalStore
    outbox: Outbox
    recoveries: list[Recovery]

    @property
    def lost(self) -> int | None:
        """Decisions lost to damaged files (None: some file could not be read at all); 0 when nothing was lost."""
        counts = [r.lost for r in self.recoveries if r.file != "cache"]
        return None if None in counts else sum(c or 0 for c in counts)

    def close(self) -> None:
        self.store.close()
        self.outbox.close()


def open_storage(data_dir: Path, now: datetime | None = None) -> GateStorage:
    """The gate's cache and outbox in `data_dir`: checked, repaired or rebuilt as needed, and opened."""
    data_dir.mkdir(parents=True, exist_ok=True)
    data_dir.chmod(0o700)  # the guard roster's PIN digests and the day's slips: the gate's user only
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    cache, outbox, old = data_dir / CACHE_FILE, data_dir / OUTBOX_FILE, data_dir / OLD_FILE
    finish_interrupted(outbox)
    recoveries: list[Recovery] = []
    if old.exists():
        recoveries += _split_old_file(old, cache, outbox, stamp)
    if outbox.exists():
        problem = problem_of(outbox, "integrity_check")
        if problem is not None:
            done = rebuild(outbox, f"corrupt-{stamp}", SALVAGE)
            recoveries.append(Recovery("outbox", problem, done.moved_to, done.salvaged, done.lost))
    if cache.exists():
        problem = problem_of(cache, "quick_check")
        if problem is not None:
            recoveries.append(Recovery("cache", problem, move_aside(cache, f"corrupt-{stamp}")))
    for recovery in recoveries:
        log.warning("%s", recovery.describe())
    return GateStorage(LocalStore(cache, outbox), Outbox(outbox), recoveries)


def _split_old_file(old: Path, cache: Path, outbox: Path, stamp: str) -> list[Recovery]:
    if outbox.exists():  # split already; stopped before the old file was moved aside
        move_aside(old, f"migrated-{stamp}")
        return []
    problem = problem_of(old, "integrity_check")
    if problem is None and not cache.exists():
        _copy_reference(old, cache)  # a damaged file's reference data is not trusted: downloaded again instead
    ready, salvaged, lost = write_fresh(old, outbox, SALVAGE)
    os.replace(ready, outbox)
    moved = move_aside(old, f"{'corrupt' if problem else 'migrated'}-{stamp}")
    log.info("split %s into %s and %s: %d decisions kept", old.name, cache.name, outbox.name, salvaged)
    return [] if problem is None else [Recovery(OLD_FILE, problem, moved, salvaged, lost)]


def _copy_reference(source: Path, cache: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(cache)) as dst:
        rows = src.execute("SELECT name, etag, body, fetched_at FROM reference").fetchall()
        dst.executescript(REFERENCE_SCHEMA)
        with dst:
            dst.executemany("INSERT INTO reference (name, etag, body, fetched_at) VALUES (?, ?, ?, ?)", rows)


def _sound(values: dict[str, object]) -> bool:
    """A row's body is the request its route sends (an event as the upload reads it, `event_from`)."""
    readers = {"sync": event_from, "pass": PassMovementRequest.model_validate_json}
    read = readers.get(str(values["route"]), ReleaseRequest.model_validate_json)
    read(str(values["body"]))
    return values["route"] in ROUTES


def _events_in_bytes(paths: list[Path]) -> dict[str, RawRow]:
    """Offline events found in the raw bytes of a file SQLite cannot fully read, as outbox rows by nonce."""
    decoder = json.JSONDecoder()
    found: dict[str, RawRow] = {}
    for path in paths:
        if not path.exists():
            continue
        data = path.read_bytes()
        for match in _EVENT_START.finditer(data):
            chunk = data[match.start() : match.start() + 16_384].decode("utf-8", errors="replace")
            try:
                value, end = decoder.raw_decode(chunk)
                event = GateEvent.model_validate(value)
            except ValueError:
                continue
            if "\ufffd" not in chunk[:end]:  # a damaged byte inside: not the event the gate wrote
                row = (event.nonce, "sync", event.model_dump_json(), _number(event), event.at.isoformat())
                found.setdefault(event.nonce, row)
    return found


def _number(event: GateEvent) -> str:
    return (number_of(event.text) or "") if event.kind != "sign_in" else ""


# The decisions file holds the gate's own uses of slips beside the outbox; offline events also carry their nonce and
# time in their JSON, so they can be found in the raw bytes of pages SQLite cannot read.
SALVAGE = Salvage(
    sound=_sound,
    in_bytes=_events_in_bytes,
    tables=(Table("local_uses", USES_COLUMNS, uses_schema(), ("sqlite_autoindex_local_uses_1",)),),
)
