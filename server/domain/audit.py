"""The audit trail: every change of state appends one hash-chained entry (ARCHITECTURE.md, API conventions).

Each entry's hash covers its own fields and the previous entry's hash, so altering, removing or re-ordering an
entry breaks the chain from that point on, and `verify` names the first entry where it breaks.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, String, and_, bindparam, cast, or_, select, text
from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import AuditEntry, AuditHead, Estate, StaffUser, Unit
from server.db.plain import Plain, runs_last
from server.domain.actors import Actor

GENESIS = "0" * 64
HEAD_ID = 1
_PG_AUDIT_LOCK = 0x45535441  # advisory-lock key: one appender at a time on PostgreSQL


def _entry_hash(entry: AuditEntry) -> str:
    return _hash_of({c: getattr(entry, c) for c in _COLUMNS})


def _hash_of(entry: Mapping[str, Any]) -> str:
    """The hash of an entry's values: its own fields and the previous entry's hash."""
    body = json.dumps(
        [
            entry["seq"],
            entry["at"].isoformat(timespec="microseconds"),
            entry["actor"],
            entry["estate_id"],
            entry["action"],
            entry["entity"],
            entry["entity_id"],
            entry["detail"],
            entry["ip"],
            entry["device_id"],
            entry["prev_hash"],
        ],
        ensure_ascii=False,
        separators=(",", ":"),
    )
    return hashlib.sha256(body.encode()).hexdigest()


def record(
    session: Session,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = "",
    *,
    estate_id: int | None = None,
    **detail: Any,
) -> None:
    """Append an entry in the caller's transaction: it commits or rolls back together with the change."""
    session.flush()  # what the caller changed so far is written first, in order
    connection = session.connection()
    if connection.dialect.name == "postgresql":
        connection.execute(_PG_LOCK, {"k": _PG_AUDIT_LOCK})
    last = connection.execute(_LAST).first()
    entry = _entry(last, actor, action, entity, entity_id, estate_id, detail)
    # Plain values and a plain INSERT: the entry is never changed afterwards, so the session need not track it.
    connection.execute(_INSERT, entry)
    # The head moves in the same transaction, so entries removed from the end of the log are noticed.
    if not connection.execute(_MOVE_HEAD, {"head_seq": entry["seq"], "head_hash": entry["hash"]}).rowcount:
        connection.execute(_NEW_HEAD, {"id": HEAD_ID, "seq": entry["seq"], "hash": entry["hash"]})


def _entry(
    last: Any,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object,
    estate_id: int | None,
    detail: Any,
    at: datetime | None = None,
) -> dict[str, Any]:
    """The next entry after `last` (its seq and hash; None for the first), with its hash."""
    entry: dict[str, Any] = {
        "seq": (last.seq + 1) if last else 1,
        "at": at or utcnow(),
        "actor": actor.label,
        "estate_id": estate_id,
        "action": action,
        "entity": entity,
        "entity_id": str(entity_id),
        "detail": json.dumps(detail, ensure_ascii=False, sort_keys=True, default=str),
        "ip": actor.ip,
        "device_id": actor.device_id,
        "prev_hash": last.hash if last else GENESIS,
    }
    entry["hash"] = _hash_of(entry)
    return entry


def record_plain(
    db: Plain,
    actor: Actor,
    action: str,
    entity: str,
    entity_id: object = "",
    *,
    estate_id: int | None = None,
    when: Callable[[], bool] | None = None,
    **detail: Any,
) -> None:
    """`record` for a write in plain statements (the gate's release lane): the entry is queued with its time and
    appended with the rest of the writer's batch when the batch ends (`append_plain`), in the same transaction;
    only if `when` then says so, given a condition (whether a statement sent in the same pipeline changed a row)."""
    db.queue(append_plain, (utcnow(), actor, action, entity, entity_id, estate_id, detail, when))


