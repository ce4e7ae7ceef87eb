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
import shutil
import sqlite3
from collections.abc import Sequence
from contextlib import closing
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from gate.link import number_of
from gate.outbox import ALL_COLUMNS, Outbox
from gate.outbox import SCHEMA as OUTBOX_SCHEMA
from gate.store import REFERENCE_SCHEMA, USES_COLUMNS, LocalStore, uses_schema
from server.contract.schemas import GateEvent, ReleaseRequest

log = logging.getLogger("estate.gate")

CACHE_FILE = "cache.db"
OUTBOX_FILE = "outbox.db"
OLD_FILE = "gate.db"  # cache and outbox in one file, before they were split
# Indexes whose pages may still list the rowids of a table whose own pages are damaged.
_INDEXES = {
    "outbox": ("sqlite_autoindex_outbox_1", "outbox_pending"),
    "local_uses": ("sqlite_autoindex_local_uses_1",),
}
_MAX_ROWID = 1_000_000  # bounds row-by-row reading when a damaged page reports a wild rowid
ROUTES = ("sync", "release")
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
    stamp = (now or datetime.now(UTC)).strftime("%Y%m%dT%H%M%SZ")
    cache, outbox, old = data_dir / CACHE_FILE, data_dir / OUTBOX_FILE, data_dir / OLD_FILE
    _finish_interrupted(outbox)
    recoveries: list[Recovery] = []
    if old.exists():
        recoveries += _split_old_file(old, cache, outbox, stamp)
    if outbox.exists():
        problem = problem_of(outbox, "integrity_check")
        if problem is not None:
            recoveries.append(_rebuild_outbox(outbox, problem, stamp))
    if cache.exists():
        problem = problem_of(cache, "quick_check")
        if problem is not None:
            recoveries.append(Recovery("cache", problem, _move_aside(cache, f"corrupt-{stamp}")))
    for recovery in recoveries:
        log.warning("%s", recovery.describe())
    return GateStorage(LocalStore(cache, outbox), Outbox(outbox), recoveries)


def problem_of(path: Path, check: str) -> str | None:
    """None if SQLite finds the file sound, else what it found (`check`: quick_check or integrity_check)."""
    try:
        with closing(sqlite3.connect(path)) as conn:
            rows = conn.execute(f"PRAGMA {check}").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    found = "; ".join(str(r[0]) for r in rows)
    return None if found == "ok" else found[:500]


def _side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def _move_aside(path: Path, tag: str) -> Path:
    """Rename the file with its WAL and shared-memory files to NAME.TAG…; returns the new name of the file."""
    for suffix in ("-wal", "-shm", ""):
        if _side(path, suffix).exists():
            os.replace(_side(path, suffix), _side(path, f".{tag}{suffix}"))
    return _side(path, f".{tag}")


def _finish_interrupted(outbox: Path) -> None:
    """A fresh outbox completed (`.ready`) but not yet renamed when the gate stopped is put in place; one still
    being written (`.partial`) is dropped, its source having stayed in place."""
    ready = _side(outbox, ".ready")
    if ready.exists() and not outbox.exists():
        os.replace(ready, outbox)
    ready.unlink(missing_ok=True)
    _side(outbox, ".partial").unlink(missing_ok=True)


def _split_old_file(old: Path, cache: Path, outbox: Path, stamp: str) -> list[Recovery]:
    if outbox.exists():  # split already; stopped before the old file was moved aside
        _move_aside(old, f"migrated-{stamp}")
        return []
    problem = problem_of(old, "integrity_check")
    if problem is None and not cache.exists():
        _copy_reference(old, cache)  # a damaged file's reference data is not trusted: downloaded again instead
    ready, salvaged, lost = _write_outbox(old, outbox)
    os.replace(ready, outbox)
    moved = _move_aside(old, f"{'corrupt' if problem else 'migrated'}-{stamp}")
    log.info("split %s into %s and %s: %d decisions kept", old.name, cache.name, outbox.name, salvaged)
    return [] if problem is None else [Recovery(OLD_FILE, problem, moved, salvaged, lost)]


def _rebuild_outbox(outbox: Path, problem: str, stamp: str) -> Recovery:
    ready, salvaged, lost = _write_outbox(outbox, outbox)
    moved = _move_aside(outbox, f"corrupt-{stamp}")
    os.replace(ready, outbox)
    return Recovery("outbox", problem, moved, salvaged, lost)


def _copy_reference(source: Path, cache: Path) -> None:
    with closing(sqlite3.connect(source)) as src, closing(sqlite3.connect(cache)) as dst:
        rows = src.execute("SELECT name, etag, body, fetched_at FROM reference").fetchall()
        dst.executescript(REFERENCE_SCHEMA)
        with dst:
            dst.executemany("INSERT INTO reference (name, etag, body, fetched_at) VALUES (?, ?, ?, ?)", rows)


