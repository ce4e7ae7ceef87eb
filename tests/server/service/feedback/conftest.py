"""A small estate for the feedback rules: a household, the desk, two departments, the supervisor and the CS admin."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from argon2 import PasswordHasher
from sqlalchemy.orm import Session

from server.db.models import Channel, Estate, FeedbackCategory, FeedbackForm, Role, StaffUser
from server.domain import secrets
from server.domain.actors import Actor
from server.domain.service import feedback
from server.domain.service.intake import FeedbackRequest
from tests.conftest import Household

SHANGHAI = ZoneInfo("Asia/Shanghai")


def local(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=SHANGHAI)


def actor(user: StaffUser) -> Actor:
    return Actor("user", user.id, user.username)


@dataclass
class Centre:
    estate: Estate
    household: Household
    desk: StaffUser
    engineering: StaffUser
    environment: StaffUser
    supervisor: StaffUser
    admin: StaffUser

    def receive(
        self, db: Session, at: str, category: FeedbackCategory = FeedbackCategory.complaint,
        channel: Channel = Channel.phone,
    ) -> FeedbackForm:  # fmt: skip
        request = FeedbackRequest(channel, category, "王建国", "楼道灯不亮", "5 栋 8 层", "13800000001",
                                  unit_id=self.household.unit.id)  # fmt: skip
        return feedback.receive(db, actor(self.desk), self.estate, request, local(at), by=self.desk)

    def refer(self, db: Session, form: FeedbackForm, at: str, department: str = "engineering") -> None:
        feedback.fill_form(db, actor(self.desk), form, "楼道灯坏了三天", local(at), by=self.desk)
        feedback.refer(db, actor(self.desk), form, department, local(at), by=self.desk, assistant_informed=True)


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


@pytest.fixture
def centre(db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]) -> Centre:
    return Centre(
        estate,
        household,
        make_user(Role.front_desk),
        make_user(Role.engineering),
        make_user(Role.environment),
        make_user(Role.cs_manager),
        make_user(Role.records_admin),
    )
