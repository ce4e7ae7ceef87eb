"""An estate with a service price list, a household and a kiosk, and an app whose clock the test moves: for the
service desk's API, board and sweep tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import (
    AuditEntry,
    CallTask,
    Estate,
    FeedbackForm,
    PriceItem,
    ServiceKind,
    ServiceOrder,
    StepHistory,
)
from server.domain import secrets

# Wednesday 25 November 2026, 08:00 in Shanghai: before the day's first slot.
NOW = datetime(2026, 11, 25, 0, 0, tzinfo=UTC)


class Clock:
    """The app's clock, moved by the test."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


PRICE_LIST = (
    (ServiceKind.repair, "tap-leak", "plumbing", "水龙头漏水", "Leaking tap", 3000),
    (ServiceKind.repair, "drain", "plumbing", "下水道疏通", "Blocked drain", 5000),
    (ServiceKind.repair, "socket", "electrical", "更换插座", "Replace a socket", 0),
    (ServiceKind.cleaning, "deep-3h", "deep", "深度清洁（3小时）", "Deep clean (3 h)", 18000),
)


def price_list(db: Session, estate: Estate) -> None:
    for n, (kind, code, category, zh, en, fen) in enumerate(PRICE_LIST):
        db.add(
            PriceItem(
                estate_id=estate.id, kind=kind, code=code, category=category, name_zh=zh, name_en=en, price_fen=fen,
                sort=n,
            )
        )  # fmt: skip
    db.commit()


def count(db: Session, model: type[object]) -> int:
    return db.scalar(select(func.count()).select_from(model)) or 0


def counts(db: Session) -> dict[str, int]:
    """Rows of every table a service write touches, to show that a refused request changed nothing."""
    db.expire_all()
    return {m.__name__: count(db, m) for m in (ServiceOrder, FeedbackForm, CallTask, StepHistory, AuditEntry)}


@pytest.fixture
def quick_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the lightest parameters: residents' PINs and staff passwords are set up, not what is tested."""
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))
