"""The gate's everyday release in plain statements: the server's hottest write, kept as cheap as the work itself. A
gate device known and seen within the minute, a slip that may pass, counted lines: read in one statement on a
read-only connection outside any write lock (on PostgreSQL with the lookups of other requests waiting at the time,
`Lookup.many`), then written by the group writer with the rest of its batch (R-REL-6): in a savepoint of its own on
SQLite; on PostgreSQL as one statement of the batch's pipeline (`GroupCommitWriter._commit_together`).

The checks are the ones every release runs (`checking.passable`, `releases.decide`); only the statements differ.
Anything out of the ordinary — an unknown or revoked device, a rejection, a retry, a photo, a queued release — is
not handled here: the caller answers it by the full route, which decides and words it, so both paths give one
answer. Nothing is written unless the whole write succeeds.
"""

from __future__ import annotations

import functools
import hmac
import json
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from server.contract import slip_token
from server.db.base import from_sqlite_time
from server.db.models import SlipState
from server.db.plain import Later, Plain
from server.domain import audit, devices, idempotency, throttle
from server.domain.actors import Actor
from server.domain.errors import DomainError
from server.domain.secrets import token_digest
from server.domain.slips.gate.checking import Decided, Item, Scanned, passable, typed_number
from server.domain.slips.gate.releases import Count, ReleasePlan, decide


@dataclass(frozen=True)
class Gate:
    """The calling device (a gate; or the kiosk, for the slip lane), as a lane needs it."""

    id: int
    name: str
    estate_id: int
    estate_code: str
    estate_name: str = ""
    timezone: str = ""

    def actor(self, ip: str) -> Actor:
        return Actor("device", self.id, self.name, ip=ip, device_id=self.id)


class _Estate:
    def __init__(self, gate: Gate) -> None:
        self.id, self.code = gate.estate_id, gate.estate_code


def device(db: Plain, token: str, now: datetime, kind: str = "gate") -> Gate | None:
    """The device of `kind` a bearer token belongs to, if it is known and was seen within the last minute (a device
    whose last-seen time is due to move goes the full route, which notes it); else None."""
    row = db.execute(_DEVICE, (token_digest(token),)).fetchone()
    return _caller(db.sqlite, row, now, kind)


def _caller(sqlite: bool, row: Sequence[Any] | None, now: datetime, kind: str) -> Gate | None:
    if row is None:
        return None
    device_id, found, name, estate_id, revoked_at, last_seen_at, code, estate_name, timezone = row[:9]
    seen = _time(sqlite, last_seen_at)
    if found != kind or revoked_at is not None or seen is None or now - seen >= devices.LAST_SEEN_RESOLUTION:
        return None
    return Gate(device_id, name, estate_id, code, estate_name, timezone)


def issuing_ready(db: Plain, estate_id: int) -> bool:
    """Whether a slip can be issued without first making the signing key or the estate's catalogue."""
    return db.execute(_ISSUING_READY, (estate_id,)).fetchone() is not None


@dataclass(frozen=True)
class Lookup:
    """The one statement a release's checks read (`look_up`): the calling device, and the slip the scanned or typed
    text names with its release and its lines. Run on its own (`run`), or (`many`, PostgreSQL: the release lane's
    reads) as one statement with the lookups of other requests waiting at the time; `checked` reads its rows."""

    sql: str
    many: str  # the same for many lookups: an array per parameter, each row led by its lookup's place among them
    params: tuple[str, str]
    text: str

    def run(self, db: Plain) -> list[Any]:
        return list(db.execute(self.sql, self.params).fetchall())


def look_up(token: str, text: str) -> Lookup:
    """The lookup for a gate with bearer `token` releasing `text`. A typed slip number is looked up as a number
    (whether it is this estate's is checked with the device read); any other text as it stands: the exact token the
    server issued and stored for a slip is authentic (it carries the server's signature), so it needs neither
    decoding nor a signature check, and any other text goes the full route, which decodes it and words the
    rejection."""
    text = text.strip()
    if slip_token.NUMBER_PATTERN.match(text.upper()):
        return Lookup(_LOOK_UP_NUMBER, _LOOK_UP_NUMBERS, (text.upper(), token_digest(token)), text)
    return Lookup(_LOOK_UP_TOKEN, _LOOK_UP_TOKENS, (text, token_digest(token)), text)


