"""A small HTTP server speaking the cabinet's side of the device API as `server.contract.cabinet` describes it
(roster and unlocks with ETags, sign-in, loans and events with Idempotency-Keys, the error body), served by uvicorn
for the agent's real client. It stands in for the server's routes until they exist; it keeps what it was sent, so a
test can count it."""

from __future__ import annotations

import hashlib
import threading
import uuid
from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import FastAPI, Header, Request
from fastapi.responses import JSONResponse, Response

from server.contract.cabinet import (
    CabinetEventsIn,
    CabinetEventsOut,
    CabinetLoanIn,
    CabinetLoanOut,
    CabinetRosterOut,
    CabinetSignIn,
    CabinetStaffEntry,
    CabinetStaffOut,
    CabinetUnlock,
    CabinetUnlocksOut,
)
from server.contract.guard_secret import hash_secret, verify_secret

TOKEN = "edt_cabinet-test"
PURPOSES = ("viewing", "rectification", "engineering", "sales_viewing", "move_in")


@dataclass(frozen=True)
class StaffMember:
    id: int
    username: str
    display_name: str
    role: str
    pin: str | None
    card: str | None


@dataclass(frozen=True)
class KeyHome:
    label: str
    tag: str
    board: int
    slot: int


def _error(status: int, code: str, message: str, message_en: str) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message, "message_en": message_en}}, status_code=status)


def hashed(staff: list[StaffMember]) -> list[CabinetStaffEntry]:
    """The roster entries of `staff`, with the hashes the server stores (scrypt is slow on purpose: make them once)."""
    return [
        CabinetStaffEntry(
            id=s.id,
            username=s.username,
            display_name=s.display_name,
            role=s.role,
            pin_hash=hash_secret(s.pin) if s.pin else None,
            card_hash=hash_secret(s.card) if s.card else None,
        )
        for s in staff
    ]


@dataclass
class EstateDouble:
    """What the stand-in server knows and what it was sent."""

    entries: list[CabinetStaffEntry]
    keys: list[KeyHome] = field(default_factory=list)
    unlocks: list[CabinetUnlock] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    loans: list[CabinetLoanIn] = field(default_factory=list)
    calls: Counter[str] = field(default_factory=Counter)
    _answers: dict[tuple[str, str], JSONResponse] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def authorise(
        self, staff_id: int, board: int, slot: int, label: str, *, expires_in: timedelta = timedelta(hours=1)
    ) -> CabinetUnlock:
        """An unlock waiting at the cabinet, as a loan registered in the console makes one."""
        unlock = CabinetUnlock(
            request_id=f"unlock-{uuid.uuid4().hex[:12]}",
            board=board,
            slot=slot,
            loan_id=len(self.unlocks) + 1,
            key_label=label,
            staff_ids=[staff_id],
            expires_at=datetime.now(UTC) + expires_in,
        )
        with self._lock:
            self.unlocks.append(unlock)
        return unlock

    def event_names(self) -> list[str]:
        with self._lock:
            return [e["event"] for e in self.events]

    def roster(self) -> CabinetRosterOut:
        return CabinetRosterOut(estate="GH", staff=self.entries)

    def app(self) -> FastAPI:
        app = FastAPI()

        @app.middleware("http")
        async def device_token(request: Request, call_next: Any) -> Response:
            if request.headers.get("authorization") != f"Bearer {TOKEN}":
                return _error(401, "invalid_device_token", "设备令牌无效", "the device token is not valid")
            self.calls[f"{request.method} {request.url.path}"] += 1
            response: Response = await call_next(request)
            return response

        def cached(body: str, if_none_match: str | None) -> Response:
            etag = '"' + hashlib.sha256(body.encode()).hexdigest()[:16] + '"'
            if if_none_match == etag:
                return Response(status_code=304, headers={"ETag": etag})
            return Response(body, media_type="application/json", headers={"ETag": etag})

        @app.get("/api/v1/cabinet/roster")
        def roster(if_none_match: str | None = Header(None)) -> Response:
            return cached(self.roster().model_dump_json(), if_none_match)

        @app.get("/api/v1/cabinet/unlocks")
        def unlocks(if_none_match: str | None = Header(None)) -> Response:
            with self._lock:
                body = CabinetUnlocksOut(unlocks=list(self.unlocks)).model_dump_json()
            return cached(body, if_none_match)

        @app.post("/api/v1/cabinet/sign-in")
        def sign_in(body: CabinetSignIn) -> Any:
            for entry in self.entries:
                if body.card is not None and entry.card_hash and verify_secret(entry.card_hash, body.card):
                    break
                if (
                    body.pin is not None
                    and entry.username == body.username
                    and entry.pin_hash
                    and verify_secret(entry.pin_hash, body.pin)
                ):
                    break
            else:
                return _error(401, "staff_unknown", "卡号或 PIN 不对", "unknown card, or a wrong PIN")
            return CabinetStaffOut(
                id=entry.id, username=entry.username, display_name=entry.display_name, role=entry.role
            )

        @app.post("/api/v1/cabinet/loans")
        def loan(body: CabinetLoanIn, idempotency_key: str | None = Header(None)) -> Any:
            if not idempotency_key:
                return _error(400, "idempotency_key_required", "缺少 Idempotency-Key", "Idempotency-Key is required")
            kept = self._answers.get(("loan", idempotency_key))
            if kept is not None:
                return kept
            if body.purpose not in PURPOSES:
                return _error(422, "bad_purpose", f"借用用途 {body.purpose!r} 不在登记表里", "not a register purpose")
            home = next((k for k in self.keys if body.key in (k.label, k.tag)), None)
            if home is None:
                return _error(404, "unknown_key", f"没有钥匙 {body.key}", f"no key {body.key!r}")
            with self._lock:
                self.loans.append(body)
                unlock = CabinetUnlock(
                    request_id=f"loan-{len(self.loans)}-{uuid.uuid4().hex[:8]}",
                    board=home.board,
                    slot=home.slot,
                    loan_id=100 + len(self.loans),
                    key_label=home.label,
                    staff_ids=[body.staff_id],
                    expires_at=datetime.now(UTC) + timedelta(minutes=10),
                )
                self.unlocks.append(unlock)
            out = CabinetLoanOut(loan_id=unlock.loan_id, state="requested", due_at=body.due_at, unlock=unlock)
            answer = JSONResponse(out.model_dump(mode="json"), status_code=201)
            self._answers[("loan", idempotency_key)] = answer
            return answer

        @app.post("/api/v1/cabinet/events")
        def events(body: CabinetEventsIn, idempotency_key: str | None = Header(None)) -> Any:
            if not idempotency_key:
                return _error(400, "idempotency_key_required", "缺少 Idempotency-Key", "Idempotency-Key is required")
            with self._lock:
                kept = self._answers.get(("events", idempotency_key))
                if kept is not None:
                    return kept
                self.events += [e.model_dump(mode="json") for e in body.events]
                out = CabinetEventsOut(recorded=len(body.events), alerts=0)
                answer = JSONResponse(out.model_dump(mode="json"), status_code=201)
                self._answers[("events", idempotency_key)] = answer
            return answer

        return app
