"""Staff at the cabinet and the unlocks the server authorised for them (R-KEY-5, R-KEY-12).

- Sign-in by card or username and PIN (`cabinet.panel`): asked of the server while it answers, else checked against
  the synced roster (`cabinet.staff`), as the gate signs guards in.
- On sign-in, the unlocks waiting for that person (`cabinet.unlocks`) are carried out, each through the unlock
  ledger with the server's request id: one frame per id, ever, so the door's `door_opened` event names the request.
  An expired unlock is not carried out. One the line could not send (`not_sent`) is tried again once the line is
  back, while the person is still signed in.
- `borrow` asks the server for a loan for the signed-in person (`POST /cabinet/loans`); the one unlock in its answer
  is carried out the same way.
- Sign-out by command, by the next person's sign-in, or after `idle_after` seconds with nothing typed.

Every change of state is one line in the log (stderr); sign-ins and sign-outs also go to the server with the
cabinet's events, so the record says who was at the cabinet when a door opened.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Protocol

from pydantic import ValidationError

from cabinet.link import Link, ServerAway
from cabinet.panel import Borrow, PanelError, SignIn, SignOut, parse
from cabinet.staff import RosterSource, SignedIn, StaffRoster
from cabinet.unlocks import UnlockBook, UnlockSource
from devices.cabinet.errors import CabinetError
from devices.cabinet.events import BoardOffline, BoardOnline, CabinetEvent, DoorNotOpened, DoorOpened
from devices.cabinet.ledger import UnlockLedger, UnlockOutcome, UnlockResult
from server.contract.cabinet import (
    CabinetEventIn,
    CabinetLoanIn,
    CabinetLoanOut,
    CabinetSignIn,
    CabinetStaffOut,
    CabinetUnlock,
)
from server.contract.client import ApiError
from server.contract.fields import to_utc

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
Report = Callable[[CabinetEventIn], None]
LOAN_TRIES = 3  # a loan request whose answer was lost is asked again, under the same Idempotency-Key
RETRY_NOT_SENT = 2.0  # an unlock the line could not send is tried again this soon (or when the board is back)


class CabinetApi(RosterSource, UnlockSource, Protocol):
    def cabinet_sign_in(self, request: CabinetSignIn) -> CabinetStaffOut: ...

    def cabinet_loan(self, request: CabinetLoanIn, idempotency_key: str | None = None) -> CabinetLoanOut: ...


class Door(Protocol):
    """The lock-board driver, as far as the agent opens doors with it."""

    ledger: UnlockLedger

    def open_slot(self, board: int, slot: int, request_id: str) -> UnlockResult: ...


def utc_now() -> datetime:
    return datetime.now(UTC)


def _fit(text: str, limit: int = 200) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"


class CabinetControl:
    def __init__(
        self,
        api: CabinetApi,
        door: Door,
        roster: StaffRoster,
        book: UnlockBook,
        report: Report,
        *,
        link: Link | None = None,
        clock: Clock = utc_now,
        idle_after: float = 120.0,
        sync_every: float = 60.0,
        offline_retry: float = 10.0,
    ) -> None:
        self.api = api
        self.door = door
        self.roster = roster
        self.book = book
        self.report = report
        self.link = link or Link()
        self.clock = clock
        self.idle_after = idle_after
        self.sync_every = sync_every
        self.offline_retry = offline_retry
        self.signed_in: SignedIn | None = None
        self.wake: Callable[[], None] = lambda: None  # the background worker's, once it runs
        self._lock = threading.RLock()
        self._last_input = time.monotonic()
        self._next_sync = 0.0  # at once
        self._retry_at: float | None = None
        self._told_expired: set[str] = set()

    # The panel ---------------------------------------------------------------------------------------------------
    def take_line(self, line: str) -> None:
        """One line from the panel (on the panel's thread)."""
        try:
            command = parse(line)
        except PanelError as exc:
            log.warning("panel: %s", exc)
            return
        if command is None:
            return
        with self._lock:
            self._last_input = time.monotonic()
            if isinstance(command, SignIn):
                self.sign_in(command.request, command.how)
            elif isinstance(command, Borrow):
                self.borrow(command)
            elif isinstance(command, SignOut):
                if self.signed_in is None:
                    log.info("panel: nobody is signed in")
                else:
                    self.sign_out("signed out at the panel")
        self.wake()  # the idle sign-out is counted from now

    # Signing in and out ------------------------------------------------------------------------------------------
    def sign_in(self, request: CabinetSignIn, how: str) -> SignedIn | None:
        """Sign a person in and carry out the unlocks waiting for them; None (and a line in the log) if refused."""
        with self._lock:
            staff, offline = None, False
            if self.link.online is not False:
                try:
                    staff = self.link.ask(lambda: self.api.cabinet_sign_in(request))
                except ServerAway:
                    pass
                except ApiError as exc:
                    log.warning("sign-in by %s refused: %s / %s (%s)", how, exc.message, exc.message_en, exc.code)
                    return None
            if staff is None:
                offline = True
                staff = self.roster.match(request)
                if staff is None:
                    why = "not on the synced staff roster" if self.roster.synced else "no staff roster synced yet"
                    log.warning("sign-in by %s refused while the server is away: %s", how, why)
                    return None
            if self.signed_in is not None and self.signed_in.staff.id != staff.id:
                self.sign_out(f"{staff.display_name} signed in")
            person = SignedIn(staff, how, offline, self.clock())
            self.signed_in = person
            self._last_input = time.monotonic()
            log.info("signed in: %s by %s%s", person, how, " (offline, from the synced roster)" if offline else "")
            way = f"by {how}, offline" if offline else f"by {how}"
            self._report("staff_signed_in", f"{staff.username} (staff {staff.id}) {way}")
            if not offline:
                self._sync_unlocks()  # a loan registered a moment ago in the console opens now
            self.run_waiting()
            return person

    def sign_out(self, why: str) -> None:
        with self._lock:
            person, self.signed_in = self.signed_in, None
            if person is None:
                return
            log.info("signed out: %s (%s)", person, why)
            self._report("staff_signed_out", f"{person.staff.username} (staff {person.staff.id}): {why}")

    def _report(self, event: str, reason: str) -> None:
        self.report(CabinetEventIn(event=event, board=0, at=self.clock(), reason=_fit(reason)))

    # Unlocks -----------------------------------------------------------------------------------------------------
    def run_waiting(self) -> list[UnlockResult]:
        """Carry out the unlocks waiting for the signed-in person that no frame has gone out for yet."""
        with self._lock:
            person = self.signed_in
            if person is None:
                return []
            results = []
            for unlock in self.book.for_staff(person.staff.id):
                if self.door.ledger.known(unlock.request_id) is not None:
                    continue  # carried out before (by this agent, before a restart, or by a technician's command)
                result = self._execute(unlock, person)
                if result is not None:
                    results.append(result)
            return results

    def _execute(self, unlock: CabinetUnlock, person: SignedIn) -> UnlockResult | None:
        what = (
            f"unlock {unlock.request_id} of board {unlock.board} slot {unlock.slot} for key {unlock.key_label!r} "
            f"(loan {unlock.loan_id})"
        )
        if person.staff.id not in unlock.staff_ids:
            log.warning("%s is not authorised for %s: not carried out", what, person)
            return None
        if to_utc(unlock.expires_at) <= self.clock():
            if unlock.request_id not in self._told_expired:
                self._told_expired.add(unlock.request_id)
                log.warning("%s expired at %s: not carried out", what, to_utc(unlock.expires_at).isoformat())
            return None
        try:
            result = self.door.open_slot(unlock.board, unlock.slot, unlock.request_id)
        except (ValueError, CabinetError) as exc:
            log.error("%s cannot be carried out: %s", what, exc)
            return None
        if result.duplicate:
            log.info("%s was carried out before (%s): not sent again", what, result.outcome.value)
        elif result.outcome is UnlockOutcome.ACCEPTED:
            log.info("%s sent for %s: accepted by the board", what, person)
        elif result.outcome is UnlockOutcome.UNCONFIRMED:
            log.warning(
                "%s sent for %s, unconfirmed (%s): the door may open; never sent again", what, person, result.detail
            )
        else:
            log.warning("%s not sent (%s): tried again once the line is back", what, result.detail)
            self._retry_at = time.monotonic() + RETRY_NOT_SENT
            self.wake()
        return result

    def borrow(self, command: Borrow) -> UnlockResult | None:
        """The signed-in person borrows a key: the server registers the loan, its one unlock is carried out."""
        with self._lock:
            person = self.signed_in
            if person is None:
                log.warning("borrow: sign in first (请先刷卡或输入 PIN 登录)")
                return None
            now = self.clock()
            due = now + timedelta(hours=command.hours) if command.hours is not None else None
            try:
                request = CabinetLoanIn(staff_id=person.staff.id, key=command.key, purpose=command.purpose, due_at=due)
            except ValidationError as exc:
                log.warning("borrow: %s", "; ".join(str(e["msg"]) for e in exc.errors()))
                return None
            answer = self._ask_loan(request)
            if answer is None:
                return None
            unlock = answer.unlock
            due_text = answer.due_at.isoformat() if answer.due_at else "no due time"
            log.info(
                "loan %d of key %r registered for %s (%s, due %s)",
                answer.loan_id,
                unlock.key_label,
                person,
                command.purpose,
                due_text,
            )
            self.book.add(unlock, now)
            return self._execute(unlock, person)

    def _ask_loan(self, request: CabinetLoanIn) -> CabinetLoanOut | None:
        key = uuid.uuid4().hex
        for attempt in range(1, LOAN_TRIES + 1):
            try:
                return self.link.ask(lambda: self.api.cabinet_loan(request, idempotency_key=key))
            except ApiError as exc:
                log.warning("borrow refused: %s / %s (%s)", exc.message, exc.message_en, exc.code)
                return None
            except ServerAway as exc:
                if not exc.maybe_sent or attempt == LOAN_TRIES:
                    log.warning(
                        "borrow: the server is away (%s); a loan at the cabinet needs it, loans registered in the "
                        "console open here offline too (服务器不可用)",
                        exc,
                    )
                    return None
        return None

    # Background: sync, retries, idle sign-out -------------------------------------------------------------------
    def _sync_unlocks(self) -> bool:
        try:
            return self.link.ask(lambda: self.book.sync(self.api, self.clock()))
        except ServerAway:
            return False
        except ApiError as exc:
            log.warning("unlocks not synced: %s", exc)
            return False

    def sync(self) -> bool:
        """Download what changed of the roster and the waiting unlocks; True when the unlocks changed."""
        try:
            self.link.ask(lambda: self.roster.sync(self.api, self.clock()))
        except ServerAway:
            return False
        except ApiError as exc:
            log.warning("staff roster not synced: %s", exc)
        return self._sync_unlocks()

    def on_event(self, event: CabinetEvent) -> None:
        """The driver's events (on its polling thread): the loop closing, and a board back for a retry."""
        if isinstance(event, DoorOpened) and event.request_id is not None:
            log.info("door %d-%d opened for unlock %s", event.board, event.slot, event.request_id)
        elif isinstance(event, DoorNotOpened):
            log.warning("door %d-%d not seen open after unlock %s", event.board, event.slot, event.request_id)
        elif isinstance(event, BoardOffline):
            log.warning("board %d offline: %s", event.board, event.reason)
        elif isinstance(event, BoardOnline):
            log.info("board %d online", event.board)
            self._retry_at = time.monotonic()
            self.wake()

    def tick(self) -> float:
        """One round of background work; the seconds until the next is due."""
        now = time.monotonic()
        changed = False
        if now >= self._next_sync:
            changed = self.sync()
            self._next_sync = time.monotonic() + (self.sync_every if self.link.online else self.offline_retry)
        with self._lock:
            now = time.monotonic()
            if self.signed_in is not None and now - self._last_input >= self.idle_after:
                self.sign_out(f"nothing typed for {self.idle_after:g} s")
            retry_due = self._retry_at is not None and now >= self._retry_at
            if retry_due:
                self._retry_at = None
            if (changed or retry_due) and self.signed_in is not None:
                self.run_waiting()
            deadlines = [self._next_sync]
            if self.signed_in is not None:
                deadlines.append(self._last_input + self.idle_after)
            if self._retry_at is not None:
                deadlines.append(self._retry_at)
            return max(0.01, min(deadlines) - time.monotonic())
