"""`estate keys rotate` and `estate keys list`: a new key signs new slips; the old one stays published."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from sqlalchemy.orm import Session

from server.contract import slip_token
from server.db.models import Estate
from tests.conftest import Household

from .conftest import direct_slip

ROOT = Path(__file__).resolve().parents[3]


def estate_cli(database_url: str, tmp_path: Path, *args: str) -> list[dict]:
    env = os.environ | {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "estate_cli", "keys", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    assert run.returncode == 0, run.stderr
    return [json.loads(line) for line in run.stdout.splitlines()]


def test_rotate_from_the_command_line(
    database_url: str, tmp_path: Path, db: Session, estate: Estate, household: Household
) -> None:
    old = direct_slip(db, estate, household)
    assert estate_cli(database_url, tmp_path, "rotate") == [{"key_id": 2, "active": True}]
    listed = estate_cli(database_url, tmp_path, "list")
    assert [(k["key_id"], k["active"]) for k in listed] == [(1, False), (2, True)]
    new = direct_slip(db, estate, household)
    assert slip_token.decode(old.token).claims.key_id == 1
    assert slip_token.decode(new.token).claims.key_id == 2
