"""Answers to device writes kept by Idempotency-Key, so a retried upload gets the same answer and changes nothing.

Every device write carries a key (`KEY`); a write that records something runs through `answer_once`, which gives a
retry the first answer instead of doing the write again."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, select
from sqlalchemy.orm import Session

from server.db.models import IdempotentAnswer
from server.db.plain import Plain
from server.domain import throttle
from server.domain.errors import DomainError

KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")
Answer = tuple[int, str]  # HTTP status and JSON body


class KeyRequired(DomainError):
    code = "idempotency_key_required"

    def __init__(self) -> None:
        super().__init__(
            "设备写入须带 8–80 位的 Idempotency-Key 头", "device writes need an Idempotency-Key header (8–80 chars)"
        )


@dataclass(frozen=True)
class DeviceWrite:
    """One write of a device as its key names it: the route and the request as parsed (`request`, e.g. the body's
    JSON) are bound to the key, so the key cannot be reused for another request."""

    device_id: int
    key: str
    route: str
    request: str


def key_lock(write: DeviceWrite) -> str:
    """What a write with this key serializes on (`throttle.serialize`): a second request with the key waits."""
    return f"idempotency:{write.device_id}:{write.key}"


def kept(session: Session, write: DeviceWrite) -> Answer | None:
    """The answer kept for `write` when it was made before (a retry), else None. A second request with the key
    waits for the first to finish, so both get one answer; another request with the key is refused (422)."""
    throttle.serialize(session, key_lock(write))
    answer = session.execute(_KEPT, {"device_id": write.device_id, "key": write.key}).first()
    if answer is None:
        return None
    # (an answer kept before keys were bound to their request has no hash and is replayed as before)
    if answer.route != write.route or (answer.request_hash and answer.request_hash != fingerprint(write.request)):
        raise DomainError(
            "该 Idempotency-Key 已用于其他请求",
            "this Idempotency-Key was used for another request",
            code="idempotency_key_reused",
            status=422,
        )
    return answer.status, answer.body


def answer_once(session: Session, write: DeviceWrite, do: Callable[[Session], Answer]) -> Answer:
    """The answer kept for `write`, or else `do`'s, kept for a retry in the same transaction as the write itself.
    A domain error raised by `do` is not kept: the retry is judged again."""
    answer = kept(session, write)
    if answer is not None:
        return answer
    status, body = do(session)
    session.flush()  # what `do` changed is written first, and fails here if it must
    values = {"device_id": write.device_id, "key": write.key, "route": write.route, "status": status, "body": body}
    # A plain INSERT (the answer is never changed, so the session need not track it); a concurrent first write
    # with the same key fails here on the primary key, as a flush would.
    session.execute(_KEEP, values | {"request_hash": fingerprint(write.request)})
    return status, body


_answers = IdempotentAnswer.__table__
_KEPT = select(_answers.c.route, _answers.c.request_hash, _answers.c.status, _answers.c.body).where(
    _answers.c.device_id == bindparam("device_id"), _answers.c.key == bindparam("key")
)
_KEEP = _answers.insert()


def taken_plain(db: Plain, write: DeviceWrite) -> bool:
    """For a write in plain statements: whether an answer is kept for its key already (a retry, or a key used
    before), after waiting for a concurrent request with the key (PostgreSQL). The caller then leaves the answer to
    `answer_once`, which words it; else it writes and keeps its answer (`keep_plain`) in the same transaction."""
    lock_plain(db, write)
    return is_kept(db, write)


def lock_plain(db: Plain, write: DeviceWrite) -> None:
    """Wait for a concurrent request with the key of `write` (PostgreSQL); held until the transaction ends. A write
    that checks for a kept answer itself (`NOT_KEPT` in its own statement) takes this first."""
    throttle.serialize_plain(db, key_lock(write))


def is_kept(db: Plain, write: DeviceWrite) -> bool:
    """Whether an answer is kept for the key of `write` (a read: no lock is taken)."""
    return kept_later(db, write)()


def kept_later(db: Plain, write: DeviceWrite) -> Callable[[], bool]:
    """`is_kept`, its statement sent now and its answer read when called (with other statements sent together,
    `Plain.sent_together`)."""
    cursor = db.execute(_PLAIN_KEPT, (write.device_id, write.key))
    return lambda: cursor.fetchone() is not None


def keep_plain(db: Plain, write: DeviceWrite, answer: Answer, at: datetime) -> Answer:
    """Keep `answer` for `write`'s key (`answer_once`'s INSERT, in plain statements); the answer."""
    db.execute(_PLAIN_KEEP, kept_row(db, write, answer, at))
    return answer


def kept_answer(write: DeviceWrite, answer: Answer, at: datetime) -> IdempotentAnswer:
    """The row `keep_plain` inserts, as an object in no session (for `Plain.insert_all`)."""
    status, body = answer
    request_hash = fingerprint(write.request)
    return IdempotentAnswer(
        device_id=write.device_id, key=write.key, route=write.route, status=status, body=body,
        request_hash=request_hash, created_at=at,
    )  # fmt: skip


def kept_row(db: Plain, write: DeviceWrite, answer: Answer, at: datetime) -> tuple[Any, ...]:
    """The values `keep_plain` inserts: device, key, route, status, body, request hash, time."""
    status, body = answer
    return write.device_id, write.key, write.route, status, body, fingerprint(write.request), db.time(at)


KEPT_FOR = f"SELECT 1 FROM {_answers.name} WHERE device_id = {{device}} AND key = {{key}}"
"""A subquery (to `format` with the SQL of a device's id and of a key): the answer kept for the key, if any."""
_PLAIN_KEPT = KEPT_FOR.format(device="?", key="?")
NOT_KEPT = f"NOT EXISTS ({_PLAIN_KEPT})"
"""A condition for a plain statement: no answer is kept for the key (parameters: the device's id, the key)."""
_PLAIN_KEEP = (
    f"INSERT INTO {_answers.name} (device_id, key, route, status, body, request_hash, created_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?)"
)


def fingerprint(request: str) -> str:
    """What binds a key to its request: the hash of the request as parsed (so key order or spacing do not count)."""
    return hashlib.sha256(request.encode()).hexdigest()
