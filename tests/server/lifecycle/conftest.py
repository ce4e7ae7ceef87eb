"""Lifecycle fixtures: the estate's staff, unit 5-8B with its owner and its keys in the cabinet, and helpers that walk
a move-in or a takeover to a given step with the clock fixed. Password hashing is cheap here (not tested)."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest
from argon2 import PasswordHasher
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Estate, KeyLoan, Role, ServiceOrder, StaffUser, StepHistory
from server.db.models.lifecycle import (
    DeveloperRepair,
    FacilityCheck,
    MeterReading,
    MoveIn,
    MoveInFee,
    MoveInFeeItem,
    MoveInScan,
    PatrolFinding,
    ScanKind,
    TakeoverInspection,
    Vacancy,
    VacantCleaning,
)
from server.domain import secrets
from server.domain.actors import SYSTEM
from server.domain.lifecycle import move_in as desk
from server.domain.lifecycle import move_in_scans, vacancy
from server.domain.lifecycle.vacancy import ItemResult, TakeoverSigning
from tests.conftest import Household
from tests.server.console.key_cabinet import KeyCabinet, build_cabinet

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SIGNATURE = (  # a 1x1 PNG
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)
TABLES = (
    MoveIn,
    MoveInFee,
    MoveInFeeItem,
    MoveInScan,
    FacilityCheck,
    MeterReading,
    KeyLoan,
    TakeoverInspection,
    Vacancy,
    PatrolFinding,
    VacantCleaning,
    ServiceOrder,
    DeveloperRepair,
    StepHistory,
    AuditEntry,
)


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


def counts(db: Session) -> dict[str, int]:
    """Rows of every table the lifecycle writes, to show a refused step changed nothing."""
    return {m.__name__: db.scalar(select(func.count()).select_from(m)) or 0 for m in TABLES}


@dataclass
class Desk:
    estate: Estate
    household: Household
    cabinet: KeyCabinet
    staff: dict[str, StaffUser]

    def __getitem__(self, role: str) -> StaffUser:
        return self.staff[role]


@pytest.fixture
def world(db: Session, estate: Estate, household: Household, make_user: Callable[..., StaffUser]) -> Desk:
    roles = ("front_desk", "records_admin", "finance", "engineering", "environment", "cs_manager")
    people = {r: make_user(Role(r)) for r in roles}
    cabinet = build_cabinet(db, estate, people["records_admin"])
    return Desk(estate, household, cabinet, people)


RESULTS_ALL_PASS = {code: (True, "") for code in desk.FACILITIES}


def image(fmt: str = "JPEG", size: tuple[int, int] = (64, 40)) -> bytes:
    """A small real image, as a tablet's camera or a scanner gives one."""
    out = io.BytesIO()
    Image.new("RGB", size, (200, 180, 150)).save(out, fmt)
    return out.getvalue()


def scan(db: Session, w: Desk, record: MoveIn, kind: ScanKind, n: int = 1) -> None:
    """`n` scans of `kind` taken at the desk for `record`."""
    move_in_scans.add(db, SYSTEM, record, kind, [image()] * n, by=w["front_desk"], now=NOW)


def walk(db: Session, w: Desk, to: str, *, unit_id: int | None = None, owner_id: int | None = None) -> MoveIn:
    """A move-in of 5-8B's owner taken step by step up to and including step `to`."""
    fd = w["front_desk"]
    record = desk.queue(
        db,
        SYSTEM,
        w.estate,
        unit_id=unit_id or w.household.unit.id,
        owner_id=owner_id or w.household.owner.id,
        by=fd,
        now=NOW,
    )

    def check() -> object:
        scan(db, w, record, ScanKind.id_copy, 2)
        scan(db, w, record, ScanKind.bank_book)
        return desk.check_papers(db, SYSTEM, record, notice_no="GH-2026-118", id_checked=True, by=fd, now=NOW)

    def sign() -> object:
        scan(db, w, record, ScanKind.family_photo, 2)
        return desk.sign_documents(
            db,
            SYSTEM,
            record,
            documents=list(desk.DOCUMENTS),
            family_members=2,
            photos=6,
            signature=SIGNATURE,
            by=fd,
            now=NOW,
        )

    steps: list[tuple[str, Callable[[], object]]] = [
        ("check", check),
        ("sign", sign),
        (
            "pay",
            lambda: desk.pay(
                db,
                SYSTEM,
                record,
                desk.Payment({"management": 150000, "water_deposit": 20000}, 200000, True, "SK-0001"),
                by=w["finance"],
                now=NOW,
            ),
        ),
        ("hand_pack", lambda: desk.hand_pack(db, SYSTEM, record, items=list(desk.PACK), by=fd, now=NOW)),
        (
            "inspect",
            lambda: desk.inspect(
                db,
                SYSTEM,
                record,
                desk.Inspection({**RESULTS_ALL_PASS, "walls": (False, "客厅墙面裂缝")}, "12.5", "305.2", SIGNATURE),
                by=w["engineering"],
                now=NOW,
            ),
        ),
    ]
    for name, take in steps:
        if to == "queue":
            break
        take()
        if name == to:
            break
    db.commit()
    return record


def take_over(db: Session, w: Desk, unit_id: int, *, water: str = "", at: datetime = NOW) -> TakeoverInspection:
    """Unit `unit_id` taken over with every item passed and signed: a vacant unit from `at`."""
    eng = w["engineering"]
    form = vacancy.open_takeover(
        db, SYSTEM, w.estate, unit_id=unit_id, developer="海湾置业", developer_rep="陈经理", by=eng, now=at
    )
    vacancy.record_items(db, SYSTEM, form, {c: ItemResult(True) for c in vacancy.CATEGORIES}, by=eng, now=at)
    vacancy.sign_takeover(
        db, SYSTEM, w.estate, form, TakeoverSigning(SIGNATURE, SIGNATURE, water=water), by=eng, now=at
    )
    db.commit()
    return form
