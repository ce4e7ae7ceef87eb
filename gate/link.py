"""The gate's link to the server: online checks with a short timeout and an offline fall-back, releases recorded
online or queued in the outbox, the guard roster and the day's slips, and the background sync.

A slip is checked here, with the public keys, revocations and day's slips the gate keeps; online, the release is one
call whose answer is the server's verdict (a slip used at another gate a moment ago is refused then).

Online or offline is decided by outcomes and by the background sync's heartbeat: any answer from the server (even
a refusal) means online; no answer (`httpx.TransportError`) means offline until the background sync reaches the
server again. A 401 means the server no longer knows this gate's device token (revoked, or a new one issued): the
gate works as if offline and says so until it is enrolled again. While offline, checks go straight to the local
verifier so a guard never waits for a timeout per scan.

Every release, refusal and turned-away scan goes into the outbox (`terminal.outbox`) with the original time of the
guard's decision, which the server keeps as the release time (R-REL-6), by one of two routes:
- ``sync``: the gate was offline when it decided; uploaded in order through ``POST /gate/sync``.
- ``release``: a release sent online whose answer was lost; resent through ``POST /gate/releases`` with the same
  Idempotency-Key (the nonce), so if the first one arrived the server answers it again and records nothing more.
Conflicts the server reports are shown to the guard and go to the security captain on the server.
"""

from __future__ import annotations

import base64
import json
import logging
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import date, datetime

import httpx
from pydantic import ValidationError

from gate.api import GateApi
from gate.flows.signin import SignInRefused
from gate.flows.verdict import PassLogged, PassVerdict, PassView, Rejection, SlipView, Verdict
from gate.store import LocalStore, LocalUse
from gate.verifier import CATALOGUE, DEVICE, GUARDS, KEYS, REVOCATIONS, SLIPS, OfflineVerifier, typed_number
from server.contract import slip_token, worker_pass
from server.contract.client import ApiError
from server.contract.device import Heartbeat
from server.contract.fields import clean_text
from server.contract.guard_secret import verify_secret
from server.contract.passes import PassMovementRequest, WorkerPassOut
from server.contract.schemas import (
    CountedLine,
    GateEvent,
    GateStopIn,
    GuardOut,
    GuardSignInRequest,
    PassRevocationOut,
    ReleaseRequest,
)
from terminal.outbox import Entry, Outbox

log = logging.getLogger(__name__)
Clock = Callable[[], datetime]
# Failures after which the request may have reached the server: resend with the same Idempotency-Key.
_MAYBE_SENT = (httpx.ReadTimeout, httpx.WriteTimeout, httpx.RemoteProtocolError, httpx.ReadError, httpx.WriteError)


# The outbox's mark for an entry no request can be made of (set aside, logged, never sent).
UNREADABLE = "unreadable"


class TokenRefused(Exception):
    """The server refused this gate's device token (401): the gate must be enrolled again."""


REPORT_EVERY = 60.0  # seconds between reports of an unchanged camera state (a change is reported at once)


# Local verdicts the server can complete when it is reachable.
_ASK_SERVER = (Rejection.UNKNOWN_SLIP, Rejection.NOT_SYNCED, Rejection.ALREADY_RELEASED)


class PassRefused(Exception):
    """The server would not log a worker's entry or exit (the pass was withdrawn or the works suspended meanwhile)."""

    def __init__(self, verdict: PassVerdict) -> None:
        super().__init__(verdict.code)
        self.verdict = verdict


class DecisionRefused(Exception):
    """The server would not record the decision (e.g. the slip was used at another gate a moment ago)."""

    def __init__(self, verdict: Verdict) -> None:
        super().__init__(verdict.code)
        self.verdict = verdict


@dataclass(frozen=True)
class Decision:
    """The guard's decision as recorded: `queued` when it waits in the outbox for the server."""

    number: str
    outcome: str  # released | refused
    at: datetime
    guard: str
    queued: bool
    reason: str = ""  # a refusal's reason, as recorded


def number_of(text: str) -> str | None:
    if typed_number(text):
        return text.strip().upper()
    if worker_pass.is_pass(text):
        try:
            return worker_pass.decode(text).claims.number
        except slip_token.TokenError:
            return None
    try:
        return slip_token.decode(text).claims.number
    except slip_token.TokenError:
        return None


def _pass_view(found: WorkerPassOut, text: str) -> PassView:
    return PassView(
        found.number, found.unit, found.worker, found.company, found.valid_from, found.valid_until, text, found.photo,
        found.renovation,
    )  # fmt: skip


