"""The gate's API (R-REL-6): every rejection code, the release with its Idempotency-Key, offline sync and
conflicts, and the keys and revocations a gate downloads for offline checking."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.contract import slip_token
from server.db.models import Estate, ReleaseSlip, SlipConflict, SlipRelease
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.slips import issuing
from tests.conftest import Household, keyed, make_household

from .conftest import STAFF, count_all, direct_slip, kiosk_slip


def verify(client: TestClient, gate: dict, text: str) -> tuple[int, dict]:
    response = client.post("/api/v1/gate/verify", json={"text": text}, headers=keyed(gate))
    return response.status_code, response.json()


def release(client: TestClient, gate: dict, slip: dict, key: str | None = None, **body: object) -> tuple[int, dict]:
    payload = {"text": slip["token"], "guard": "张保安", "lines": count_all(slip), **body}
    headers = gate | {"Idempotency-Key": key or uuid.uuid4().hex}
    response = client.post("/api/v1/gate/releases", json=payload, headers=headers)
    return response.status_code, response.json()


def test_verify_then_release_records_the_release_once(
    client: TestClient,
    look: Callable[[Any], Any],
    db: Session,
    estate: Estate,
    household: Household,
    kiosk: dict,
    gate_a: dict,
    gate_b: dict,
) -> None:
    slip = kiosk_slip(client, estate, kiosk)
    status, body = verify(client, gate_a, slip["token"])
    assert status == 200 and body["slip"]["number"] == slip["number"] and body["slip"]["state"] == "issued"
    assert [i["quantity"] for i in body["slip"]["items"]] == [1, 2]
    status, body = verify(client, gate_a, slip["number"].lower())  # typed by the guard
    assert status == 200 and body["slip"]["number"] == slip["number"]
    status, out = release(client, gate_a, slip)
    assert status == 201 and out["outcome"] == "released" and out["state"] == "released"
    status, body = verify(client, gate_b, slip["token"])
    assert status == 409 and body["error"]["code"] == "already_released"
    assert body["error"]["gate"] == "东门" and body["error"]["released_at"].startswith(out["at"][:16])
    status, body = release(client, gate_b, slip)
    assert status == 409 and body["error"]["code"] == "already_released"
    assert look(select(func.count()).select_from(SlipRelease)) == 1


def test_a_retry_with_the_same_idempotency_key_gets_the_same_answer(
    client: TestClient,
    look: Callable[[Any], Any],
    db: Session,
    estate: Estate,
    household: Household,
    kiosk: dict,
    gate_a: dict,
) -> None:
    slip = kiosk_slip(client, estate, kiosk)
    first = release(client, gate_a, slip, key="retry-0001")
    again = release(client, gate_a, slip, key="retry-0001")
    assert first == again and first[0] == 201
    assert look(select(func.count()).select_from(SlipRelease)) == 1
    response = client.post(
        "/api/v1/gate/releases", json={"text": slip["token"], "guard": "x", "lines": count_all(slip)}, headers=gate_a
    )
    assert response.json()["error"]["code"] == "idempotency_key_required"


def test_a_mismatch_is_refused_with_the_reason_and_reissue_revokes_the_old_token(
    client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    slip = kiosk_slip(client, estate, kiosk)
    lines = [{"line": 1, "counted": 1}, {"line": 2, "counted": 3}]
    status, out = release(
        client, gate_a, slip, lines=lines, reason="多一个书架", photo_jpeg_b64=base64.b64encode(b"jpg").decode()
    )
    assert status == 201 and out["outcome"] == "refused" and out["state"] == "refused"
    assert "旧书架" in out["reason"] and "多一个书架" in out["reason"]
    assert verify(client, gate_a, slip["token"])[1]["error"]["code"] == "refused"
    old = db.scalar(select(ReleaseSlip).where(ReleaseSlip.number == slip["number"]))
    assert old is not None
    from server.db.models import ApplicantKind
    from server.domain.slips import eligibility

    day = old.day
    applicant = eligibility.check(
        db, STAFF, estate, household.unit, ApplicantKind.owner, household.owner, channel="console", today=day
    )
    draft = issuing.SlipDraft([issuing.LineDraft("SOFA", None, 1), issuing.LineDraft(None, "旧书架", 3)], day)
    new = issuing.reissue(db, STAFF, estate, old, applicant, draft)
    db.commit()
    status, body = verify(client, gate_a, slip["token"])
    assert status == 410 and body["error"]["code"] == "revoked"
    assert verify(client, gate_a, new.token)[0] == 200
    revoked = client.get("/api/v1/gate/revocations", headers=gate_a).json()
    assert slip["number"] in revoked["revoked"]


def test_every_rejection_code(
    client: TestClient, db: Session, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    slip = kiosk_slip(client, estate, kiosk)
    token = slip["token"]
    assert verify(client, gate_a, "hello")[1]["error"]["code"] == "malformed"
    assert verify(client, gate_a, token[:-6])[1]["error"]["code"] == "malformed"
    signed = slip_token.decode(token)
    flipped = signed.signature[:-1] + bytes([signed.signature[-1] ^ 0x01])  # a flipped bit in the signature
    altered = slip_token.token_text(signed.payload, flipped)
    assert verify(client, gate_a, altered)[1]["error"]["code"] == "bad_signature"
    claims = slip_token.decode(token).claims
    forged_key = slip_token.encode(
        slip_token.SlipClaims(
            77, *[getattr(claims, f) for f in ("estate", "day", "seq", "unit", "valid_until", "items")]
        ),
        Ed25519PrivateKey.generate(),
    )
    assert verify(client, gate_a, forged_key)[1]["error"]["code"] == "unknown_key"
    other = registry.create_estate(db, SYSTEM, "HY", "海韵")
    db.commit()
    foreign = direct_slip(db, other, make_household(db, other, "1-1A", credentials=False))
    assert verify(client, gate_a, foreign.token)[1]["error"]["code"] == "wrong_estate"
    assert verify(client, gate_a, foreign.number)[1]["error"]["code"] == "wrong_estate"
    stale = direct_slip(db, estate, household, now=datetime.now(UTC) - timedelta(days=3))
    status, body = verify(client, gate_a, stale.token)
    assert (status, body["error"]["code"]) == (410, "expired")
    assert verify(client, gate_a, stale.number)[1]["error"]["code"] == "expired"
    cancelled = direct_slip(db, estate, household)
    issuing.cancel(db, STAFF, cancelled, "住户取消搬家")
    db.commit()
    assert verify(client, gate_a, cancelled.token)[1]["error"]["code"] == "cancelled"
    assert verify(client, gate_a, "GH-20000101-0001")[1]["error"]["code"] == "unknown_slip"
    assert client.post("/api/v1/gate/verify", json={"text": token}, headers=keyed(kiosk)).json()["error"]["code"] == (
        "wrong_device_kind"
    )


def test_offline_double_use_becomes_a_conflict_and_nonces_are_recorded_once(
    client: TestClient,
    look: Callable[[Any], Any],
    db: Session,
    estate: Estate,
    household: Household,
    kiosk: dict,
    gate_a: dict,
    gate_b: dict,
) -> None:
    slip = kiosk_slip(client, estate, kiosk)
    now = datetime.now(UTC)
    event = {
        "nonce": "nonce-a-0001",
        "kind": "release",
        "text": slip["token"],
        "at": (now - timedelta(minutes=10)).isoformat(),
        "guard": "东门老陈",
        "lines": count_all(slip),
    }
    first = client.post("/api/v1/gate/sync", json={"events": [event]}, headers=keyed(gate_a)).json()
    assert first["results"] == [{"nonce": "nonce-a-0001", "result": "recorded", "code": "released"}]
    again = client.post("/api/v1/gate/sync", json={"events": [event]}, headers=keyed(gate_a)).json()
    assert again["results"][0]["result"] == "duplicate"
    rel = look(select(SlipRelease))
    assert rel is not None and rel.offline and abs((rel.at - (now - timedelta(minutes=10))).total_seconds()) < 1
    second = dict(event, nonce="nonce-b-0001", at=(now - timedelta(minutes=5)).isoformat(), guard="西门小刘")
    rejected_scan = {
        "nonce": "nonce-b-0002",
        "kind": "reject",
        "text": "garbage",
        "at": now.isoformat(),
        "code": "malformed",
    }
    out = client.post("/api/v1/gate/sync", json={"events": [second, rejected_scan]}, headers=keyed(gate_b)).json()
    assert out["results"] == [
        {"nonce": "nonce-b-0001", "result": "conflict", "code": "already_released"},
        {"nonce": "nonce-b-0002", "result": "recorded", "code": "malformed"},
    ]
    conflict = look(select(SlipConflict))
    assert conflict is not None and conflict.kind == "double_use" and conflict.guard == "西门小刘"
    assert look(select(func.count()).select_from(SlipRelease)) == 1


def test_keys_and_revocations_carry_etags(
    client: TestClient, estate: Estate, household: Household, kiosk: dict, gate_a: dict
) -> None:
    first = client.get("/api/v1/gate/keys", headers=gate_a)
    assert first.status_code == 200 and first.headers["etag"]
    assert [k["active"] for k in first.json()["keys"]] == [True]
    unchanged = client.get("/api/v1/gate/keys", headers=gate_a | {"If-None-Match": first.headers["etag"]})
    assert unchanged.status_code == 304
    rev = client.get("/api/v1/gate/revocations", headers=gate_a)
    assert rev.json() == {"estate": "GH", "revoked": [], "released": [], "passes": []}
    slip = kiosk_slip(client, estate, kiosk)
    release(client, gate_a, slip)
    changed = client.get("/api/v1/gate/revocations", headers=gate_a | {"If-None-Match": rev.headers["etag"]})
    assert changed.status_code == 200 and changed.json()["released"] == [slip["number"]]
