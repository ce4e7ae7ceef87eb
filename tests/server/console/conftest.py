"""Console fixtures: small pages, signed-in clients per role, and a populated estate registry."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest
from argon2 import PasswordHasher
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Response
from sqlalchemy.orm import Session

from server.config import Settings
from server.db.models import Estate, OccupancyKind, StaffUser
from server.domain import registry, secrets
from server.domain.actors import SYSTEM

PASSWORD = "correct-horse-1"  # what make_user gives every account
PAGE_SIZE = 5


@pytest.fixture(autouse=True)
def quick_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2 with the lightest parameters: these tests sign many accounts in, and hashing is not what they test."""
    monkeypatch.setattr(secrets, "_hasher", PasswordHasher(time_cost=1, memory_cost=256, parallelism=1))


@pytest.fixture(autouse=True)
def keep_loaded_after_commit(db: Session) -> None:
    """Objects the test arranged stay readable after commit without a reload.

    On SQLite every transaction begins IMMEDIATE, so a test that left one open would block the app; tests end
    their reads with `db.commit()` (a rollback would expire everything and reopen a transaction on next access).
    """
    db.expire_on_commit = False


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> Settings:
    """Five rows a page, so paging shows with a small registry."""
    return Settings(data_dir=tmp_path / "data", database_url=database_url, page_size=PAGE_SIZE)


@dataclass(frozen=True)
class Account:
    """A staff account as plain values, safe to read while the app changes the row."""

    id: int
    username: str


@pytest.fixture
def as_role(
    app: FastAPI, make_user: Callable[..., StaffUser], login: Callable[[TestClient, str, str], Response]
) -> Iterator[Callable[..., tuple[TestClient, Account]]]:
    """`as_role(role)`: a new staff account of that role, signed in on its own client."""
    clients: list[TestClient] = []

    def _as(role: str, **kwargs: object) -> tuple[TestClient, Account]:
        user = make_user(role, **kwargs)
        account = Account(user.id, user.username)
        client = TestClient(app)
        clients.append(client)
        signed = login(client, account.username, PASSWORD)
        assert signed.status_code == 200 and signed.url.path == "/console/", signed.text
        return client, account

    yield _as
    for client in clients:
        client.close()


@pytest.fixture
def password() -> str:
    """The password every account from `make_user` and `as_role` has."""
    return PASSWORD


@dataclass
class Registry:
    estate: Estate
    unit_ids: dict[str, int]


@pytest.fixture
def populated(db: Session, estate: Estate) -> Registry:
    """观海台 with buildings 1 and 2, floors 1–4, units A and B (16 units), two in arrears, and residents."""
    units = {
        f"{b}-{f}{label}": registry.ensure_unit(db, SYSTEM, estate, f"{b}-{f}{label}")
        for b in (1, 2)
        for f in range(1, 5)
        for label in "AB"
    }
    registry.set_arrears(db, SYSTEM, units["1-2A"], 128050, "2023 年物业费")
    registry.set_arrears(db, SYSTEM, units["2-3B"], 30000)

    def live(code: str, name: str, phone: str, kind: OccupancyKind, start: date, end: date | None = None) -> None:
        person = registry.add_person(db, SYSTEM, estate, name, phone)
        registry.add_occupancy(db, SYSTEM, units[code], person, kind, start, end)

    live("1-1A", "张伟", "13800000001", OccupancyKind.owner, date(2020, 1, 1))
    live("1-1A", "张小明", "", OccupancyKind.family, date(2020, 1, 1))
    live("1-2A", "李娜", "13900000002", OccupancyKind.tenant, date(2023, 5, 1))
    live("1-2A", "王芳", "13900000009", OccupancyKind.tenant, date(2021, 1, 1), date(2022, 12, 31))
    live("2-1B", "陈静", "13700000003", OccupancyKind.owner, date(2019, 6, 1))
    for i, code in enumerate(["2-2A", "2-2B", "2-3A", "2-4A", "2-4B", "1-3A", "1-3B"], start=1):
        live(code, f"业主{i:02d}", f"1360000{i:04d}", OccupancyKind.owner, date(2018, 1, i))
    db.commit()
    return Registry(estate, {code: unit.id for code, unit in units.items()})


def cells(html: str, table_id: str, column: int = 0) -> list[str]:
    """The text of one column of a listing table, row by row (tags stripped)."""
    match = re.search(rf'<table[^>]*id="{table_id}".*?<tbody>(.*?)</tbody>', html, re.S)
    if match is None:
        return []
    rows = re.findall(r"<tr[^>]*>(.*?)</tr>", match[1], re.S)
    out = []
    for row in rows:
        tds = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        out.append(re.sub(r"<[^>]+>", "", tds[column]).strip())
    return out


@pytest.fixture
def column() -> Callable[..., list[str]]:
    """`column(html, table_id, n)`: the text of column n of a listing table."""
    return cells
