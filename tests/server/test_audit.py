"""The hash-chained audit log and `estate audit verify`."""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Estate
from server.domain import audit, registry
from server.domain.actors import SYSTEM, Actor


def _fill(db: Session, estate: Estate, n: int) -> None:
    actor = Actor("user", 7, "frontdesk", ip="10.1.2.3")
    for i in range(n):
        registry.ensure_unit(db, actor, estate, f"9-{i + 1}A")
    db.commit()


def test_every_change_writes_a_chained_entry(db: Session, estate: Estate) -> None:
    _fill(db, estate, 3)
    entries = db.scalars(select(AuditEntry).order_by(AuditEntry.seq)).all()
    assert [e.action for e in entries] == ["estate.create", "unit.create", "unit.create", "unit.create"]
    assert entries[1].actor == "user:7:frontdesk" and entries[1].ip == "10.1.2.3"
    assert all(b.prev_hash == a.hash for a, b in itertools.pairwise(entries))
    assert audit.verify(db).ok and audit.verify(db).entries == 4


def test_verify_names_the_altered_entry(db: Session, estate: Estate) -> None:
    _fill(db, estate, 5)
    db.execute(update(AuditEntry).where(AuditEntry.seq == 4).values(detail='{"code": "9-99Z"}'))
    db.commit()
    report = audit.verify(db)
    assert not report.ok and report.first_bad_seq == 4 and "altered" in report.problem


def test_verify_names_the_missing_entry(db: Session, estate: Estate) -> None:
    _fill(db, estate, 5)
    db.delete(db.get(AuditEntry, 3))
    db.commit()
    report = audit.verify(db)
    assert not report.ok and report.first_bad_seq == 3 and "missing" in report.problem


def test_verify_catches_a_rehashed_forgery(db: Session, estate: Estate) -> None:
    """Re-computing the altered entry's own hash does not help: the next entry no longer follows it."""
    _fill(db, estate, 4)
    entry = db.get(AuditEntry, 2)
    assert entry is not None
    entry.actor = "user:1:someone-else"
    entry.hash = audit._entry_hash(entry)
    db.commit()
    report = audit.verify(db)
    assert not report.ok and report.first_bad_seq == 3


def test_rolled_back_change_leaves_no_entry(db: Session, estate: Estate) -> None:
    registry.ensure_unit(db, SYSTEM, estate, "8-1A")
    db.rollback()
    assert [e.action for e in db.scalars(select(AuditEntry))] == ["estate.create"]


def _estate_cli(args: list[str], database_url: str, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    env = os.environ | {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path)}
    return subprocess.run(
        [sys.executable, "-m", "estate_cli", *args], capture_output=True, text=True, env=env, timeout=120, check=False
    )


def test_cli_verify_passes_fresh_and_names_the_altered_row(
    db: Session, estate: Estate, database_url: str, tmp_path: Path
) -> None:
    fresh = _estate_cli(["audit", "verify"], database_url, tmp_path)
    assert fresh.returncode == 0, fresh.stderr
    assert json.loads(fresh.stdout) == {"ok": True, "entries": 1, "first_bad_seq": None, "problem": ""}

    _fill(db, estate, 3)
    db.execute(update(AuditEntry).where(AuditEntry.seq == 3).values(actor="system:nobody"))
    db.commit()
    broken = _estate_cli(["audit", "verify"], database_url, tmp_path)
    assert broken.returncode == 1
    assert json.loads(broken.stdout)["first_bad_seq"] == 3
    assert "entry 3 was altered" in broken.stderr


def test_verify_notices_entries_deleted_from_the_end(db: Session, estate: Estate) -> None:
    """The chain head is anchored beside the log in the same transaction: cutting off the newest entries is caught."""
    _fill(db, estate, 4)
    last = audit.head(db)
    assert last is not None and audit.verify(db).ok
    for seq in (last.seq, last.seq - 1):
        db.delete(db.get(AuditEntry, seq))
    db.commit()
    report = audit.verify(db)
    assert not report.ok and report.first_bad_seq == last.seq - 1 and "missing" in report.problem


def test_the_audit_page_shows_only_sign_ins_of_this_estates_staff(
    client: TestClient, db: Session, estate: Estate, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    other = registry.create_estate(db, SYSTEM, "HY", "海韵")
    db.commit()
    outsider = make_user("front_desk", username="hy_desk", estates=[other])
    login(client, outsider.username, "correct-horse-1")
    admin = make_user("cs_manager", username="gh_manager")
    login(client, admin.username, "correct-horse-1")
    page = client.get("/console/audit", params={"action": "staff.sign_in"})
    assert page.status_code == 200
    assert "gh_manager" in page.text and "hy_desk" not in page.text
