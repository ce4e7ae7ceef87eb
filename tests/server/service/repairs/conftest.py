"""A repair desk for the repair tests: an estate with a household, its staff (front desk, two engineers, the CS
supervisor, the CS admin, finance) and a price list, on a clock the tests set."""

from __future__ import annotations

import base64
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import (
    AuditEntry,
    CallTask,
    Channel,
    Estate,
    PhoneCall,
    PriceItem,
    Role,
    ServiceKind,
    ServiceOrder,
    StaffUser,
    StepHistory,
)
from server.domain import secrets
from server.domain.actors import Actor
from server.domain.service import intake, prices, repairs
from server.domain.service.intake import OrderRequest, Quote
from tests.conftest import Household

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    """A wall-clock time in the estate's zone: "2026-11-04 10:00" (a Wednesday)."""
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def _chunk(kind: bytes, data: bytes) -> bytes:
    body = kind + data
    return len(data).to_bytes(4, "big") + body + zlib.crc32(body).to_bytes(4, "big")


def png_data_url() -> str:
    """A real 1×1 PNG as a signature pad's data URL."""
    raw = b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + b"\x08\x00\x00\x00\x00")
    raw += _chunk(b"IDAT", zlib.compress(b"\x00\x00")) + _chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(raw).decode()


def counts(db: Session) -> dict[str, int]:
    """Rows of every table a repair change writes, to show that a refused request changed nothing."""
    models = (ServiceOrder, StepHistory, CallTask, PhoneCall, PriceItem, AuditEntry)
    return {m.__name__: db.scalar(select(func.count()).select_from(m)) or 0 for m in models}


def actor(user: StaffUser) -> Actor:
    return Actor("user", user.id, user.username)


@dataclass
class Desk:
    estate: Estate
    household: Household
    desk: StaffUser  # the front desk
    engineer: StaffUser
    lead: StaffUser  # engineering's duty lead, who also signs off as the engineering supervisor
    supervisor: StaffUser  # the CS supervisor
    admin: StaffUser  # the CS admin who files
    db: Session

    def order(self, at: datetime, *, item: str = "tap-leak", quote: Quote | None = None, **kw: object) -> ServiceOrder:
        request = OrderRequest(
            kind=ServiceKind.repair, channel=kw.pop("channel", Channel.desk), unit_id=self.household.unit.id,  # type: ignore[arg-type]
            contact_name="王先生", contact_phone="13800000001", item_code="" if quote else item,
            category="plumbing" if quote else "", description="厨房水龙头漏水", location="厨房", quote=quote,
        )  # fmt: skip
        return intake.open_order(self.db, actor(self.desk), self.estate, request, at, by=self.desk)

    def done(self, at: datetime, **kw: object) -> ServiceOrder:
        """An order opened, assigned, booked, started and finished at `at`."""
        order = self.order(at, **kw)
        e = self.engineer
        repairs.assign(self.db, actor(e), order, e.id, at, by=e)
        repairs.schedule(self.db, actor(e), order, at, at + timedelta(hours=2), at, by=e)
        if order.quote_labour_fen is not None:
            repairs.accept_quote(self.db, actor(e), order, at, by=e)
        repairs.start(self.db, actor(e), order, at, by=e)
        repairs.finish(self.db, actor(e), order, repairs.Completion("修好了", True, png_data_url(), "李师傅"), at, by=e)
        return order


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 at its lightest: the desk's five accounts are made for every test, and hashing is not tested here."""
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


@pytest.fixture
def service_desk(db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]) -> Desk:
    desk = Desk(
        estate, household, make_user(Role.front_desk), make_user(Role.engineering, username="eng_li"),
        make_user(Role.engineering, username="eng_lead"), make_user(Role.cs_manager), make_user(Role.records_admin), db,
    )  # fmt: skip
    admin = actor(desk.admin)
    at = local("2026-11-01 09:00")
    for code, category, name, fen in (
        ("tap-leak", "plumbing", "水龙头维修", 3000),
        ("bulb", "electrical", "换灯泡", 0),
    ):
        prices.add_item(db, admin, estate, prices.PriceLine(ServiceKind.repair, code, category, name, fen), at)
    db.commit()
    return desk