def checked(
    sqlite: bool, lookup: Lookup, rows: Sequence[Sequence[Any]], now: datetime
) -> tuple[Gate, Scanned | None] | None:
    """The calling gate (None when the full route must answer for the device: unknown, revoked, not a gate, or its
    last-seen time due to move) and the slip its lookup found (None when no slip has the text)."""
    caller = _caller(sqlite, rows[0] if rows else None, now, "gate")
    if caller is None:
        return None
    found = [row[9:] for row in rows if row[9] is not None]
    if not found or len({row[0] for row in found}) != 1:
        return caller, None
    slip_id, estate_id, number, stored, state, revoked_at, valid_until, outcome, at, gate_name, guard = found[0][:11]
    if lookup.sql == _LOOK_UP_TOKEN and not hmac.compare_digest(stored.encode(), lookup.text.encode()):
        return caller, None
    release = Decided(outcome, _time(sqlite, at), gate_name, guard) if outcome is not None else None
    items = tuple(Item(*row[11:]) for row in found)
    revoked, until = _time(sqlite, revoked_at), _time(sqlite, valid_until)
    return caller, Scanned(slip_id, estate_id, number, stored, SlipState[state], revoked, until, release, items)


def plan(
    caller: Gate,
    slip: Scanned | None,
    text: str,
    guard: str,
    counts: list[Count],
    *,
    reason: str,
    refuse: bool,
    now: datetime,
) -> ReleasePlan:
    """The guard's decision checked against the slip the lookup found (raises the rejection as the full route
    does: a typed number of another estate, a slip not this estate's or not passable now; text that is not a token
    the server issued goes the full route, `NotIssued`)."""
    estate = _Estate(caller)
    text = text.strip()
    if typed_number(estate, text) is None and slip is None:
        raise NotIssued()
    slip = passable(slip, estate, text, now)
    return decide(slip, caller.id, caller.name, guard, counts, reason=reason, photo=None, now=now, refuse=refuse)


class NotIssued(DomainError):
    """Text that is not a token the server issued as it stands: for the full route to decode and word."""

    def __init__(self) -> None:
        super().__init__("不是本系统签发的放行条", "not a slip token this server issued", code="malformed")


def _int_array(values: Iterable[int]) -> str:
    """An array of integers as PostgreSQL reads it from text ('{1,2}'): for a `?::int[]` parameter, cheaper for
    the driver than a list, which it inspects element by element to choose the array's type."""
    return "{" + ",".join(str(int(v)) for v in values) + "}"


def _time(sqlite: bool, value: Any) -> Any:
    """A UTC column's value as an aware UTC datetime (SQLite gives its text)."""
    return from_sqlite_time(value) if sqlite else value


def record(
    db: Plain, actor: Actor, plan: ReleasePlan, write: idempotency.DeviceWrite, answer: str
) -> Later[idempotency.Answer | None]:
    """Write the decision (`releases.record_release` for an online release) and keep the answer for the key, in
    the caller's transaction; None, with nothing written, when the slip is no longer unused or the key was answered
    meanwhile: the full route then gives the answer. On PostgreSQL the outcome is read once the writer has sent its
    batch (`Later`), and the audit entry is appended only if the slip was claimed: the write is one statement, or,
    in a batch run as one (`Plain.together`), a part of one statement for all the batch's releases
    (`_record_all`)."""
    done: idempotency.Answer = (201, answer)
    claimed: Callable[[], bool] | None = None
    if db.together:
        pending = _Pending(plan, write, answer)
        db.queue(_record_all, pending)
        claimed = pending.claimed
    else:
        # A request with the same key that the full route is checking meanwhile holds the key's lock (PostgreSQL),
        # so it sees either none of this write or all of it. The claim is made only if no answer is kept for the key.
        idempotency.lock_plain(db, write)
        release = (
            plan.slip_id,
            plan.estate_id,
            plan.device_id,
            plan.gate,
            plan.guard,
            plan.outcome,
            plan.reason,
            db.time(plan.at),
            db.time(plan.recorded_at),
        )
        claim = (plan.state.name, plan.slip_id, write.device_id, write.key)
        if db.sqlite:
            if db.execute(_CLAIM, claim).fetchone() is None:
                return Later(lambda: None)
            db.execute(_RECORD, release)
            db.executemany(_COUNTED, [(c, plan.slip_id, n) for n, c in plan.counted.items()])
            idempotency.keep_plain(db, write, done, plan.recorded_at)
        else:  # one statement: claim, release row, counted lines and kept answer, or none of them
            counted = (_int_array(plan.counted), _int_array(plan.counted.values()))
            kept = idempotency.kept_row(db, write, done, plan.recorded_at)
            cursor = db.execute(_RECORD_ONCE, (*claim, *release[1:], *counted, *kept))
            claimed = functools.cache(lambda: cursor.fetchone() is not None)
    audit.record_plain(
        db,
        actor,
        f"slip.{plan.outcome}",
        "slip",
        plan.slip_id,
        estate_id=plan.estate_id,
        when=claimed,
        number=plan.number,
        guard=plan.guard,
        reason=plan.reason,
    )
    return Later(lambda: done if claimed is None or claimed() else None)


