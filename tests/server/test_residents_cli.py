"""`estate residents …` one resident at a time: add with a move-in, a card, a PIN printed once, a move-out refused
before the move-in and then recorded (R-REL-5 reads it), and a short PIN refused with nothing changed."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from server.cli.app import app
from server.config import get_settings
from server.db.models import Estate, Occupancy, ResidentCredential
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.secrets import verify_password

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_a_resident_is_added_carded_given_a_pin_and_moved_out_r_rel_5(
    database_url: str, tmp_path: Path, db: Session, estate: Estate
) -> None:
    """R-REL-5: the move-out date the CLI records is the one a tenant's move-out slip is judged on."""
    registry.ensure_unit(db, SYSTEM, estate, "2-3A")
    db.commit()
    env = {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path)}

    def run(*args: str) -> Result:
        get_settings.cache_clear()
        return CliRunner().invoke(app, ["residents", *args], env=env)

    try:
        added = run(
            "add", "孙租客", "--phone", "13700000007", "--unit", "2-3a", "--kind", "tenant", "--from", "2025-02-01"
        )
        assert added.exit_code == 0, added.output
        person = json.loads(added.stdout)
        assert run("card", str(person["person"]), "C-77001").exit_code == 1  # letters and digits only
        assert run("card", str(person["person"]), "C77001").exit_code == 0
        short = run("pin", str(person["person"]), "--pin", "12345")
        assert short.exit_code == 1 and "PIN 应为 6–8 位数字" in short.output
        pin = json.loads(run("pin", str(person["person"])).stdout)["pin"]
        early = run("move-out", str(person["occupancy"]), "--on", "2025-01-31")
        assert early.exit_code == 1 and "早于入住日期" in early.output
        assert run("move-out", str(person["occupancy"]), "--on", "2026-06-30").exit_code == 0
        shown = json.loads(run("show", str(person["person"])).stdout)
    finally:
        get_settings.cache_clear()
    assert shown["card"] is True and shown["pin"] is True and pin not in json.dumps(shown)
    assert shown["occupancies"] == [
        {"id": person["occupancy"], "unit": "2-3A", "kind": "tenant", "from": "2025-02-01", "to": "2026-06-30"}
    ]
    db.expire_all()
    cred = db.scalar(select(ResidentCredential).where(ResidentCredential.person_id == person["person"]))
    assert cred is not None and cred.pin_hash is not None and verify_password(cred.pin_hash, pin)
    assert db.get(Occupancy, person["occupancy"]).ends_on.isoformat() == "2026-06-30"  # type: ignore[union-attr]
