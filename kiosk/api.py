"""The part of the server's device API the kiosk uses; `server.contract.client.EstateClient` satisfies it."""

from __future__ import annotations

from typing import Protocol

from server.contract.schemas import (
    CatalogueOut,
    KioskIdentify,
    KioskResident,
    KioskServicesOut,
    MySlipsOut,
    MySlipsRequest,
    SlipOut,
    SlipRequest,
)
from server.contract.service import (
    CleaningBookingIn,
    FeedbackIn,
    FeedbackOut,
    MyRequestsOut,
    RepairRequestIn,
    ServiceCatalogueOut,
    ServiceOrderOut,
    ServiceResidentIn,
    ServiceSlotsOut,
)


class KioskApi(Protocol):
    def kiosk_services(self) -> KioskServicesOut: ...

    def catalogue(self) -> CatalogueOut: ...

    def identify(self, identity: KioskIdentify) -> KioskResident: ...

    def request_slip(self, request: SlipRequest, idempotency_key: str | None = None) -> SlipOut: ...

    def reprint(self, number: str, resident: MySlipsRequest) -> SlipOut: ...

    def my_slips(self, request: MySlipsRequest) -> MySlipsOut: ...

    def service_catalogue(self) -> ServiceCatalogueOut: ...

    def service_slots(self, kind: str, days: int | None = None) -> ServiceSlotsOut: ...

    def request_repair(self, request: RepairRequestIn, idempotency_key: str | None = None) -> ServiceOrderOut: ...

    def book_cleaning(self, request: CleaningBookingIn, idempotency_key: str | None = None) -> ServiceOrderOut: ...

    def give_feedback(self, request: FeedbackIn, idempotency_key: str | None = None) -> FeedbackOut: ...

    def my_requests(self, resident: ServiceResidentIn) -> MyRequestsOut: ...

    def withdraw_request(
        self, number: str, resident: ServiceResidentIn, idempotency_key: str | None = None
    ) -> ServiceOrderOut: ...

    def order_by_receipt(self, code: str) -> ServiceOrderOut: ...