class _Pending:
    """A release left for the statement of its batch (`_record_all`), and whether that statement claimed its slip."""

    def __init__(self, plan: ReleasePlan, write: idempotency.DeviceWrite, answer: str) -> None:
        self.plan, self.write, self.answer = plan, write, answer
        self.claimed_ids: Callable[[], set[int]] | None = None

    def claimed(self) -> bool:
        assert self.claimed_ids is not None, "read once the batch's releases are sent"
        return self.plan.slip_id in self.claimed_ids()


def _record_all(db: Plain, pending: list[_Pending]) -> None:
    """The releases of a batch run as one (PostgreSQL): every key's lock in one statement, then in one more each
    release's claim, release row, counted lines and kept answer, or none of them for a slip not claimed. A slip
    named twice in the batch makes the statement fail (two release rows for one slip): the batch then runs again a
    write at a time, and the second finds the slip used."""
    throttle.serialize_plain(db, *(idempotency.key_lock(p.write) for p in pending))
    rows = []
    for p in pending:
        plan, write = p.plan, p.write
        device_id, key, route, status, body, request_hash, created_at = idempotency.kept_row(
            db, write, (201, p.answer), plan.recorded_at
        )
        rows.append(
            {
                "state": plan.state.name,
                "slip_id": plan.slip_id,
                "device_id": device_id,
                "key": key,
                "estate_id": plan.estate_id,
                "gate_id": plan.device_id,
                "gate": plan.gate,
                "guard": plan.guard,
                "outcome": plan.outcome,
                "reason": plan.reason,
                "at": plan.at.isoformat(),
                "recorded_at": plan.recorded_at.isoformat(),
                "lines": list(plan.counted),
                "counted": list(plan.counted.values()),
                "route": route,
                "status": status,
                "body": body,
                "request_hash": request_hash,
                "created_at": created_at.isoformat(),
            }
        )
    cursor = db.execute(_RECORD_ALL, (json.dumps(rows, ensure_ascii=False),))
    claimed_ids = functools.cache(lambda: {row[0] for row in cursor.fetchall()})
    for p in pending:
        p.claimed_ids = claimed_ids


