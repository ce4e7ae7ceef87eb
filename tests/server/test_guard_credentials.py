"""Giving a gate guard a PIN or card, from the console and from the command line, and signing in with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient

from tests.conftest import keyed


def _staff_page(client: TestClient) -> str:
    return client.get("/console/staff").text


def test_an_admin_gives_a_guard_a_pin_that_works_at_the_gate(
    client: TestClient, make_user, make_device, login, page_csrf
) -> None:
    make_user("admin", username="boss")
    guard = make_user("gate_guard", username="zhang")
    clerk = make_user("front_desk", username="li")
    _gate, token = make_device("gate", "东门")
    login(client, "boss", "correct-horse-1")
    csrf = page_csrf(_staff_page(client))
    saved = client.post(f"/console/staff/{guard.id}/gate-credentials", data={"pin": "864213", "csrf_token": csrf})
    assert saved.status_code == 200 and "门岗登录方式已保存" in saved.text

    refused = client.post(f"/console/staff/{clerk.id}/gate-credentials", data={"pin": "111111", "csrf_token": csrf})
    assert refused.status_code == 400 and "只有门岗安管员" in refused.text
    empty = client.post(f"/console/staff/{guard.id}/gate-credentials", data={"csrf_token": csrf})
    assert empty.status_code == 400

    gate = {"Authorization": f"Bearer {token}"}
    ok = client.post("/api/v1/gate/guards/sign-in", json={"pin": "864213"}, headers=keyed(gate))
    assert ok.status_code == 200 and ok.json()["username"] == "zhang"
    wrong = client.post("/api/v1/gate/guards/sign-in", json={"pin": "000000"}, headers=keyed(gate))
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "guard_unknown"


def test_the_command_line_sets_a_guards_card(
    make_user, make_device, client: TestClient, database_url: str, tmp_path: Path
) -> None:
    make_user("gate_guard", username="wang")
    _gate, token = make_device("gate", "北门")
    env = os.environ | {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "estate_cli", "users", "gate-credentials", "wang", "--card", "G-0042"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    signed = client.post(
        "/api/v1/gate/guards/sign-in", json={"card": "G-0042"}, headers=keyed({"Authorization": f"Bearer {token}"})
    )
    assert signed.status_code == 200 and signed.json()["username"] == "wang"


def test_guard_pins_have_six_digits_and_the_roster_hash_is_slow(make_user, make_device, db, estate) -> None:
    """A roster every gate downloads must not give up a PIN in minutes: 6–8 digits, scrypt at N ≥ 2^15. Hashes
    made before keep their own parameters and still verify, as a gate checks them offline."""
    import hashlib

    from server.contract.guard_secret import _b64, verify_secret
    from server.domain import guards
    from server.domain.actors import SYSTEM
    from server.domain.errors import DomainError

    guard = make_user("gate_guard", username="laoli")
    for short in ("1357", "13579"):
        try:
            guards.set_credentials(db, SYSTEM, estate, guard, pin=short)
        except DomainError as exc:
            assert exc.code == "bad_pin"
        else:
            raise AssertionError(f"a {len(short)}-digit guard PIN was accepted")
    guards.set_credentials(db, SYSTEM, estate, guard, pin="135791")
    (entry,) = guards.roster(db, estate)
    scheme, n, r, _p, _salt, _digest = (entry.pin_hash or "").split("$")
    assert scheme == "scrypt" and int(n) * int(r) >= 2**15 * 8
    assert verify_secret(entry.pin_hash or "", "135791") and not verify_secret(entry.pin_hash or "", "135792")
    salt = b"s" * 16
    older = f"scrypt${2**14}$8$1${_b64(salt)}${_b64(hashlib.scrypt(b'2468', salt=salt, n=2**14, r=8, p=1, dklen=32))}"
    assert verify_secret(older, "2468")