_LISTED = {"withdrawn": Rejection.PASS_WITHDRAWN, "suspended": Rejection.SUSPENDED, "ended": Rejection.PASS_ENDED}


def _offline_pass(view: PassView, listed: PassRevocationOut | None) -> PassVerdict:
    """A pass checked offline: refused when the last sync listed it as withdrawn, suspended or ended."""
    if listed is None:
        return PassVerdict(view.text, False, pass_=view)
    code = _LISTED.get(listed.state, Rejection.PASS_WITHDRAWN)  # a state of a newer server: refused all the same
    return PassVerdict(view.text, False, code=code, since=listed.since, note=listed.reason)


def _server_verdict(text: str, error: ApiError) -> Verdict:
    at = error.detail.get("released_at")
    return Verdict(
        text,
        True,
        code=error.code,
        released_at=datetime.fromisoformat(str(at)) if at else None,
        released_gate=str(error.detail["gate"]) if error.detail.get("gate") else None,
    )


class GateLink:
    def __init__(
        self,
        api: GateApi,
        store: LocalStore,
        outbox: Outbox,
        *,
        gate_name: str | None,
        clock: Clock,
    ) -> None:
        self.api = api
        self.store = store
        self.outbox = outbox
        self.clock = clock
        self.verifier = OfflineVerifier(store, gate_name)
        self._online = False
        self.report: Callable[[], Heartbeat] | None = None  # what the heartbeat tells the server of the gate
        self._reported: Heartbeat | None = None
        self._reported_at = 0.0
        self.token_refused = False
        self._listeners: list[Callable[[], None]] = []
        self._lock = threading.Lock()

    # --- state ------------------------------------------------------------------------------------------------

    @property
    def online(self) -> bool:
        return self._online

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    @property
    def state(self) -> str:
        """online, offline or token_refused, as the status bar shows it."""
        return "token_refused" if self.token_refused else ("online" if self._online else "offline")

    def _set_online(self, online: bool, refused: bool = False) -> None:
        before = self.state
        self._online, self.token_refused = online and not refused, refused
        if self.state != before:
            if refused:
                log.error("gate link: the server refused this gate's device token (401): enrol the gate again")
            else:
                level = logging.WARNING if self.state == "offline" else logging.INFO
                log.log(level, "gate link: %s (was %s)", self.state, before)
        for listener in self._listeners:
            listener()

    def _refused_by(self, error: ApiError) -> bool:
        """Note a 401 (the gate then works offline); False for any other answer, which means online."""
        self._set_online(not error.token_refused, refused=error.token_refused)
        return error.token_refused

    @contextmanager
    def _background_call(self) -> Iterator[None]:
        """A call of the background work: no answer means offline and a 401 raises TokenRefused; both propagate."""
        try:
            yield
        except httpx.TransportError:
            self._set_online(False)
            raise
        except ApiError as exc:
            if self._refused_by(exc):
                raise TokenRefused(exc.message) from None
            raise

    def queue_length(self) -> int:
        return self.outbox.pending_count()

    def conflicts(self) -> list[Entry]:
        return self.outbox.conflicts()

    # --- checking a slip --------------------------------------------------------------------------------------

    def check(self, text: str) -> Verdict:
        """The verdict on a scanned code or typed number, checked here with the keys and lists the gate holds; the
        server is asked only for what the gate cannot know (a number typed for a slip not among the day's slips,
        nothing synced yet, or when and where a used slip was released). Online, the release call then carries
        the server's own verdict."""
        text = text.strip()
        number = number_of(text)
        local = self.verifier.local_rejection(number, text, self._online) if number else None
        if local is not None:
            return local
        verdict = replace(self.verifier.check(text, self.clock()), online=self._online)
        if self._online and verdict.code in _ASK_SERVER:
            try:
                result = self.api.verify(text)
            except ApiError as exc:
                if not self._refused_by(exc):
                    return _server_verdict(text, exc)
                verdict = replace(verdict, online=False)
            except httpx.TransportError:
                self._set_online(False)
                verdict = replace(verdict, online=False)
            else:
                return Verdict(text, True, slip=SlipView.from_out(result.slip, text))
        if not verdict.ok:  # failed scans are uploaded too, for the audit trail
            # A code may hold any text; the server's text type refuses control characters, so they go replaced.
            scanned = clean_text(text)[:2000]
            event = GateEvent(
                nonce=uuid.uuid4().hex, kind="reject", text=scanned, at=self.clock(), code=(verdict.code or "")[:30]
            )
            self._queue(event, number or "")
        return verdict

    # --- workers' passes (R-REN-6) ---------------------------------------------------------------------------

    def check_pass(self, text: str, today: date) -> PassVerdict:
        """A worker's pass: checked here with the keys the gate holds (signature, estate, the days it is valid);
        online, the server adds the photo and says whether the renovation is suspended or the pass withdrawn;
        offline, the synced list of passes withdrawn, suspended or ended says it (R-REN-6)."""
        text = text.strip()
        ref = self.verifier.reference
        if ref.estate is None or not ref.ring:
            return PassVerdict(text, False, code=Rejection.NOT_SYNCED)
        try:
            claims = worker_pass.verify(text, ref.ring, estate=ref.estate, today=today, revoked=ref.revoked)
        except slip_token.TokenError as exc:
            return PassVerdict(text, self._online, code=exc.code)
        view = PassView(
            claims.number, claims.unit, claims.worker, claims.company, claims.valid_from, claims.valid_until, text
        )
        if not self._online:
            return _offline_pass(view, ref.passes.get(claims.number))
        try:
            found = self.api.check_pass(text)
        except ApiError as exc:
            if not self._refused_by(exc):
                return PassVerdict(text, True, code=exc.code)
            return _offline_pass(view, ref.passes.get(claims.number))
        except httpx.TransportError:
            self._set_online(False)
            return _offline_pass(view, ref.passes.get(claims.number))
        return PassVerdict(text, True, pass_=_pass_view(found, text))

    def log_pass(self, view: PassView, direction: str, guard: str) -> PassLogged:
        """Record the worker coming in or going out: online at once, else queued with its time for the server."""
        request = PassMovementRequest(text=view.text, direction="in" if direction == "in" else "out", guard=guard)
        nonce, at = uuid.uuid4().hex, self.clock()
        if self._online:
            try:
                out = self.api.pass_movement(request, idempotency_key=nonce)
            except ApiError as exc:
                if not self._refused_by(exc):
                    raise PassRefused(PassVerdict(view.text, True, code=exc.code)) from None
            except httpx.TransportError:
                self._set_online(False)
            else:
                return PassLogged(view.number, view.worker, out.direction, out.at, False)
        self.outbox.add(nonce, "pass", request.model_dump_json(), at, view.number)
        return PassLogged(view.number, view.worker, request.direction, at, True)

    def _resend_pass(self, entry: Entry) -> int:
        self.outbox.mark_attempt([entry.nonce])
        try:
            # Judged by the server at the time the guard logged it, not at the upload (R-REN-6).
            request = PassMovementRequest.model_validate_json(entry.body).model_copy(update={"at": entry.at})
        except ValueError as exc:
            self._unreadable(entry, exc)
            return 0
        try:
            out = self.api.pass_movement(request, idempotency_key=entry.nonce)
        except ApiError as exc:
            if self._refused_by(exc):
                raise TokenRefused(exc.message) from None
            result = "conflict" if exc.code == "conflict_recorded" else "rejected"
            self.outbox.mark_sent(entry.nonce, result, exc.detail.get("kind", exc.code), self.clock())
        except httpx.TransportError:
            self._set_online(False)
            raise
        else:
            self.outbox.mark_sent(entry.nonce, "recorded", out.direction, self.clock())
        return 1

    # --- the guard's decision ---------------------------------------------------------------------------------

    def decide(
        self,
        slip: SlipView,
        guard: str,
        counts: dict[int, int],
        reason: str,
        *,
        refuse: bool = False,
        photo: bytes | None = None,
    ) -> Decision:
        """Record a release (every line matches) or a refusal (any difference, or `refuse` with the guard's reason
        although the counts match) with the guard, the time and the camera's photo (online only: the outbox keeps
        no pictures)."""
        released = not refuse and all(counts[line.line] == line.quantity for line in slip.lines)
        lines = [CountedLine(line=n, counted=c) for n, c in sorted(counts.items())]
        nonce, at = uuid.uuid4().hex, self.clock()
        picture = base64.b64encode(photo).decode() if photo else None
        request = ReleaseRequest(
            text=slip.text, guard=guard, lines=lines, reason=reason, refuse=refuse, photo_jpeg_b64=picture
        )
        outcome = "released" if released else "refused"
        queued = True
        if self._online:
            try:
                out = self.api.release(request, idempotency_key=nonce)
            except ApiError as exc:
                if not self._refused_by(exc):
                    raise DecisionRefused(_server_verdict(slip.text, exc)) from None
                self._queue_event(nonce, slip, guard, lines, reason, released, at)
            except _MAYBE_SENT:
                self._set_online(False)
                kept = request.model_copy(update={"photo_jpeg_b64": None})
                self.outbox.add(nonce, "release", kept.model_dump_json(), at, slip.number)
            except httpx.TransportError:
                self._set_online(False)
                self._queue_event(nonce, slip, guard, lines, reason, released, at)
            else:
                outcome, at, queued = out.outcome, out.at, False
        else:
            self._queue_event(nonce, slip, guard, lines, reason, released, at)
        self.store.record_use(LocalUse(slip.number, outcome, at, guard))
        return Decision(slip.number, outcome, at, guard, queued, reason)

    def stop_goods(self, goods: str, reason: str, guard: str, photo: bytes | None = None) -> bool:
        """Goods stopped with no slip at all (R-REL-6), for the gate release log: sent at once when online, else
        queued with the time. True when the server has it."""
        nonce, at = uuid.uuid4().hex, self.clock()
        if self._online:
            picture = base64.b64encode(photo).decode() if photo else None
            try:
                self.api.stop_goods(
                    GateStopIn(goods=goods, reason=reason, guard=guard, photo_jpeg_b64=picture), idempotency_key=nonce
                )
            except ApiError as exc:
                if not self._refused_by(exc):
                    raise
            except httpx.TransportError:
                self._set_online(False)
            else:
                return True
        self._queue(GateEvent(nonce=nonce, kind="stop", text=goods, at=at, guard=guard, reason=reason), "")
        return False

    def _queue(self, event: GateEvent, number: str) -> None:
        self.outbox.add(event.nonce, "sync", event.model_dump_json(), event.at, number)

    def _queue_event(
        self,
        nonce: str,
        slip: SlipView,
        guard: str,
        lines: list[CountedLine],
        reason: str,
        released: bool,
        at: datetime,
    ) -> None:
        kind = "release" if released else "refuse"
        event = GateEvent(nonce=nonce, kind=kind, text=slip.text, at=at, guard=guard, lines=lines, reason=reason)
        self._queue(event, slip.number)

    # --- guards -----------------------------------------------------------------------------------------------

    def sign_in(self, *, pin: str | None = None, card: str | None = None) -> GuardOut:
        """The guard for this PIN or card: asked of the server when online, else checked against the roster."""
        if self._online:
            try:
                return self.api.guard_sign_in(GuardSignInRequest(pin=pin, card=card))
            except ApiError as exc:
                if not self._refused_by(exc):
                    raise SignInRefused(exc.code) from None
            except httpx.TransportError:
                self._set_online(False)
        roster = self.verifier.reference.roster
        for guard in roster.guards if roster else []:
            secret, stored = (pin, guard.pin_hash) if pin is not None else (card, guard.card_hash)
            if secret is not None and stored and verify_secret(stored, secret):
                # Signed in offline: the server learns of it at the next sync, with the original time.
                event = GateEvent(
                    nonce=uuid.uuid4().hex,
                    kind="sign_in",
                    text=guard.username,
                    at=self.clock(),
                    guard=guard.display_name,
                )
                self._queue(event, "")
                return GuardOut(user_id=guard.user_id, username=guard.username, display_name=guard.display_name)
        raise SignInRefused("guard_unknown" if roster else "not_synced")

    # --- background work ----------------------------------------------------------------------------------------

    def heartbeat(self) -> None:
        """Ask the server who this gate is, to know the link is up. Raises TransportError or TokenRefused."""
        with self._background_call():
            self.api.device()
            self._report_state()
        self._set_online(True)

    def _report_state(self) -> None:
        """The gate's software and camera state for the console's devices page, when changed or a minute old."""
        if self.report is None:
            return
        beat, now = self.report(), time.monotonic()
        if beat == self._reported and now - self._reported_at < REPORT_EVERY:
            return
        self.api.heartbeat(beat)
        self._reported, self._reported_at = beat, now

    def refresh_reference(self) -> None:
        """Download what changed (ETags) of keys, revocations, roster and the day's slips.
        Raises TransportError or TokenRefused."""
        with self._lock:
            with self._background_call():
                now = self.clock()
                self.store.save_reference(DEVICE, self.api.device(), None, now)
                keys, etag = self.api.keys(self.store.etag(KEYS))
                if keys is not None:
                    self.store.save_reference(KEYS, keys, etag, now)
                revocations, etag = self.api.revocations(self.store.etag(REVOCATIONS))
                if revocations is not None:
                    self.store.save_reference(REVOCATIONS, revocations, etag, now)
                roster, etag = self.api.guard_roster(self.store.etag(GUARDS))
                if roster is not None:
                    self.store.save_reference(GUARDS, roster, etag, now)
                slips, etag = self.api.day_slips(None, self.store.etag(SLIPS))
                if slips is not None:
                    self.store.save_reference(SLIPS, slips, etag, now)
                self._refresh_catalogue(now)
            self.verifier.reload()
            self._set_online(True)

    def _refresh_catalogue(self, now: datetime) -> None:
        """The item catalogue, so slips not synced show names; a server too old to offer it is not an error."""
        try:
            items, etag = self.api.gate_catalogue(self.store.etag(CATALOGUE))
        except ApiError as exc:
            if exc.token_refused:
                raise
            log.warning("gate link: no item catalogue from the server (%s): slips not synced show item codes", exc.code)
            return
        if items is not None:
            self.store.save_reference(CATALOGUE, items, etag, now)

    def upload(self) -> int:
        """Send what the outbox holds, oldest first; returns how many entries the server answered.
        Raises TransportError when the server cannot be reached (the entries stay for the next try)."""
        with self._lock:
            done = 0
            pending = self.outbox.pending()
            while pending:
                head = pending[0]
                if head.route == "release":
                    done += self._resend_release(head)
                    pending = pending[1:]
                    continue
                if head.route == "pass":
                    done += self._resend_pass(head)
                    pending = pending[1:]
                    continue
                batch: list[Entry] = []
                for entry in pending:
                    if entry.route != "sync":
                        break
                    batch.append(entry)
                pending = pending[len(batch) :]
                self.outbox.mark_attempt([e.nonce for e in batch])
                events = [event for event in map(self._readable_event, batch) if event is not None]
                if not events:
                    continue
                with self._background_call():
                    out = self.api.sync(events)
                now = self.clock()
                for result in out.results:
                    self.outbox.mark_sent(result.nonce, result.result, result.code, now)
                done += len(out.results)
            self._set_online(True)
            return done

    def _unreadable(self, entry: Entry, problem: Exception) -> None:
        """An entry that no request can be made of (it cannot be sent as it is, nor ever will be): marked so, and
        logged, so that it does not hold up every entry queued after it."""
        log.error("gate outbox: entry %s (%s) cannot be sent and is set aside: %s", entry.nonce, entry.route, problem)
        self.outbox.mark_sent(entry.nonce, "rejected", UNREADABLE, self.clock())

    def _readable_event(self, entry: Entry) -> GateEvent | None:
        try:
            return event_of(entry)
        except ValueError as exc:  # pydantic's ValidationError and json's JSONDecodeError are ValueErrors
            self._unreadable(entry, exc)
            return None

    def _resend_release(self, entry: Entry) -> int:
        self.outbox.mark_attempt([entry.nonce])
        try:
            # The guard was already shown this release: the original time tells the server it is not a new scan.
            request = ReleaseRequest.model_validate_json(entry.body).model_copy(update={"decided_at": entry.at})
        except ValueError as exc:
            self._unreadable(entry, exc)
            return 0
        try:
            out = self.api.release(request, idempotency_key=entry.nonce)
        except ApiError as exc:
            if self._refused_by(exc):
                raise TokenRefused(exc.message) from None
            result = "conflict" if exc.code == "conflict_recorded" else "rejected"
            self.outbox.mark_sent(entry.nonce, result, exc.detail.get("kind", exc.code), self.clock())
        except httpx.TransportError:
            self._set_online(False)
            raise
        else:
            self.outbox.mark_sent(entry.nonce, "recorded", out.outcome, self.clock())
        return 1


def event_of(entry: Entry) -> GateEvent:
    """An outbox entry of the `sync` route as the event it uploads (`event_from`)."""
    return event_from(entry.body)


def event_from(body: str) -> GateEvent:
    """The event a queued body holds. One queued by an earlier version may hold text the contract refuses now
    (control characters of a scanned code): it goes with them replaced. ValueError when the body holds no event."""
    try:
        return GateEvent.model_validate_json(body)
    except ValidationError:
        fields = json.loads(body)
        if not isinstance(fields, dict):
            raise
        return GateEvent.model_validate({k: clean_text(v) if isinstance(v, str) else v for k, v in fields.items()})
