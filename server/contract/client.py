"""A typed HTTP client for the slip and gate API, used by kiosks and gates."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Mapping
from datetime import date
from typing import Any, TypeVar

import httpx
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey
from pydantic import BaseModel

from server.contract.cabinet import (
    CabinetEventsIn,
    CabinetEventsOut,
    CabinetLoanIn,
    CabinetLoanOut,
    CabinetRosterOut,
    CabinetSignIn,
    CabinetStaffOut,
    CabinetUnlocksOut,
)
from server.contract.device import DeviceInfo, Heartbeat
from server.contract.passes import PassCheckRequest, PassMovementOut, PassMovementRequest, WorkerPassOut
from server.contract.schemas import (
    CatalogueOut,
    GateCatalogueOut,
    GateEvent,
    GateSlipsOut,
    GateStopIn,
    GateStopOut,
    GuardOut,
    GuardRosterOut,
    GuardSignInRequest,
    KeysOut,
    KioskIdentify,
    KioskResident,
    KioskServicesOut,
    MySlipsOut,
    MySlipsRequest,
    ReleaseOut,
    ReleaseRequest,
    RevocationsOut,
    SlipOut,
    SlipRequest,
    SyncOut,
    SyncRequest,
    VerifyRequest,
    VerifyResult,
)
from server.contract.service import (
    CleaningBookingIn,
    FeedbackIn,
    FeedbackOut,
    MyRequestsOut,
    ReceiptLookupIn,
    RepairRequestIn,
    ServiceCatalogueOut,
    ServiceOrderOut,
    ServiceResidentIn,
    ServiceSlotsOut,
)
from server.contract.slip_token import public_key_from_bytes

M = TypeVar("M", bound=BaseModel)


# The error codes of a 401 that refuses the device itself (server.domain.devices.authenticate).
DEVICE_TOKEN_REFUSED = frozenset({"missing_device_token", "invalid_device_token"})
READS = frozenset({"GET", "HEAD", "OPTIONS"})


class ApiError(Exception):
    """The server refused: `code` is the error code (e.g. ``already_released``), `message` its Chinese text,
    `message_en` its English text (the Chinese one when the server sent none), `detail` any extra fields."""

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        detail: Mapping[str, Any] | None = None,
        *,
        message_en: str | None = None,
    ) -> None:
        super().__init__(f"{status} {code}: {message}")
        self.status, self.code, self.message = status, code, message
        self.message_en = message_en or message
        self.detail = dict(detail or {})

    def text(self, language: str) -> str:
        """The server's message in `language` ("en", otherwise Chinese)."""
        return self.message_en if language == "en" else self.message

    @property
    def token_refused(self) -> bool:
        """The server refused this device's bearer token (missing, unknown or revoked). Other 401s, such as a
        guard's wrong PIN (``guard_unknown``), are answers about the request, not about the device."""
        return self.status == 401 and self.code in DEVICE_TOKEN_REFUSED


