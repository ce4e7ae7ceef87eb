"""Who may sign in at the cabinet: the roster the server publishes (`GET /cabinet/roster`, with ETag), kept on disk,
and the offline check of a card or PIN against its salted scrypt hashes (`server.contract.guard_secret`), the same
check the server makes."""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from cabinet.cache import Cached
from server.contract.cabinet import CabinetRosterOut, CabinetSignIn, CabinetStaffOut
from server.contract.guard_secret import verify_secret

log = logging.getLogger(__name__)


class RosterSource(Protocol):
    def cabinet_roster(self, etag: str | None = None) -> tuple[CabinetRosterOut | None, str | None]: ...


@dataclass(frozen=True)
class SignedIn:
    """The person at the cabinet: `offline` when checked against the synced roster, the server being away."""

    staff: CabinetStaffOut
    how: str  # card | pin
    offline: bool
    at: datetime

    def __str__(self) -> str:
        return f"{self.staff.display_name} ({self.staff.username}, staff {self.staff.id})"


class StaffRoster:
    """The synced roster. `sync` downloads what changed; `match` checks a card or PIN against it."""

    def __init__(self, cache: Cached[CabinetRosterOut]) -> None:
        self.cache = cache

    @property
    def synced(self) -> bool:
        return self.cache.value is not None

    def sync(self, api: RosterSource, now: datetime) -> bool:
        """Download the roster if it changed; True when it did. Raises what the call raises."""
        roster, etag = api.cabinet_roster(self.cache.etag)
        if roster is None:
            self.cache.checked(now)
            return False
        self.cache.save(roster, etag, now)
        log.info("staff roster synced: %d may sign in at the cabinet", len(roster.staff))
        return True

    def match(self, request: CabinetSignIn) -> CabinetStaffOut | None:
        """The member of staff whose card, or username and PIN, this is, on the synced roster."""
        roster = self.cache.value
        for entry in roster.staff if roster is not None else []:
            if request.pin is not None:
                if entry.username != request.username or not entry.pin_hash:
                    continue
                matched = verify_secret(entry.pin_hash, request.pin)
            elif request.card is not None and entry.card_hash:
                matched = verify_secret(entry.card_hash, request.card)
            else:
                continue
            if matched:
                return CabinetStaffOut(
                    id=entry.id, username=entry.username, display_name=entry.display_name, role=entry.role
                )
        return None
