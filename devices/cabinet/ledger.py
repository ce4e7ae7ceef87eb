"""Unlock requests by id: a request id seen before never sends a second unlock frame.

Two ledgers keep that promise behind one interface:
- `MemoryLedger`: for one program's lifetime (a technician's one-off command, tests);
- `SqliteLedger`: a file that outlives the program and is shared by every program that opens it (the cabinet agent
  and `estate devices cabinet open --ledger`). A request id is committed to the file, as "sending", before its frame
  goes out; an id left "sending" by a program that died counts as possibly sent: it is reported unconfirmed and
  never sent again.
"""

from __future__ import annotations

import abc
import enum
import os
import socket
import sqlite3
import threading
import time
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from devices.cabinet.errors import RequestIdConflict

Target = tuple[int, int | None]  # (board, slot); slot None: the whole board


class UnlockOutcome(enum.Enum):
    ACCEPTED = "accepted"  # the board acknowledged the command (not: the door opened)
    UNCONFIRMED = "unconfirmed"  # the frame went out but no valid answer came: the door may open; watch it
    NOT_SENT = "not_sent"  # the line was down before anything was written; the same id may be tried again


@dataclass(frozen=True)
class UnlockResult:
    request_id: str
    board: int
    slot: int | None
    outcome: UnlockOutcome
    detail: str = ""
    duplicate: bool = False  # this id had been handled before; nothing was sent this time

    @property
    def accepted(self) -> bool:
        return self.outcome is UnlockOutcome.ACCEPTED

    @property
    def sent(self) -> bool:
        return self.outcome is not UnlockOutcome.NOT_SENT

    def to_dict(self) -> dict[str, Any]:
        return {
            "request_id": self.request_id,
            "board": self.board,
            "slot": self.slot,
            "accepted": self.accepted,
            "outcome": self.outcome.value,
            "duplicate": self.duplicate,
            "detail": self.detail,
        }


def _check_id(request_id: str) -> None:
    if not request_id:
        raise ValueError("an unlock needs a request id")


def _check_target(request_id: str, known: Target, asked: Target) -> None:
    if known != asked:
        raise RequestIdConflict(
            f"request id {request_id!r} was used for board {known[0]} slot {known[1]}, "
            f"not board {asked[0]} slot {asked[1]} (请求编号重复使用)"
        )


class UnlockLedger(abc.ABC):
    """What the driver asks before and tells after each unlock."""

    @abc.abstractmethod
    def claim(self, request_id: str, target: Target) -> UnlockResult | None:
        """None: the caller now owns `request_id` and must `settle` it, sending at most one frame. Otherwise the
        earlier result, marked duplicate: nothing may be sent. A caller claiming an id another is sending waits
        for it to settle rather than sending a second frame. RequestIdConflict: the id named another target."""

    @abc.abstractmethod
    def settle(self, result: UnlockResult) -> None:
        """What became of a claimed id. NOT_SENT releases the id: nothing reached the wire, it may be tried again."""

    @abc.abstractmethod
    def known(self, request_id: str) -> UnlockResult | None:
        """The id's result if a frame may have gone out for it (sent, or being sent), else None."""

    def close(self) -> None:  # noqa: B027 - most ledgers hold nothing open
        """Let go of what the ledger holds open."""


class MemoryLedger(UnlockLedger):
    """Every unlock request id handled by this program, in memory."""

    def __init__(self) -> None:
        self._done: dict[str, UnlockResult] = {}
        self._pending: dict[str, Target] = {}
        self._cond = threading.Condition()

    def claim(self, request_id: str, target: Target) -> UnlockResult | None:
        _check_id(request_id)
        with self._cond:
            while request_id in self._pending:
                _check_target(request_id, self._pending[request_id], target)
                self._cond.wait()
            done = self._done.get(request_id)
            if done is not None:
                _check_target(request_id, (done.board, done.slot), target)
                return replace(done, duplicate=True)
            self._pending[request_id] = target
            return None

    def settle(self, result: UnlockResult) -> None:
        with self._cond:
            self._pending.pop(result.request_id, None)
            if result.sent:
                self._done[result.request_id] = result
            self._cond.notify_all()

    def known(self, request_id: str) -> UnlockResult | None:
        with self._cond:
            done = self._done.get(request_id)
            if done is not None:
                return done
            pending = self._pending.get(request_id)
        if pending is None:
            return None
        return UnlockResult(request_id, pending[0], pending[1], UnlockOutcome.UNCONFIRMED, "being sent now")


