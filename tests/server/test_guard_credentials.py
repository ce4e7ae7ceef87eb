"""Giving a member of staff a PIN or card, from the console and from the command line, and signing in with it: a
guard at the gate and at the key cabinet, anyone else at the key cabinet only."""

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
    page = _staff_page(client)
    csrf = page_csrf(page)
    # Every member of staff gets the form, not only guards: the key cabinet signs anyone in with a card or PIN.
    assert (
        f"/console/staff/{clerk.id}/gate-credentials" in page and f"/console/staff/{guard.id}/gate-credentials" in page
    )
    saved = client.post(f"/console/staff/{guard.id}/gate-credentials", data={"pin": "864213", "csrf_token": csrf})
    assert saved.status_code == 200 and "终端登录方式已保存" in saved.text

    clerks = client.post(f"/console/staff/{clerk.id}/gate-credentials", data={"card": "S-0107", "csrf_token": csrf})
    assert clerks.status_code == 200  # for the key cabinet
    empty = client.post(f"/console/staff/{guard.id}/gate-credentials", data={"csrf_token": csrf})
    assert empty.status_code == 400

    gate = {"Authorization": f"Bearer {token}"}
    ok = client.post("/api/v1/gate/guards/sign-in", json={"pin": "864213"}, headers=keyed(gate))
    assert ok.status_code == 200 and ok.json()["username"] == "zhang"
    wrong = client.post("/api/v1/gate/guards/sign-in", json={"pin": "000000"}, headers=keyed(gate))
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "guard_unknown"
    not_a_guard = client.post("/api/v1/gate/guards/sign-in", json={"card": "S-0107"}, headers=keyed(gate))
    assert not_a_guard.status_code == 401  # the gate signs in guards only

    _cabinet, cabinet_token = make_device("cabinet", "钥匙柜")
    cabinet = {"Authorization": f"Bearer {cabinet_token}"}
    at_cabinet = client.post("/api/v1/cabinet/sign-in", json={"card": "S-0107"}, headers=keyed(cabinet))
    assert at_cabinet.status_code == 200 and at_cabinet.json()["username"] == "li"
    guard_there = client.post(
        "/api/v1/cabinet/sign-in", json={"username": "zhang", "pin": "864213"}, headers=keyed(cabinet)
    )
    assert guard_there.status_code == 200 and guard_there.json()["role"] == "gate_guard"


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


def test_the_command_line_gives_any_member_of_staff_a_card_and_pin_for_the_cabinet(
    make_user, make_device, client: TestClient, database_url: str, tmp_path: Path
) -> None:
    make_user("records_admin", username="liu")
    _cabinet, token = make_device("cabinet", "钥匙柜")
    env = os.environ | {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "estate_cli", "users", "credentials", "liu", "--card", "S-0200", "--pin", "97531086"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    assert "key cabinet sign-in of liu set" in run.stdout
    cabinet = {"Authorization": f"Bearer {token}"}
    for body in ({"card": "S-0200"}, {"username": "liu", "pin": "97531086"}):
        signed = client.post("/api/v1/cabinet/sign-in", json=body, headers=keyed(cabinet))
        assert signed.status_code == 200 and signed.json()["role"] == "records_admin", body


def test_a_card_belongs_to_one_member_of_staff(make_user, db, estate) -> None:
    from server.domain import guards
    from server.domain.actors import SYSTEM
    from server.domain.errors import DomainError

    first, second = make_user("front_desk"), make_user("engineering")
    guards.set_credentials(db, SYSTEM, estate, first, card="S-0300")
    try:
        guards.set_credentials(db, SYSTEM, estate, second, card=" S-0300 ")
    except DomainError as exc:
        assert exc.code == "card_taken"
    else:
        raise AssertionError("a second member of staff was given the same card")
    guards.set_credentials(db, SYSTEM, estate, first, card="S-0300")  # one's own card again is fine


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


def test_a_pin_set_under_the_older_four_digit_rule_is_no_longer_handed_to_gates(
    client: TestClient, make_user, make_device, db, estate
) -> None:
    """A PIN hashed at the older, cheaper cost (when 4 digits were allowed) gave itself up from a gate's roster in
    95 s: the roster no longer carries it, while the guard's card still works, and a new 6-digit PIN is carried."""
    import hashlib

    from server.contract.guard_secret import _b64, verify_secret
    from server.db.models import GuardCredential
    from server.domain import guards
    from server.domain.actors import SYSTEM

    guard = make_user("gate_guard", username="laozhao")
    guards.set_credentials(db, SYSTEM, estate, guard, card="G-0077")
    salt = b"t" * 16
    older = f"scrypt${2**14}$8$1${_b64(salt)}${_b64(hashlib.scrypt(b'2468', salt=salt, n=2**14, r=8, p=1, dklen=32))}"
    credential = db.get(GuardCredential, guard.id)
    credential.pin_hash = older  # as the older rule stored it
    db.commit()
    _gate, token = make_device("gate", "东门")
    gate = {"Authorization": f"Bearer {token}"}

    def laozhao() -> dict:
        roster = client.get("/api/v1/gate/guards", headers=gate)
        assert roster.status_code == 200
        return next(e for e in roster.json()["guards"] if e["username"] == "laozhao")

    assert laozhao()["pin_hash"] is None and laozhao()["card_hash"]
    by_card = client.post("/api/v1/gate/guards/sign-in", json={"card": "G-0077"}, headers=keyed(gate))
    assert by_card.status_code == 200 and by_card.json()["username"] == "laozhao"
    guards.set_credentials(db, SYSTEM, estate, guard, pin="246813")
    db.commit()
    assert verify_secret(laozhao()["pin_hash"], "246813")
