"""Answers to device writes kept by Idempotency-Key, so a retried upload gets the same answer and changes nothing."""

from __future__ import annotations

import re

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import IdempotentAnswer
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


def find(session: Session, device_id: int, key: str, route: str) -> IdempotentAnswer | None:
    answer = session.scalar(
        select(IdempotentAnswer).where(IdempotentAnswer.device_id == device_id, IdempotentAnswer.key == key)
    )
    if answer is not None and answer.route != route:
        raise DomainError(
            "该 Idempotency-Key 已用于其他请求",
            "this Idempotency-Key was used for another request",
            code="idempotency_key_reused",
            status=422,
        )
    return answer


def store(session: Session, device_id: int, key: str, route: str, status: int, body: str) -> None:
    session.add(IdempotentAnswer(device_id=device_id, key=key, route=route, status=status, body=body))
    session.flush()
