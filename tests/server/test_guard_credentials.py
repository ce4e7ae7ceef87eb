"""Giving a gate guard a PIN or card, from the console and from the command line, and signing in with it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from fastapi.testclient import TestClient


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
    ok = client.post("/api/v1/gate/guards/sign-in", json={"pin": "864213"}, headers=gate)
    assert ok.status_code == 200 and ok.json()["username"] == "zhang"
    wrong = client.post("/api/v1/gate/guards/sign-in", json={"pin": "000000"}, headers=gate)
    assert wrong.status_code == 401 and wrong.json()["error"]["code"] == "guard_unknown"


def test_the_command_line_sets_a_guards_card(
    make_user, make_device, client: TestClient, database_url: str, tmp_path: Path
) -> None:
    make_user("gate_guard", username="wang")
    _gate, token = make_device("gate", "北门")
    env = os.environ | {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path)}
    run = subprocess.run(
        [sys.executable, "-m", "server.cli", "users", "gate-credentials", "wang", "--card", "G-0042"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert run.returncode == 0, run.stderr
    signed = client.post(
        "/api/v1/gate/guards/sign-in", json={"card": "G-0042"}, headers={"Authorization": f"Bearer {token}"}
    )
    assert signed.status_code == 200 and signed.json()["username"] == "wang"
