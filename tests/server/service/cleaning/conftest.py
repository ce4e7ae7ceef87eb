"""A small estate for the cleaning rules: a household, the desk, environment, the supervisor and the CS admin,
and two cleaning services on the price list."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from server.db.models import Channel, Estate, PriceItem, Role, ServiceKind, ServiceOrder, StaffUser
from server.domain import secrets
from server.domain.actors import Actor
from server.domain.service import cleaning
from server.domain.service.intake import OrderRequest
from tests.conftest import Household

SHANGHAI = ZoneInfo("Asia/Shanghai")
PNG = (  # a 1x1 PNG
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def actor(user: StaffUser) -> Actor:
    return Actor("user", user.id, user.username)


@dataclass
class Desk:
    estate: Estate
    household: Household
    desk: StaffUser
    cleaner: StaffUser
    supervisor: StaffUser
    admin: StaffUser

    def book(self, db: Session, at: str = "2026-11-02 09:00", item_code: str = "deep") -> ServiceOrder:
        request = OrderRequest(
            kind=ServiceKind.cleaning,
            channel=Channel.phone,
            unit_id=self.household.unit.id,
            contact_name="王建国",
            contact_phone="13800000001",
            item_code=item_code,
            appointment_start=local("2026-11-03 09:00"),
            appointment_end=local("2026-11-03 12:00"),
        )
        return cleaning.book(db, actor(self.desk), self.estate, request, local(at), by=self.desk)


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Staff accounts are made, never signed in with: the lightest Argon2 will do."""
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


@pytest.fixture
def services(db: Session, estate: Estate) -> None:
    """The cleaning lines of the price list (the price-list pages are not needed to book)."""
    db.add_all(
        [
            PriceItem(estate_id=estate.id, kind=ServiceKind.cleaning, code="deep", category="deep",
                      name_zh="全屋深度保洁", price_fen=30000),
            PriceItem(estate_id=estate.id, kind=ServiceKind.cleaning, code="window", category="windows",
                      name_zh="擦窗", price_fen=0),
        ]
    )  # fmt: skip
    db.commit()


@pytest.fixture
def desk(
    db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser], services: None
) -> Desk:
    return Desk(
        estate,
        household,
        make_user(Role.front_desk),
        make_user(Role.environment),
        make_user(Role.cs_manager),
        make_user(Role.records_admin),
    )
