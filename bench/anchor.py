"""The naive anchor of bench/slips.py: a minimal FastAPI + sqlite3 endpoint doing the same verify-and-release on
the same schema (device by token digest, token signature, slip state, counted lines, the release row), with one
sqlite3 connection per thread and Python's default transactions. Run by uvicorn with ANCHOR_DB set."""

from __future__ import annotations

import hashlib
import os
import sqlite3
import threading
from datetime import UTC, datetime
from functools import lru_cache

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from fastapi import FastAPI, Header, HTTPException, Request

from server.contract import slip_token

app = FastAPI()
_local = threading.local()


def _db() -> sqlite3.Connection:
    conn = getattr(_local, "conn", None)
    if conn is None:
        conn = _local.conn = sqlite3.connect(os.environ["ANCHOR_DB"], timeout=30)
        conn.execute("PRAGMA journal_mode=WAL")
    return conn


@lru_cache(maxsize=64)
def _public_key(hex_value: str) -> Ed25519PublicKey:
    return slip_token.public_key_from_bytes(bytes.fromhex(hex_value))


@app.post("/api/v1/gate/releases", status_code=201)
def release(body: dict, request: Request, authorization: str = Header("")) -> dict:
    db = _db()
    digest = hashlib.sha256(authorization.removeprefix("Bearer ").encode()).hexdigest()
    device = db.execute("SELECT id, name, estate_id FROM devices WHERE token_digest = ?", (digest,)).fetchone()
    if device is None:
        raise HTTPException(401)
    estate = db.execute("SELECT code FROM estates WHERE id = ?", (device[2],)).fetchone()[0]
    ring = {k: _public_key(p) for k, p in db.execute("SELECT id, public_key FROM slip_signing_keys")}
    now = datetime.now(UTC)
    try:
        claims = slip_token.verify(body["text"], ring, estate=estate, now=now)
    except slip_token.TokenError as exc:
        raise HTTPException(422, exc.code) from None
    slip = db.execute("SELECT id, state FROM release_slips WHERE number = ?", (claims.number,)).fetchone()
    if slip is None or slip[1] != "issued":
        raise HTTPException(409)
    items = dict(db.execute("SELECT line, quantity FROM release_slip_items WHERE slip_id = ?", (slip[0],)))
    counted = {c["line"]: c["counted"] for c in body["lines"]}
    outcome = "released" if counted == items else "refused"
    at = now.replace(tzinfo=None).isoformat(" ")
    with db:
        changed = db.execute(
            "UPDATE release_slips SET state = ? WHERE id = ? AND state = 'issued'", (outcome, slip[0])
        ).rowcount
        if changed != 1:
            raise HTTPException(409)
        db.execute(
            "INSERT INTO slip_releases (slip_id, estate_id, device_id, gate, guard, outcome, reason, at, recorded_at,"
            " offline) VALUES (?, ?, ?, ?, ?, ?, '', ?, ?, 0)",
            (slip[0], device[2], device[0], device[1], body["guard"], outcome, at, at),
        )
    return {"number": claims.number, "outcome": outcome, "at": now.isoformat()}
