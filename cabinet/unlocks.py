"""The unlocks the server authorised and that wait for someone to sign in at this cabinet (`GET /cabinet/unlocks`,
with ETag), kept on disk so they open after a restart without the network. Whether one was already carried out is
the unlock ledger's to say (`devices.cabinet.ledger`), not this list's."""

from __future__ import annotations

import logging
from datetime import datetime
from typing import Protocol

from cabinet.cache import Cached
from server.contract.cabinet import CabinetUnlock, CabinetUnlocksOut

log = logging.getLogger(__name__)


class UnlockSource(Protocol):
    def cabinet_unlocks(self, etag: str | None = None) -> tuple[CabinetUnlocksOut | None, str | None]: ...


class UnlockBook:
    def __init__(self, cache: Cached[CabinetUnlocksOut]) -> None:
        self.cache = cache

    def sync(self, api: UnlockSource, now: datetime) -> bool:
        """Download the waiting unlocks if they changed; True when they did. Raises what the call raises."""
        unlocks, etag = api.cabinet_unlocks(self.cache.etag)
        if unlocks is None:
            self.cache.checked(now)
            return False
        self.cache.save(unlocks, etag, now)
        log.info("unlocks synced: %d waiting at this cabinet", len(unlocks.unlocks))
        return True

    def add(self, unlock: CabinetUnlock, now: datetime) -> None:
        """An unlock the server handed over in its answer (a loan taken at the cabinet), kept with the rest until
        the next download replaces them all (the ETag is dropped, so that download brings the whole list)."""
        kept = self.cache.value.unlocks if self.cache.value is not None else []
        others = [u for u in kept if u.request_id != unlock.request_id]
        self.cache.save(CabinetUnlocksOut(unlocks=[*others, unlock]), None, now)

    def for_staff(self, staff_id: int) -> list[CabinetUnlock]:
        """The unlocks this member of staff may open, in the server's order."""
        kept = self.cache.value.unlocks if self.cache.value is not None else []
        return [u for u in kept if staff_id in u.staff_ids]