def _write_outbox(source: Path, target: Path) -> tuple[Path, int, int | None]:
    """Every readable decision of `source` (an outbox or an old gate.db, sound or not) in a new file beside
    `target`, named TARGET.ready when complete. Returns that file, how many entries it holds and how many could not
    be read (None when the source could not be read as a database at all)."""
    raw = _events_in_bytes([source, _side(source, "-wal")])
    copy = _working_copy(source, _side(target, ".salvage"))
    try:
        with closing(sqlite3.connect(copy)) as src:
            try:
                src.execute("SELECT count(*) FROM sqlite_master").fetchone()
                readable = True
            except sqlite3.DatabaseError:
                readable = False
            entries, unreadable = _read_rows(src, "outbox", ALL_COLUMNS) if readable else ([], 0)
            uses, _ = _read_rows(src, "local_uses", USES_COLUMNS) if readable else ([], 0)
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            _side(copy, suffix).unlink(missing_ok=True)
    good = [e for e in entries if _sound_entry(e)]
    unreadable += len(entries) - len(good)
    known = {e[1] for e in good}
    extra = sorted((e for n, e in raw.items() if n not in known), key=lambda e: e.at)
    partial = _side(target, ".partial")
    partial.unlink(missing_ok=True)
    with closing(sqlite3.connect(partial)) as dst:
        dst.executescript(OUTBOX_SCHEMA + uses_schema())
        with dst:
            marks = ", ".join("?" * len(ALL_COLUMNS))
            dst.executemany(f"INSERT INTO outbox ({', '.join(ALL_COLUMNS)}) VALUES ({marks})", good)
            dst.executemany(
                "INSERT INTO outbox (nonce, route, body, number, at) VALUES (?, 'sync', ?, ?, ?)",
                [(e.nonce, e.model_dump_json(), _number(e), e.at.isoformat()) for e in extra],
            )
            dst.executemany(f"INSERT OR REPLACE INTO local_uses ({', '.join(USES_COLUMNS)}) VALUES (?, ?, ?, ?)", uses)
    ready = _side(target, ".ready")
    os.replace(partial, ready)
    lost = max(0, unreadable - len(extra)) if readable else None
    return ready, len(good) + len(extra), lost


def _working_copy(source: Path, copy: Path) -> Path:
    """A copy of `source` (and its WAL) to read from, leaving the damaged file as it was found. A file cut short is
    padded back to the length its header gives, so SQLite opens it and only the rows past the cut fail to read."""
    for suffix in ("", "-wal"):
        _side(copy, suffix).unlink(missing_ok=True)
        if _side(source, suffix).exists():
            shutil.copyfile(_side(source, suffix), _side(copy, suffix))
    with copy.open("r+b") as f:
        header = f.read(100)
        if header.startswith(b"SQLite format 3\0") and len(header) == 100:
            page_size = int.from_bytes(header[16:18], "big")
            page_size = 65536 if page_size == 1 else page_size
            length = page_size * int.from_bytes(header[28:32], "big")
            if f.seek(0, os.SEEK_END) < length:
                f.truncate(length)
    return copy


def _read_rows(conn: sqlite3.Connection, table: str, columns: Sequence[str]) -> tuple[list[tuple], int]:
    """The rows of `table` read one rowid at a time, so a damaged page loses only the rows on it; and how many
    rowids could not be read. Rowids come from the table, its indexes and the AUTOINCREMENT counter, whichever
    can still be read."""
    probes = [
        (f"SELECT rowid FROM {table}", ()),
        (f"SELECT max(rowid) FROM {table}", ()),
        ("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)),
        *((f"SELECT rowid FROM {table} INDEXED BY {index}", ()) for index in _INDEXES[table]),
    ]
    rowids: set[int] = set()
    for query, args in probes:
        try:
            rowids.update(row[0] for row in conn.execute(query, args) if isinstance(row[0], int))
        except sqlite3.DatabaseError:
            continue  # keeps the rowids read before the damaged page
    select = f"SELECT {', '.join(columns)} FROM {table} WHERE rowid = ?"
    rows, unreadable = [], 0
    for rowid in range(1, min(max(rowids, default=0), _MAX_ROWID) + 1):
        try:
            row = conn.execute(select, (rowid,)).fetchone()
        except sqlite3.DatabaseError:
            unreadable += 1
            continue
        if row is not None:
            rows.append(row)
    return rows, unreadable


def _sound_entry(row: tuple) -> bool:
    """An outbox row whose fields are what the gate wrote (a damaged page can also yield wrong values)."""
    values = dict(zip(ALL_COLUMNS, row, strict=True))
    try:
        datetime.fromisoformat(values["at"])
        model = GateEvent if values["route"] == "sync" else ReleaseRequest
        model.model_validate_json(values["body"])
    except (TypeError, ValueError):
        return False
    return isinstance(values["seq"], int) and isinstance(values["nonce"], str) and values["route"] in ROUTES


def _events_in_bytes(paths: list[Path]) -> dict[str, GateEvent]:
    """Offline events found in the raw bytes of a file SQLite cannot fully read, by nonce."""
    decoder = json.JSONDecoder()
    found: dict[str, GateEvent] = {}
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
                found.setdefault(event.nonce, event)
    return found


def _number(event: GateEvent) -> str:
    return (number_of(event.text) or "") if event.kind != "sign_in" else ""
