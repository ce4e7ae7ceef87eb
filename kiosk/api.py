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


class KioskApi(Protocol):
    def kiosk_services(self) -> KioskServicesOut: ...

    def catalogue(self) -> CatalogueOut: ...

    def identify(self, identity: KioskIdentify) -> KioskResident: ...

    def request_slip(self, request: SlipRequest, idempotency_key: str | None = None) -> SlipOut: ...

    def reprint(self, number: str, resident: MySlipsRequest) -> SlipOut: ...

    def my_slips(self, request: MySlipsRequest) -> MySlipsOut: ...
