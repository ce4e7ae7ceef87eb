"""What the gate needs of the server: the methods of `server.contract.client.EstateClient` it calls.

Flows depend on this protocol, so tests can put the real client (against a live server) or any object with the
same methods behind them. A transport failure (`httpx.TransportError`) means "no answer": the gate goes offline.
An `ApiError` is an answer.
"""

from __future__ import annotations

from datetime import date
from typing import Protocol

from server.contract.device import DeviceInfo, Heartbeat
from server.contract.passes import PassMovementOut, PassMovementRequest, WorkerPassOut
from server.contract.schemas import (
    GateCatalogueOut,
    GateEvent,
    GateSlipsOut,
    GateStopIn,
    GateStopOut,
    GuardOut,
    GuardRosterOut,
    GuardSignInRequest,
    KeysOut,
    ReleaseOut,
    ReleaseRequest,
    RevocationsOut,
    SyncOut,
    VerifyResult,
)


class GateApi(Protocol):
    def device(self) -> DeviceInfo: ...

    def heartbeat(self, beat: Heartbeat) -> None: ...

    def verify(self, text: str) -> VerifyResult: ...

    def check_pass(self, text: str) -> WorkerPassOut: ...

    def pass_movement(self, request: PassMovementRequest, idempotency_key: str | None = None) -> PassMovementOut: ...

    def release(self, request: ReleaseRequest, idempotency_key: str | None = None) -> ReleaseOut: ...

    def sync(self, events: list[GateEvent]) -> SyncOut: ...

    def keys(self, etag: str | None = None) -> tuple[KeysOut | None, str | None]: ...

    def revocations(self, etag: str | None = None) -> tuple[RevocationsOut | None, str | None]: ...

    def guard_sign_in(self, request: GuardSignInRequest) -> GuardOut: ...

    def guard_roster(self, etag: str | None = None) -> tuple[GuardRosterOut | None, str | None]: ...

    def day_slips(self, day: date | None = None, etag: str | None = None) -> tuple[GateSlipsOut | None, str | None]: ...

    def gate_catalogue(self, etag: str | None = None) -> tuple[GateCatalogueOut | None, str | None]: ...

    def stop_goods(self, request: GateStopIn, idempotency_key: str | None = None) -> GateStopOut: ...