@runs_last
def append_plain(db: Plain, queued: list[Any]) -> None:
    """Append the queued entries to the chain in order: the same entries, hashes and head a session would store,
    with one read of the chain's end and one move of its head for all of them. On PostgreSQL the appender's lock is
    taken here, so a batch holds it only for its appends and its commit."""
    if not db.sqlite:
        db.execute(_PLAIN_PG_LOCK, (_PG_AUDIT_LOCK,))
    row = db.execute(_PLAIN_LAST).fetchone()
    last: Any = _Last(*row) if row else None
    entries = []
    for at, actor, action, entity, entity_id, estate_id, detail, when in queued:
        if when is not None and not when():
            continue
        entries.append(_entry(last, actor, action, entity, entity_id, estate_id, detail, at=at))
        last = _Last(entries[-1]["seq"], entries[-1]["hash"])
    if not entries:
        return
    if db.sqlite:
        db.executemany(_PLAIN_INSERT, [[db.time(e[c]) if c == "at" else e[c] for c in _COLUMNS] for e in entries])
    else:  # every entry in one statement, its rows given as one JSON array
        db.execute(_PLAIN_PG_INSERT_ALL, (json.dumps(entries, ensure_ascii=False, default=_iso),))
    db.execute(_PLAIN_HEAD, (HEAD_ID, last.seq, last.hash))


def _iso(value: datetime) -> str:
    return value.isoformat()


@dataclass(frozen=True)
class _Last:
    seq: int
    hash: str


_PG_LOCK = text("SELECT pg_advisory_xact_lock(:k)")
_LAST = select(AuditEntry.seq, AuditEntry.hash).order_by(AuditEntry.seq.desc()).limit(1)
_INSERT = AuditEntry.__table__.insert()
_COLUMNS = [c.key for c in AuditEntry.__table__.columns]
_TABLE = AuditEntry.__tablename__
_PLAIN_PG_LOCK = "SELECT pg_advisory_xact_lock(?)"
_PLAIN_LAST = f"SELECT seq, hash FROM {_TABLE} ORDER BY seq DESC LIMIT 1"
_PLAIN_INSERT = f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) VALUES ({', '.join('?' for _ in _COLUMNS)})"
_PLAIN_PG_INSERT_ALL = (
    f"INSERT INTO {_TABLE} ({', '.join(_COLUMNS)}) SELECT {', '.join(_COLUMNS)}"
    f" FROM json_populate_recordset(NULL::{_TABLE}, ?::json)"
)
_PLAIN_HEAD = (  # the head made or moved, in one statement that needs no answer
    f"INSERT INTO {AuditHead.__tablename__} (id, seq, hash) VALUES (?, ?, ?)"
    " ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash"
)
_MOVE_HEAD = (
    AuditHead.__table__.update()
    .where(AuditHead.__table__.c.id == HEAD_ID)
    .values(seq=bindparam("head_seq"), hash=bindparam("head_hash"))
)
_NEW_HEAD = AuditHead.__table__.insert()


@dataclass(frozen=True)
class Anchor:
    """A chain head as printed on a daily reconciliation, kept outside the database: `#SEQ HASH`."""

    seq: int
    hash: str

    @classmethod
    def parse(cls, text: str) -> Anchor:
        found = re.fullmatch(r"#?(\d{1,18})\s+([0-9a-f]{64})", text.strip())
        if found is None:
            raise ValueError(f"not a chain head as printed (#SEQ HASH): {text.strip()[:100]!r}")
        return cls(int(found[1]), found[2])


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""


def head(session: Session) -> AuditHead | None:
    """The chain's newest entry as anchored beside the log (printed on the daily reconciliation)."""
    return session.get(AuditHead, HEAD_ID)


