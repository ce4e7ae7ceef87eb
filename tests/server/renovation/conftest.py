"""Renovation fixtures: an estate with unit 5-8B, the desk, engineering and finance, and a renovation walked to
any step with the clock the test gives (times in Shanghai)."""

from __future__ import annotations

import base64
import io
from collections.abc import Callable
from datetime import date, datetime
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from PIL import Image
from sqlalchemy.orm import Session

from server.db.models import Estate, Role, StaffUser
from server.db.models.renovation import Renovation
from server.domain import secrets
from server.domain.actors import Actor
from server.domain.renovation import records

SHANGHAI = ZoneInfo("Asia/Shanghai")


def at(text: str) -> datetime:
    """A moment on the estate's wall clock."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def png_data_url() -> str:
    image = Image.new("L", (60, 20), 255)
    image.putpixel((10, 10), 0)
    out = io.BytesIO()
    image.save(out, "PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode()


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


class Staff:
    def __init__(self, make_user: Callable[..., StaffUser]) -> None:
        self.desk = make_user(Role.front_desk, "desk")
        self.engineer = make_user(Role.engineering, "engineer")
        self.finance = make_user(Role.finance, "finance")

    @staticmethod
    def actor(user: StaffUser) -> Actor:
        return Actor(kind="user", id=user.id, name=user.username)


@pytest.fixture
def people(make_user: Callable[..., StaffUser], household: object) -> Staff:
    return Staff(make_user)


Walk = Callable[..., Renovation]


@pytest.fixture
def walk(db: Session, estate: Estate, people: Staff) -> Walk:
    """`walk(until, received=…, starts_on=…, ends_on=…)`: a renovation of 5-8B received then, taken through the
    steps up to `until` (received, approved, notified, agreed, paid), each a minute apart."""

    def _walk(
        until: str = "paid",
        received: str = "2026-11-02 09:00",
        starts_on: date = date(2026, 11, 5),
        ends_on: date = date(2026, 11, 30),
    ) -> Renovation:
        now = at(received)
        desk, eng, fin = people.desk, people.engineer, people.finance
        app = records.Application("5-8B", "王业主", "厨房改造、铺地板", starts_on, ends_on, "13800000000", "好家装饰")
        record = records.receive(db, people.actor(desk), desk, estate, app, now)
        steps: list[Callable[[], None]] = [
            lambda: records.decide(db, people.actor(eng), eng, record, True, "不得改动承重墙", now),
            lambda: records.notify(db, people.actor(desk), desk, record, "电话通知", now),
            lambda: records.agree(db, people.actor(desk), desk, record, png_data_url(), now),
            lambda: records.pay(db, people.actor(fin), fin, record, 30000, 200000, "SK-001", now),
        ]
        for take in steps:
            if record.state.value == until:
                break
            take()
        db.commit()
        return record

    return _walk
