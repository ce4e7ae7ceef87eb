"""The hash-chained audit log and `estate audit verify`."""

from __future__ import annotations

import io
import itertools
import json
import os
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from openpyxl import load_workbook
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, AuditHead, Estate
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


def _cut_off_the_end(db: Session, last: int, count: int) -> None:
    for seq in range(last, last - count, -1):
        db.delete(db.get(AuditEntry, seq))
    db.commit()


def _move_anchor_to(db: Session, seq: int) -> None:
    """What someone cutting the log short would also do: move the anchor beside it to the new end."""
    entry = db.get(AuditEntry, seq)
    assert entry is not None
    db.execute(update(AuditHead).values(seq=entry.seq, hash=entry.hash))
    db.commit()


def test_a_printed_head_catches_a_log_rewritten_from_some_entry_on_with_its_anchor_moved(
    db: Session, estate: Estate
) -> None:
    """The anchor beside the log is in the same database: whoever rewrites the end of the log (each entry re-hashed
    so the chain holds) can move it too. The head printed on a daily reconciliation cannot be moved."""
    _fill(db, estate, 4)
    last = audit.head(db)
    assert last is not None
    printed = audit.Anchor.parse(f"#{last.seq} {last.hash}")
    assert audit.verify(db, printed=printed).ok
    entry = db.get(AuditEntry, last.seq)
    assert entry is not None
    entry.detail = '{"code": "9-99Z"}'
    entry.hash = audit._entry_hash(entry)
    db.commit()
    _move_anchor_to(db, last.seq)
    assert audit.verify(db).ok  # the chain and its anchor agree with each other
    report = audit.verify(db, printed=printed)
    assert not report.ok and report.first_bad_seq == last.seq and "printed" in report.problem


def test_cli_verify_notices_entries_cut_off_the_end_and_checks_a_printed_head(
    db: Session, estate: Estate, database_url: str, tmp_path: Path
) -> None:
    _fill(db, estate, 4)
    last = audit.head(db)
    assert last is not None
    printed = f"#{last.seq} {last.hash}"  # as the daily reconciliation prints it
    _cut_off_the_end(db, last.seq, 2)
    cut = _estate_cli(["audit", "verify"], database_url, tmp_path)
    assert cut.returncode == 1 and json.loads(cut.stdout)["first_bad_seq"] == last.seq - 1
    assert f"entries after {last.seq - 2} are missing" in cut.stderr
    _move_anchor_to(db, last.seq - 2)
    caught = _estate_cli(["audit", "verify", "--head", printed], database_url, tmp_path)
    assert caught.returncode == 1 and "the printed head is" in caught.stderr
    garbled = _estate_cli(["audit", "verify", "--head", "#12 not-a-hash"], database_url, tmp_path)
    assert garbled.returncode == 2 and "#SEQ HASH" in garbled.stderr


def test_the_daily_reconciliation_prints_the_chain_head(
    client: TestClient, db: Session, estate: Estate, make_user: Callable[..., Any], login: Callable[..., Any]
) -> None:
    captain = make_user("security_captain", username="gh_captain")
    login(client, captain.username, "correct-horse-1")
    page = client.get("/console/slips/reconciliation")
    head = audit.head(db)
    assert page.status_code == 200 and head is not None
    printed = re.search(r'id="recon-audit-head">[^<]*<code>([^<]+)</code>', page.text)
    assert printed is not None and audit.Anchor.parse(printed[1]) == audit.Anchor(head.seq, head.hash)
    book = load_workbook(io.BytesIO(client.get("/console/slips/reconciliation.xlsx").content))
    assert f"#{head.seq} {head.hash}" in [row[1] for row in book.active.iter_rows(values_only=True) if len(row) > 1]


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
