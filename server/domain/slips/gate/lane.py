"""The gate's everyday release in plain statements: the server's hottest write, kept as cheap as the work itself. A
gate device known and seen within the minute, a slip that may pass, counted lines: read on a read-only connection
outside any write lock, then written by the group writer with the rest of its batch (R-REL-6): in a savepoint of
its own on SQLite; on PostgreSQL as one statement of the batch's pipeline (`GroupCommitWriter._commit_together`).

The checks are the ones every release runs (`checking.passable`, `releases.decide`); only the statements differ.
Anything out of the ordinary — an unknown or revoked device, a rejection, a retry, a photo, a queued release — is
not handled here: the caller answers it by the full route, which decides and words it, so both paths give one
answer. Nothing is written unless the whole write succeeds.
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from server.db.models import SlipState
from server.db.plain import Later, Plain
from server.domain import audit, devices, idempotency
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
    if row is None:
        return None
    device_id, found, name, estate_id, revoked_at, last_seen_at, code, estate_name, timezone = row
    seen = db.read_time(last_seen_at)
    if found != kind or revoked_at is not None or seen is None or now - seen >= devices.LAST_SEEN_RESOLUTION:
        return None
    return Gate(device_id, name, estate_id, code, estate_name, timezone)


def issuing_ready(db: Plain, estate_id: int) -> bool:
    """Whether a slip can be issued without first making the signing key or the estate's catalogue."""
    return db.execute(_ISSUING_READY, (estate_id,)).fetchone() is not None


def plan(
    db: Plain,
    caller: Gate,
    text: str,
    guard: str,
    counts: list[Count],
    *,
    reason: str,
    refuse: bool,
    now: datetime,
) -> ReleasePlan:
    """The guard's decision checked against the slip the code names (raises the rejection as the full route
    does). A scanned code is looked up as it stands: the exact token the server issued and stored for a slip is
    authentic (it carries the server's signature), so it needs neither decoding nor a signature check; any other
    text goes the full route, which decodes and checks it and words the rejection."""
    estate = _Estate(caller)
    text = text.strip()
    number = typed_number(estate, text)  # typed by the guard, checked for the estate
    if number is not None:
        slip = scanned(db, number)
    else:
        slip = scanned(db, None, token=text)
        if slip is None:
            raise NotIssued()
    slip = passable(slip, estate, text, now)
    return decide(slip, caller.id, caller.name, guard, counts, reason=reason, photo=None, now=now, refuse=refuse)


class NotIssued(DomainError):
    """Text that is not a token the server issued as it stands: for the full route to decode and word."""

    def __init__(self) -> None:
        super().__init__("不是本系统签发的放行条", "not a slip token this server issued", code="malformed")


def scanned(db: Plain, number: str | None, *, token: str | None = None) -> Scanned | None:
    """Slip `number` (or the slip whose stored token is exactly `token`) with its release and its lines, in one
    statement (`checking.scanned` in plain statements)."""
    rows = (
        db.execute(_SCANNED_BY_TOKEN, (token,)) if token is not None else db.execute(_SCANNED, (number,))
    ).fetchall()
    if not rows or len({row[0] for row in rows}) != 1:
        return None
    slip_id, estate_id, number, stored, state, revoked_at, valid_until, outcome, at, gate_name, guard = rows[0][:11]
    if token is not None and not hmac.compare_digest(stored.encode(), token.encode()):
        return None
    release = Decided(outcome, db.read_time(at), gate_name, guard) if outcome is not None else None  # type: ignore[arg-type]
    return Scanned(
        slip_id,
        estate_id,
        number,
        stored,
        SlipState[state],
        db.read_time(revoked_at),
        db.read_time(valid_until),  # type: ignore[arg-type]
        release,
        tuple(Item(*row[11:]) for row in rows),
    )


def record(
    db: Plain, actor: Actor, plan: ReleasePlan, write: idempotency.DeviceWrite, answer: str
) -> Later[idempotency.Answer | None]:
    """Write the decision (`releases.record_release` for an online release) and keep the answer for the key, in
    the caller's transaction; None, with nothing written, when the slip is no longer unused or the key was answered
    meanwhile: the full route then gives the answer. On PostgreSQL the write is one statement whose outcome is read
    when the writer has sent its batch (`Later`), and the audit entry is appended only if the slip was claimed."""
    # A request with the same key that the full route is checking meanwhile holds the key's lock (PostgreSQL), so
    # it sees either none of this write or all of it. The claim is made only if no answer is kept for the key.
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
        idempotency.keep_plain(db, write, (201, answer), plan.recorded_at)
        claimed: Callable[[], bool] | None = None
    else:  # one statement: claim, release row, counted lines and kept answer, or none of them
        counted = (list(plan.counted), list(plan.counted.values()))
        kept = idempotency.kept_row(db, write, (201, answer), plan.recorded_at)
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
    done: idempotency.Answer = (201, answer)
    return Later(lambda: done if claimed is None or claimed() else None)


_DEVICE = (
    "SELECT d.id, d.kind, d.name, d.estate_id, d.revoked_at, d.last_seen_at, e.code, e.name, e.timezone"
    " FROM devices d JOIN estates e ON e.id = d.estate_id WHERE d.token_digest = ?"
)
_ISSUING_READY = (
    "SELECT 1 FROM slip_signing_keys k WHERE k.retired_at IS NULL"
    " AND EXISTS (SELECT 1 FROM slip_catalogue c WHERE c.estate_id = ?) LIMIT 1"
)
_SCANNED = (
    "SELECT s.id, s.estate_id, s.number, s.token, s.state, s.revoked_at, s.valid_until,"
    " r.outcome, r.at, r.gate, r.guard, i.line, i.name, i.quantity"
    " FROM release_slips s LEFT OUTER JOIN slip_releases r ON r.slip_id = s.id"
    " JOIN release_slip_items i ON i.slip_id = s.id WHERE s.number = ? ORDER BY s.id, i.line"
)
_SCANNED_BY_TOKEN = _SCANNED.replace("s.number = ?", "s.token = ?")
_CLAIM = (
    "UPDATE release_slips SET state = ? WHERE id = ? AND state = 'issued' AND revoked_at IS NULL"
    f" AND {idempotency.NOT_KEPT} RETURNING id"
)
_RECORD = (
    "INSERT INTO slip_releases (slip_id, estate_id, device_id, gate, guard, outcome, reason, at, recorded_at,"
    " offline) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, FALSE)"
)
_COUNTED = "UPDATE release_slip_items SET counted = ? WHERE slip_id = ? AND line = ?"
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