class EstateClient:
    """The device API as methods. `transport` lets tests talk to an app in-process (httpx.ASGITransport-like)."""

    def __init__(
        self,
        base_url: str,
        token: str,
        *,
        timeout: float = 5.0,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        self._http = httpx.Client(
            base_url=base_url.rstrip("/") + "/api/v1",
            headers={"Authorization": f"Bearer {token}"},
            timeout=timeout,
            transport=transport,
        )

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> EstateClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def _call(
        self,
        method: str,
        path: str,
        body: BaseModel | None = None,
        *,
        idempotency_key: str | None = None,
        **kwargs: Any,
    ) -> httpx.Response:
        """Every write carries an Idempotency-Key: `idempotency_key` when the caller resends a write whose answer was
        lost (the server then answers it again and records nothing more), else a fresh one."""
        content = body.model_dump_json().encode() if body is not None else None
        headers = {"content-type": "application/json", **kwargs.pop("headers", {})}
        if method not in READS:
            headers["Idempotency-Key"] = idempotency_key or uuid.uuid4().hex
        response = self._http.request(method, path, content=content, headers=headers, **kwargs)
        if response.status_code >= 400:
            try:
                error = response.json()["error"]
                code, message = str(error.pop("code")), str(error.pop("message"))
                message_en = error.pop("message_en", None)
            except (ValueError, KeyError, TypeError, AttributeError):
                code, message, error, message_en = "http_error", response.text[:200], {}, None
            raise ApiError(response.status_code, code, message, error, message_en=message_en)
        return response

    @staticmethod
    def _as(model: type[M], response: httpx.Response) -> M:
        return model.model_validate_json(response.content)

    def device(self) -> DeviceInfo:
        """This device as the server knows it: kind, name, estate and its time zone."""
        return self._as(DeviceInfo, self._call("GET", "/device"))

    def heartbeat(self, beat: Heartbeat) -> None:
        """Report the device's software and its peripherals' state (e.g. the printer out of paper)."""
        self._call("POST", "/device/heartbeat", beat)

    def request_slip(self, request: SlipRequest, idempotency_key: str | None = None) -> SlipOut:
        """Ask for a slip; a retry with the same `idempotency_key` gets the same slip, never a second one."""
        return self._as(SlipOut, self._call("POST", "/slips", request, idempotency_key=idempotency_key))

    def reprint(self, number: str, resident: MySlipsRequest) -> SlipOut:
        """Print one's own unused slip again; the resident proves who they are as for `my_slips`."""
        return self._as(SlipOut, self._call("POST", f"/slips/{number}/reprint", resident))

    def identify(self, identity: KioskIdentify) -> KioskResident:
        """The resident a card or unit+PIN belongs to; ApiError ``unknown_card``, ``wrong_pin`` or ``pin_locked``."""
        return self._as(KioskResident, self._call("POST", "/residents/identify", identity))

    def kiosk_services(self) -> KioskServicesOut:
        return self._as(KioskServicesOut, self._call("GET", "/kiosk/services"))

    def catalogue(self) -> CatalogueOut:
        return self._as(CatalogueOut, self._call("GET", "/kiosk/catalogue"))

    def my_slips(self, request: MySlipsRequest) -> MySlipsOut:
        return self._as(MySlipsOut, self._call("POST", "/kiosk/my-slips", request))

    def service_catalogue(self) -> ServiceCatalogueOut:
        """Repair categories and common problems, cleaning services (with listed prices), feedback categories, and
        which of the services the estate offers."""
        return self._as(ServiceCatalogueOut, self._call("GET", "/service/catalogue"))

    def service_slots(self, kind: str, days: int | None = None) -> ServiceSlotsOut:
        """The bookable visit times for `kind` ("repair" or "cleaning") on the next working days."""
        params: dict[str, Any] = {"kind": kind, **({"days": days} if days else {})}
        return self._as(ServiceSlotsOut, self._call("GET", "/service/slots", params=params))

    def request_repair(self, request: RepairRequestIn, idempotency_key: str | None = None) -> ServiceOrderOut:
        """Open a repair request; a retry with the same `idempotency_key` gets the same order, never a second."""
        response = self._call("POST", "/service/repairs", request, idempotency_key=idempotency_key)
        return self._as(ServiceOrderOut, response)

    def book_cleaning(self, request: CleaningBookingIn, idempotency_key: str | None = None) -> ServiceOrderOut:
        """Book a home cleaning in an offered slot; ApiError ``slot_full`` when it was booked up meanwhile."""
        response = self._call("POST", "/service/cleanings", request, idempotency_key=idempotency_key)
        return self._as(ServiceOrderOut, response)

    def give_feedback(self, request: FeedbackIn, idempotency_key: str | None = None) -> FeedbackOut:
        response = self._call("POST", "/service/feedback", request, idempotency_key=idempotency_key)
        return self._as(FeedbackOut, response)

    def my_requests(self, resident: ServiceResidentIn) -> MyRequestsOut:
        """The resident's own orders and feedback as they stand."""
        return self._as(MyRequestsOut, self._call("POST", "/service/my-requests", resident))

    def withdraw_request(
        self, number: str, resident: ServiceResidentIn, idempotency_key: str | None = None
    ) -> ServiceOrderOut:
        """Withdraw one's own request not yet taken up; ApiError ``wrong_state`` once it has been."""
        response = self._call("POST", f"/service/requests/{number}/withdraw", resident, idempotency_key=idempotency_key)
        return self._as(ServiceOrderOut, response)

    def order_by_receipt(self, code: str) -> ServiceOrderOut:
        """The order a printed confirmation's QR code names, as it stands; ApiError ``receipt_unknown`` otherwise."""
        return self._as(ServiceOrderOut, self._call("POST", "/service/receipt", ReceiptLookupIn(code=code)))

    def verify(self, text: str) -> VerifyResult:
        """The slip a scanned code or typed number names; a rejection raises ApiError with its code."""
        return self._as(VerifyResult, self._call("POST", "/gate/verify", VerifyRequest(text=text)))

    def release(self, request: ReleaseRequest, idempotency_key: str | None = None) -> ReleaseOut:
        response = self._call("POST", "/gate/releases", request, idempotency_key=idempotency_key)
        return self._as(ReleaseOut, response)

    def check_pass(self, text: str) -> WorkerPassOut:
        """The worker pass a scanned code names, if it may come in now; a refusal raises ApiError with its code."""
        return self._as(WorkerPassOut, self._call("POST", "/gate/passes/check", PassCheckRequest(text=text)))

    def pass_movement(self, request: PassMovementRequest, idempotency_key: str | None = None) -> PassMovementOut:
        """A worker came in or went out on a pass (checked again by the server)."""
        response = self._call("POST", "/gate/passes/movements", request, idempotency_key=idempotency_key)
        return self._as(PassMovementOut, response)

    def sync(self, events: list[GateEvent]) -> SyncOut:
        return self._as(SyncOut, self._call("POST", "/gate/sync", SyncRequest(events=events)))

    def _cached(self, path: str, etag: str | None) -> httpx.Response | None:
        response = self._call("GET", path, headers={"If-None-Match": etag} if etag else {})
        return None if response.status_code == 304 else response

    def cabinet_events(self, events: CabinetEventsIn, idempotency_key: str) -> CabinetEventsOut:
        """Upload a batch of cabinet events; resending the same batch with the same key records it once."""
        response = self._call("POST", "/cabinet/events", events, idempotency_key=idempotency_key)
        return self._as(CabinetEventsOut, response)

    def cabinet_sign_in(self, request: CabinetSignIn) -> CabinetStaffOut:
        """The member of staff whose card or PIN this is; ApiError ``staff_unknown`` or ``login_throttled``."""
        return self._as(CabinetStaffOut, self._call("POST", "/cabinet/sign-in", request))

    def cabinet_roster(self, etag: str | None = None) -> tuple[CabinetRosterOut | None, str | None]:
        """The staff who may sign in at the cabinet, with their credential hashes, or None when `etag` is current."""
        response = self._cached("/cabinet/roster", etag)
        if response is None:
            return None, etag
        return self._as(CabinetRosterOut, response), response.headers.get("etag")

    def cabinet_unlocks(self, etag: str | None = None) -> tuple[CabinetUnlocksOut | None, str | None]:
        """The unlocks the server authorised and still waiting, or None when `etag` is current."""
        response = self._cached("/cabinet/unlocks", etag)
        if response is None:
            return None, etag
        return self._as(CabinetUnlocksOut, response), response.headers.get("etag")

    def cabinet_loan(self, request: CabinetLoanIn, idempotency_key: str | None = None) -> CabinetLoanOut:
        """Register a loan for the member of staff signed in at the cabinet; the answer carries its one unlock."""
        response = self._call("POST", "/cabinet/loans", request, idempotency_key=idempotency_key)
        return self._as(CabinetLoanOut, response)

    def keys(self, etag: str | None = None) -> tuple[KeysOut | None, str | None]:
        """The published public keys, or None when `etag` is still current; and the ETag to send next time."""
        response = self._cached("/gate/keys", etag)
        if response is None:
            return None, etag
        return self._as(KeysOut, response), response.headers.get("etag")

    def revocations(self, etag: str | None = None) -> tuple[RevocationsOut | None, str | None]:
        response = self._cached("/gate/revocations", etag)
        if response is None:
            return None, etag
        return self._as(RevocationsOut, response), response.headers.get("etag")

    def guard_sign_in(self, request: GuardSignInRequest) -> GuardOut:
        """The guard whose PIN or card this is; ApiError ``guard_unknown`` or ``login_throttled`` otherwise."""
        return self._as(GuardOut, self._call("POST", "/gate/guards/sign-in", request))

    def guard_roster(self, etag: str | None = None) -> tuple[GuardRosterOut | None, str | None]:
        """The estate's guards with their credential hashes (for offline sign-in), or None when `etag` is current."""
        response = self._cached("/gate/guards", etag)
        if response is None:
            return None, etag
        return self._as(GuardRosterOut, response), response.headers.get("etag")

    def gate_catalogue(self, etag: str | None = None) -> tuple[GateCatalogueOut | None, str | None]:
        """The estate's item catalogue in both languages (for names offline), or None when `etag` is current."""
        response = self._cached("/gate/catalogue", etag)
        if response is None:
            return None, etag
        return self._as(GateCatalogueOut, response), response.headers.get("etag")

    def stop_goods(self, request: GateStopIn, idempotency_key: str | None = None) -> GateStopOut:
        """Goods stopped at the gate with no slip, for the gate release log."""
        response = self._call("POST", "/gate/stops", request, idempotency_key=idempotency_key)
        return self._as(GateStopOut, response)

    def day_slips(self, day: date | None = None, etag: str | None = None) -> tuple[GateSlipsOut | None, str | None]:
        """The slips a gate may meet on `day` (today by default), or None when `etag` is current."""
        params = {"day": day.isoformat()} if day else {}
        response = self._call("GET", "/gate/slips", params=params, headers={"If-None-Match": etag} if etag else {})
        if response.status_code == 304:
            return None, etag
        return self._as(GateSlipsOut, response), response.headers.get("etag")


def key_ring(keys: KeysOut) -> dict[int, Ed25519PublicKey]:
    """Public keys by key id, ready for `slip_token.verify`."""
    return {
        k.key_id: public_key_from_bytes(base64.urlsafe_b64decode(k.public_key + "=" * (-len(k.public_key) % 4)))
        for k in keys.keys
    }