def verify(session: Session, batch: int = 1000, printed: Anchor | None = None) -> ChainReport:
    """Walk the whole chain in order; report the first entry that was altered or the first one missing, also at
    the end of the log (against the head anchored beside it). `printed`, a head printed on a daily reconciliation,
    is checked too: its entry must still be in the chain, unchanged. It catches what the anchor beside the log cannot,
    a log cut short or rewritten from some entry on by someone who also moved that anchor."""
    prev_hash, expected_seq, count = GENESIS, 1, 0
    after = 0
    anchor = head(session)
    while True:
        rows = session.scalars(
            select(AuditEntry).where(AuditEntry.seq > after).order_by(AuditEntry.seq).limit(batch)
        ).all()
        if not rows:
            last = expected_seq - 1
            if anchor is not None and (anchor.seq != last or anchor.hash != prev_hash):
                return ChainReport(
                    False, count, expected_seq, f"entries after {last} are missing (head is {anchor.seq})"
                )
            if printed is not None and printed.seq > last:
                return ChainReport(
                    False, count, expected_seq, f"entries after {last} are missing (the printed head is {printed.seq})"
                )
            return ChainReport(ok=True, entries=count)
        for entry in rows:
            if entry.seq != expected_seq:
                return ChainReport(False, count, expected_seq, f"entry {expected_seq} is missing")
            if entry.prev_hash != prev_hash:
                return ChainReport(False, count, entry.seq, f"entry {entry.seq} does not follow entry {entry.seq - 1}")
            if _entry_hash(entry) != entry.hash:
                return ChainReport(False, count, entry.seq, f"entry {entry.seq} was altered")
            if printed is not None and entry.seq == printed.seq and entry.hash != printed.hash:
                return ChainReport(
                    False, count, entry.seq, f"entry {entry.seq} is not the one printed: the log was rewritten"
                )
            prev_hash, expected_seq, count = entry.hash, expected_seq + 1, count + 1
        after = rows[-1].seq


def _scope(estate_id: int) -> ColumnElement[bool]:
    """An estate's entries, and those belonging to no estate: about staff who work in this estate (sign-ins,
    accounts), or about no staff account at all (signing keys)."""
    own_staff = select(cast(StaffUser.id, String)).where(
        or_(StaffUser.all_estates.is_(True), StaffUser.estates.any(Estate.id == estate_id))
    )
    return or_(
        AuditEntry.estate_id == estate_id,
        and_(
            AuditEntry.estate_id.is_(None),
            or_(AuditEntry.entity != "staff_user", AuditEntry.entity_id.in_(own_staff)),
        ),
    )


@dataclass(frozen=True)
class Filter:
    """What the audit log is narrowed to; each part left empty keeps everything, the parts given all apply."""

    action: str = ""
    staff_id: int | None = None  # entries by this staff member
    device_id: int | None = None  # entries made from this device
    unit: Unit | None = None  # entries about this unit, or naming it in their details


def recent(estate_id: int, only: Filter = Filter()) -> Select[AuditEntry]:
    """Entries seen from one estate, newest first, narrowed by `only`."""
    query = select(AuditEntry).where(_scope(estate_id)).order_by(AuditEntry.seq.desc())
    if only.action:
        query = query.where(AuditEntry.action == only.action)
    if only.staff_id is not None:
        query = query.where(AuditEntry.actor.startswith(f"user:{only.staff_id}:", autoescape=True))
    if only.device_id is not None:
        query = query.where(AuditEntry.device_id == only.device_id)
    if only.unit is not None:
        named = json.dumps({"unit": only.unit.code}, ensure_ascii=False)[1:-1]  # as `record` writes it: "unit": "…"
        query = query.where(
            or_(
                and_(AuditEntry.entity == "unit", AuditEntry.entity_id == str(only.unit.id)),
                AuditEntry.detail.contains(named, autoescape=True),
            )
        )
    return query


def actions(session: Session, estate_id: int) -> list[str]:
    return list(
        session.scalars(select(AuditEntry.action).where(_scope(estate_id)).distinct().order_by(AuditEntry.action))
    )
