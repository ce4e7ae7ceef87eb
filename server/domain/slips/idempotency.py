"""Answers to device writes kept by Idempotency-Key, so a retried upload gets the same answer and changes nothing."""

from __future__ import annotations

import hashlib
import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import IdempotentAnswer
from server.domain import throttle
from server.domain.errors import DomainError

KEY = re.compile(r"^[A-Za-z0-9_.:-]{8,80}$")


def check_key(key: str | None) -> str:
    if key is None or not KEY.match(key):
        raise DomainError(
            "设备写入须带 8–80 位的 Idempotency-Key 头",
            "device writes need an Idempotency-Key header (8–80 chars)",
            code="idempotency_key_required",
        )
    return key


def fingerprint(request: str) -> str:
    """What binds a key to its request: the hash of the request as parsed (so key order or spacing do not count)."""
    return hashlib.sha256(request.encode()).hexdigest()


def find(session: Session, device_id: int, key: str, route: str, request: str) -> IdempotentAnswer | None:
    """The answer kept for this key, when the same request is sent again. A second request with the key waits for
    the first to finish, so both get one answer; another request with the key is refused (422)."""
    throttle.serialize(session, f"idempotency:{device_id}:{key}")
    answer = session.scalar(
        select(IdempotentAnswer)
        .where(IdempotentAnswer.device_id == device_id, IdempotentAnswer.key == key)
        .execution_options(populate_existing=True)
    )
    # (an answer kept before keys were bound to their request has no hash and is replayed as before)
    if answer is not None and (
        answer.route != route or (answer.request_hash and answer.request_hash != fingerprint(request))
    ):
        raise DomainError(
            "该 Idempotency-Key 已用于其他请求",
            "this Idempotency-Key was used for another request",
            code="idempotency_key_reused",
            status=422,
        )
    return answer


def store(session: Session, device_id: int, key: str, route: str, status: int, body: str, request: str) -> None:
    session.add(
        IdempotentAnswer(
            device_id=device_id,
            key=key,
            route=route,
            status=status,
            body=body,
            request_hash=fingerprint(request),
        )
    )
    session.flush()