_DEVICE = (
    "SELECT d.id, d.kind, d.name, d.estate_id, d.revoked_at, d.last_seen_at, e.code, e.name, e.timezone"
    " FROM devices d JOIN estates e ON e.id = d.estate_id WHERE d.token_digest = ?"
)
_ISSUING_READY = (
    "SELECT 1 FROM slip_signing_keys k WHERE k.retired_at IS NULL"
    " AND EXISTS (SELECT 1 FROM slip_catalogue c WHERE c.estate_id = ?) LIMIT 1"
)
_LOOK_UP = (  # the device, and (a LEFT JOIN: the device's row also when no slip matches) the slip with its lines
    f"SELECT {{n}}{_DEVICE.partition(' FROM ')[0].removeprefix('SELECT ')}, s.id, s.estate_id, s.number, s.token,"
    " s.state, s.revoked_at, s.valid_until, r.outcome, r.at, r.gate, r.guard, i.line, i.name, i.quantity"
    " FROM {q}devices d JOIN estates e ON e.id = d.estate_id LEFT OUTER JOIN (release_slips s"
    " LEFT OUTER JOIN slip_releases r ON r.slip_id = s.id JOIN release_slip_items i ON i.slip_id = s.id)"
    " ON s.{by} = {slip} WHERE d.token_digest = {digest} ORDER BY {n}s.id, i.line"
)
_ONE = {"n": "", "q": "", "slip": "?", "digest": "?"}
_MANY = {
    "n": "q.n, ",
    "q": "unnest(?::text[], ?::text[]) WITH ORDINALITY AS q(slip, digest, n) CROSS JOIN ",
    "slip": "q.slip",
    "digest": "q.digest",
}
_LOOK_UP_TOKEN = _LOOK_UP.format(by="token", **_ONE)
_LOOK_UP_NUMBER = _LOOK_UP.format(by="number", **_ONE)
_LOOK_UP_TOKENS = _LOOK_UP.format(by="token", **_MANY)
_LOOK_UP_NUMBERS = _LOOK_UP.format(by="number", **_MANY)
_CLAIM = (
    "UPDATE release_slips SET state = ? WHERE id = ? AND state = 'issued' AND revoked_at IS NULL"
    f" AND {idempotency.NOT_KEPT} RETURNING id"
)
_RECORD = (
    "INSERT INTO slip_releases (slip_id, estate_id, device_id, gate, guard, outcome, reason, at, recorded_at,"
    " offline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)"
)
_COUNTED = "UPDATE release_slip_items SET counted = ? WHERE slip_id = ? AND line = ?"
_RECORD_ALL = (  # PostgreSQL: _RECORD_ONCE for the releases of a batch, given as one JSON array of rows
    "WITH r AS (SELECT * FROM json_to_recordset(?::json) AS r(state text, slip_id int, device_id int, key text,"
    " estate_id int, gate_id int, gate text, guard text, outcome text, reason text, at timestamptz,"
    " recorded_at timestamptz, lines int[], counted int[], route text, status int, body text, request_hash text,"
    " created_at timestamptz)),"
    " claimed AS (UPDATE release_slips s SET state = r.state FROM r WHERE s.id = r.slip_id AND s.state = 'issued'"
    # The kept answer looked up row by row, by its key's index: as a scalar subquery, which is never made a join
    # (an anti join would hash the whole table of kept answers for a batch of a few rows).
    f" AND s.revoked_at IS NULL AND ({idempotency.KEPT_FOR.format(device='r.device_id', key='r.key')}) IS NULL"
    " RETURNING s.id),"
    " released AS (INSERT INTO slip_releases (slip_id, estate_id, device_id, gate, guard, outcome, reason, at,"
    " recorded_at, offline) SELECT r.slip_id, r.estate_id, r.gate_id, r.gate, r.guard, r.outcome, r.reason, r.at,"
    " r.recorded_at, FALSE FROM r JOIN claimed ON claimed.id = r.slip_id),"
    " counted AS (UPDATE release_slip_items i SET counted = c.counted FROM r JOIN claimed ON claimed.id = r.slip_id"
    " CROSS JOIN unnest(r.lines, r.counted) AS c(line, counted) WHERE i.slip_id = r.slip_id AND i.line = c.line),"
    " kept AS (INSERT INTO idempotent_answers (device_id, key, route, status, body, request_hash, created_at)"
    " SELECT r.device_id, r.key, r.route, r.status, r.body, r.request_hash, r.created_at"
    " FROM r JOIN claimed ON claimed.id = r.slip_id)"
    " SELECT id FROM claimed"
)
_RECORD_ONCE = (  # PostgreSQL: _CLAIM, _RECORD, _COUNTED and the kept answer (idempotency.keep_plain) as one
    f"WITH claimed AS ({_CLAIM}),"
    " released AS (INSERT INTO slip_releases (slip_id, estate_id, device_id, gate, guard, outcome, reason, at,"
    " recorded_at, offline) SELECT id, ?::int, ?::int, ?::text, ?::text, ?::text, ?::text, ?::timestamptz,"
    " ?::timestamptz, FALSE FROM claimed),"
    " counted AS (UPDATE release_slip_items i SET counted = c.counted FROM claimed,"
    " unnest(?::int[], ?::int[]) AS c(line, counted) WHERE i.slip_id = claimed.id AND i.line = c.line),"
    " kept AS (INSERT INTO idempotent_answers (device_id, key, route, status, body, request_hash, created_at)"
    " SELECT ?::int, ?::text, ?::text, ?::int, ?::text, ?::text, ?::timestamptz FROM claimed)"
    " SELECT id FROM claimed"
)
