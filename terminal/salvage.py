"""Opening an outbox file so that a damaged one never stops the device nor strands what it holds.

The file is checked with ``PRAGMA integrity_check``; a damaged one is moved aside and everything readable in it is
copied row by row into a fresh file (the caller may look for more in the file's raw bytes, and names other tables
to carry over). A copied entry keeps its nonce, so one the server already has is answered ``duplicate`` and never
recorded twice. The fresh file is written beside the old one and put in place by a rename, so a power cut during
start-up leaves either the old file or the complete new one.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from terminal.outbox import ALL_COLUMNS, BATCH_COLUMNS, SCHEMA

_MAX_ROWID = 1_000_000  # bounds row-by-row reading when a damaged page reports a wild rowid
# Indexes whose pages may still list the rowids of a table whose own pages are damaged.
_INDEXES = {"outbox": ("sqlite_autoindex_outbox_1", "outbox_pending"), "outbox_batches": ()}

Row = tuple
# An outbox row found in the raw bytes, in ALL_COLUMNS order without `seq` (nonce, route, body, number, at).
RawRow = tuple[str, str, str, str, str]


@dataclass(frozen=True)
class Table:
    """Another table of the outbox file that a rebuild carries over (e.g. the gate's own uses of slips)."""

    name: str
    columns: Sequence[str]
    schema: str
    indexes: Sequence[str] = ()


@dataclass(frozen=True)
class Salvage:
    """How to rebuild one kind of outbox: which rows are sound, what the raw bytes still hold, what else to copy."""

    sound: Callable[[dict[str, object]], bool] = lambda _row: True
    in_bytes: Callable[[list[Path]], dict[str, RawRow]] = lambda _paths: {}
    tables: Sequence[Table] = field(default_factory=tuple)


def problem_of(path: Path, check: str) -> str | None:
    """None if SQLite finds the file sound, else what it found (`check`: quick_check or integrity_check)."""
    try:
        with closing(sqlite3.connect(path)) as conn:
            rows = conn.execute(f"PRAGMA {check}").fetchall()
    except sqlite3.DatabaseError as exc:
        return str(exc)
    found = "; ".join(str(r[0]) for r in rows)
    return None if found == "ok" else found[:500]


def side(path: Path, suffix: str) -> Path:
    return path.with_name(path.name + suffix)


def move_aside(path: Path, tag: str) -> Path:
    """Rename the file with its WAL and shared-memory files to NAME.TAG…; returns the new name of the file."""
    for suffix in ("-wal", "-shm", ""):
        if side(path, suffix).exists():
            os.replace(side(path, suffix), side(path, f".{tag}{suffix}"))
    return side(path, f".{tag}")


def finish_interrupted(outbox: Path) -> None:
    """A fresh outbox completed (`.ready`) but not yet renamed when the device stopped is put in place; one still
    being written (`.partial`) is dropped, its source having stayed in place."""
    ready = side(outbox, ".ready")
    if ready.exists() and not outbox.exists():
        os.replace(ready, outbox)
    ready.unlink(missing_ok=True)
    side(outbox, ".partial").unlink(missing_ok=True)


@dataclass(frozen=True)
class Rebuilt:
    moved_to: Path  # where the damaged file went
    salvaged: int  # entries copied into the fresh outbox
    lost: int | None  # entries that could not be read back; None: unknown (not a database at all)


def rebuild(outbox: Path, tag: str, how: Salvage) -> Rebuilt:
    """Replace a damaged outbox by a fresh file with everything readable in it; the damaged one is moved aside."""
    ready, salvaged, lost = write_fresh(outbox, outbox, how)
    moved = move_aside(outbox, tag)
    os.replace(ready, outbox)
    return Rebuilt(moved, salvaged, lost)


def write_fresh(source: Path, target: Path, how: Salvage) -> tuple[Path, int, int | None]:
    """Every readable entry of `source` (sound or not) in a new file beside `target`, named TARGET.ready when
    complete. Returns that file, how many entries it holds and how many could not be read (None when the source
    could not be read as a database at all)."""
    raw = how.in_bytes([source, side(source, "-wal")])
    copy = _working_copy(source, side(target, ".salvage"))
    tables = [Table("outbox_batches", BATCH_COLUMNS, ""), *how.tables]
    carried: dict[str, list[Row]] = {}
    try:
        with closing(sqlite3.connect(copy)) as src:
            try:
                src.execute("SELECT count(*) FROM sqlite_master").fetchone()
                readable = True
            except sqlite3.DatabaseError:
                readable = False
            entries, unreadable = _read_rows(src, "outbox", ALL_COLUMNS, _INDEXES["outbox"]) if readable else ([], 0)
            for table in tables:
                carried[table.name] = _read_rows(src, table.name, table.columns, table.indexes)[0] if readable else []
    finally:
        for suffix in ("", "-wal", "-shm", "-journal"):
            side(copy, suffix).unlink(missing_ok=True)
    good = [e for e in entries if _sound(e, how)]
    unreadable += len(entries) - len(good)
    known = {e[1] for e in good}
    extra = [row for nonce, row in raw.items() if nonce not in known]
    extra.sort(key=lambda row: datetime.fromisoformat(row[4]))
    partial = side(target, ".partial")
    partial.unlink(missing_ok=True)
    with closing(sqlite3.connect(partial)) as dst:
        dst.executescript(SCHEMA + "".join(t.schema for t in how.tables))
        with dst:
            dst.executemany(f"INSERT INTO outbox ({', '.join(ALL_COLUMNS)}) VALUES ({_marks(ALL_COLUMNS)})", good)
            dst.executemany("INSERT INTO outbox (nonce, route, body, number, at) VALUES (?, ?, ?, ?, ?)", extra)
            for table in tables:
                columns = table.columns
                dst.executemany(
                    f"INSERT OR REPLACE INTO {table.name} ({', '.join(columns)}) VALUES ({_marks(columns)})",
                    carried[table.name],
                )
    ready = side(target, ".ready")
    os.replace(partial, ready)
    lost = max(0, unreadable - len(extra)) if readable else None
    return ready, len(good) + len(extra), lost


def _marks(columns: Sequence[str]) -> str:
    return ", ".join("?" * len(columns))


def _sound(row: Row, how: Salvage) -> bool:
    """An outbox row whose fields are what the device wrote (a damaged page can also yield wrong values)."""
    values = dict(zip(ALL_COLUMNS, row, strict=True))
    if not (isinstance(values["seq"], int) and isinstance(values["nonce"], str) and isinstance(values["at"], str)):
        return False
    try:
        datetime.fromisoformat(values["at"])
        return how.sound(values)
    except (TypeError, ValueError):
        return False


def _working_copy(source: Path, copy: Path) -> Path:
    """A copy of `source` (and its WAL) to read from, leaving the damaged file as it was found. A file cut short is
    padded back to the length its header gives, so SQLite opens it and only the rows past the cut fail to read."""
    for suffix in ("", "-wal"):
        side(copy, suffix).unlink(missing_ok=True)
        if side(source, suffix).exists():
            shutil.copyfile(side(source, suffix), side(copy, suffix))
    with copy.open("r+b") as f:
        header = f.read(100)
        if header.startswith(b"SQLite format 3\0") and len(header) == 100:
            page_size = int.from_bytes(header[16:18], "big")
            page_size = 65536 if page_size == 1 else page_size
            length = page_size * int.from_bytes(header[28:32], "big")
            if f.seek(0, os.SEEK_END) < length:
                f.truncate(length)
    return copy


def _read_rows(
    conn: sqlite3.Connection, table: str, columns: Sequence[str], indexes: Sequence[str]
) -> tuple[list[Row], int]:
    """The rows of `table` read one rowid at a time, so a damaged page loses only the rows on it; and how many
    rowids could not be read. Rowids come from the table, its indexes and the AUTOINCREMENT counter, whichever
    can still be read. A table the file does not have gives no rows."""
    probes = [
        (f"SELECT rowid FROM {table}", ()),
        (f"SELECT max(rowid) FROM {table}", ()),
        ("SELECT seq FROM sqlite_sequence WHERE name = ?", (table,)),
        *((f"SELECT rowid FROM {table} INDEXED BY {index}", ()) for index in indexes),
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