SENDING = "sending"
SCHEMA = """
CREATE TABLE IF NOT EXISTS unlocks (
    request_id TEXT PRIMARY KEY,
    board INTEGER NOT NULL,
    slot INTEGER,
    state TEXT NOT NULL,
    detail TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL,
    claimed_at TEXT NOT NULL,
    settled_at TEXT
);
"""
# How long a claim waits for another program that is sending the same id before calling it unconfirmed: more than
# one unlock transaction takes, however busy the bus.
OTHER_SENDER_WAIT = 5.0
_POLL = 0.02


def _now() -> str:
    return datetime.now(UTC).isoformat()


def _boot_id() -> str:
    """This boot of the machine (Linux), so an owner from before a reboot is known to be gone; "" elsewhere."""
    try:
        return Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    except OSError:
        return ""


def _started(pid: int) -> str:
    """When process `pid` started, in clock ticks since boot (Linux), so a pid reused by another program is not
    taken for the one that wrote the claim; "" when it cannot be told."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return ""
    fields = stat.rsplit(")", 1)[-1].split()
    return fields[19] if len(fields) > 19 else ""


def _owner() -> str:
    """Names this program in a claim: "pid@host:boot:start:instance"."""
    pid = os.getpid()
    return f"{pid}@{socket.gethostname()}:{_boot_id()}:{_started(pid)}:{uuid.uuid4().hex[:8]}"


def _alive(owner: str) -> bool:
    """Whether the program named by `owner` may still be running. Another machine's, or one we cannot tell about,
    counts as alive: a wrong guess costs a wait, never a second frame. One from before a reboot, or whose pid now
    belongs to a program started later, is gone."""
    try:
        pid_text, rest = owner.split("@", 1)
        host, boot, start, _instance = rest.rsplit(":", 3)
        pid = int(pid_text)
    except ValueError:
        return True
    if host != socket.gethostname():
        return True
    if boot and boot != _boot_id():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:
        return True
    return not (start and _started(pid) not in ("", start))


class SqliteLedger(UnlockLedger):
    """The ledger in an SQLite file (WAL, every commit synced to disk): it survives a restart or a power cut, and
    every program that opens the same file shares it. Claims are serialised across processes by SQLite's write
    lock (`BEGIN IMMEDIATE`) and across this program's threads by a condition."""

    def __init__(self, path: Path, *, other_sender_wait: float = OTHER_SENDER_WAIT) -> None:
        self.path = path
        self.other_sender_wait = other_sender_wait
        path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(path, check_same_thread=False, isolation_level=None, timeout=30.0)
        self._conn.execute("PRAGMA journal_mode=WAL")
        self._conn.execute("PRAGMA synchronous=FULL")  # committed means on disk: before the frame goes out
        self._conn.executescript(SCHEMA)
        self.owner = _owner()
        self._cond = threading.Condition()

    # Reading ----------------------------------------------------------------------------------------------------
    def _row(self, request_id: str) -> tuple[int, int | None, str, str, str] | None:
        row = self._conn.execute(
            "SELECT board, slot, state, detail, owner FROM unlocks WHERE request_id = ?", (request_id,)
        ).fetchone()
        return None if row is None else (int(row[0]), row[1], str(row[2]), str(row[3]), str(row[4]))

    @staticmethod
    def _result(request_id: str, board: int, slot: int | None, state: str, detail: str) -> UnlockResult:
        outcome = UnlockOutcome.UNCONFIRMED if state == SENDING else UnlockOutcome(state)
        return UnlockResult(request_id, board, slot, outcome, detail)

    def known(self, request_id: str) -> UnlockResult | None:
        with self._cond:
            row = self._row(request_id)
        if row is None or row[2] == UnlockOutcome.NOT_SENT.value:
            return None
        board, slot, state, detail, owner = row
        if state == SENDING:
            detail = "being sent now" if _alive(owner) else "the program sending it stopped: possibly sent"
        return self._result(request_id, board, slot, state, detail)

    def interrupted(self) -> list[UnlockResult]:
        """Ids left "sending" by a program that stopped before it knew what became of them (possibly sent, never
        sent again), now recorded as unconfirmed."""
        with self._cond:
            rows = self._conn.execute(
                "SELECT request_id, board, slot, owner FROM unlocks WHERE state = ?", (SENDING,)
            ).fetchall()
            found = []
            for request_id, board, slot, owner in rows:
                if owner != self.owner and not _alive(str(owner)):
                    found.append(self._give_up(str(request_id), int(board), slot, str(owner)))
            return found

    # Claiming ---------------------------------------------------------------------------------------------------
    def claim(self, request_id: str, target: Target) -> UnlockResult | None:
        _check_id(request_id)
        waited_since: float | None = None
        with self._cond:
            while True:
                self._conn.execute("BEGIN IMMEDIATE")  # the write lock: one claim at a time, in every program
                try:
                    row = self._row(request_id)
                    if row is None or row[2] == UnlockOutcome.NOT_SENT.value:
                        self._conn.execute(
                            "INSERT OR REPLACE INTO unlocks (request_id, board, slot, state, detail, owner, claimed_at)"
                            " VALUES (?, ?, ?, ?, '', ?, ?)",
                            (request_id, target[0], target[1], SENDING, self.owner, _now()),
                        )
                        self._conn.execute("COMMIT")
                        return None
                    self._conn.execute("COMMIT")
                except BaseException:
                    self._conn.execute("ROLLBACK")
                    raise
                board, slot, state, detail, owner = row
                _check_target(request_id, (board, slot), target)
                if state != SENDING:
                    return replace(self._result(request_id, board, slot, state, detail), duplicate=True)
                if owner == self.owner:
                    self._cond.wait()  # another thread of this program is sending it
                    continue
                if not _alive(owner):
                    return replace(self._give_up(request_id, board, slot, owner), duplicate=True)
                waited_since = time.monotonic() if waited_since is None else waited_since
                if time.monotonic() - waited_since >= self.other_sender_wait:
                    detail = f"being sent by another program (pid {owner.split('@', 1)[0]}); not sent again"
                    return UnlockResult(request_id, board, slot, UnlockOutcome.UNCONFIRMED, detail, duplicate=True)
                self._cond.wait(_POLL)  # another program is sending it: its result is what this caller gets

    def _give_up(self, request_id: str, board: int, slot: int | None, owner: str) -> UnlockResult:
        detail = f"the program sending it (pid {owner.split('@', 1)[0]}) stopped before an answer: possibly sent"
        self._conn.execute(
            "UPDATE unlocks SET state = ?, detail = ?, settled_at = ? WHERE request_id = ? AND state = ?",
            (UnlockOutcome.UNCONFIRMED.value, detail, _now(), request_id, SENDING),
        )
        return UnlockResult(request_id, board, slot, UnlockOutcome.UNCONFIRMED, detail)

    def settle(self, result: UnlockResult) -> None:
        with self._cond:
            self._conn.execute(
                "UPDATE unlocks SET state = ?, detail = ?, settled_at = ? WHERE request_id = ? AND owner = ?",
                (result.outcome.value, result.detail[:500], _now(), result.request_id, self.owner),
            )
            self._cond.notify_all()

    def close(self) -> None:
        with self._cond:
            self._conn.close()
