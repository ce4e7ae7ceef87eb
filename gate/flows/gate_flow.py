"""The gate terminal's main state machine.

    signed_out ─(PIN/card)→ ready ─(scan / typed number)→ checklist ─(release)→ done ─(next)→ ready
                              │                              └──(refuse + reason)→ done
                              ├─(manual)→ manual ─(submit)→ checklist | rejected
                              ├─(no slip)→ stopping ─(record)→ done
                              ├─(invalid scan)→ rejected ─(next / a new scan)→ …
                              └─(worker pass)→ worker_pass ─(in / out)→ pass_logged ─(next)→ ready

Scans arrive from the scanner's thread and are ignored while the guard is busy with a slip (checklist, manual
entry, the result screen); a new scan replaces a rejection on screen. The slip just decided or turned away is
ignored after "继续" while it is still held up and for `QUIET_S` after it was last seen, so it does not come
straight back as "already used". Every change calls the listeners, which the screen uses to redraw.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from datetime import date
from enum import StrEnum

from gate.flows.checklist import Checklist
from gate.flows.signin import SignIn
from gate.flows.verdict import PassLogged, PassVerdict, Rejection, SlipView, Verdict
from gate.link import Decision, DecisionRefused, GateLink, PassRefused, number_of
from server.contract import slip_token, worker_pass
from server.contract.schemas import GuardOut

log = logging.getLogger(__name__)
REFUSE_REASONS = (
    "reason_quantity",
    "reason_items",
    "reason_not_on_slip",
    "reason_broken",
    "reason_damaged",
    "reason_person",
)
STOP_REASON = "reason_no_slip"  # goods carried out with no slip at all (R-REL-1)
MAX_STOP_ITEMS = 6
MANUAL_MAX = 12
# Longer than the scanner's debounce window (3 s), so a slip still held up is seen again before this runs out.
QUIET_S = 5.0


class GateState(StrEnum):
    SIGNED_OUT = "signed_out"
    READY = "ready"
    MANUAL = "manual"
    CHECKLIST = "checklist"
    REFUSING = "refusing"
    STOPPING = "stopping"  # goods with no slip at all: what they are, to be logged as stopped
    DONE = "done"
    REJECTED = "rejected"
    WORKER_PASS = "worker_pass"  # a renovation worker's pass on screen: compare the photo, then in or out (R-REN-6)
    PASS_LOGGED = "pass_logged"


class GateFlow:
    def __init__(
        self,
        link: GateLink,
        *,
        today: Callable[[], date],
        on_decision: Callable[[], None] | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        photo: Callable[[], bytes | None] | None = None,
    ):
        self.link = link
        self._today = today
        self._on_decision = on_decision
        self._monotonic = monotonic
        self._photo = photo or (lambda: None)  # the camera frame the guard decided on, as a small JPEG
        self._quiet: tuple[str, float] | None = None  # the slip to ignore after "继续", and until when
        self.repeats_ignored = 0  # sightings of a just-finished slip that were ignored
        self.state = GateState.SIGNED_OUT
        self.guard: GuardOut | None = None
        self.signin = SignIn(link.sign_in)
        self.verdict: Verdict | None = None
        self.checklist: Checklist | None = None
        self.counting: int | None = None  # the line whose count is being typed
        self.count_digits = ""
        self.manual_digits = ""
        self.decision: Decision | None = None
        self.pass_verdict: PassVerdict | None = None
        self.pass_logged: PassLogged | None = None
        self.stopped: list[str] = []  # the goods picked on the stop screen (names, as the register keeps them)
        self.stop_logged: bool | None = None  # after a stop: True when the server has it, False when queued
        self._lock = threading.RLock()
        self._listeners: list[Callable[[], None]] = []

    def on_change(self, listener: Callable[[], None]) -> None:
        self._listeners.append(listener)

    def _changed(self) -> None:
        for listener in self._listeners:
            listener()

    # --- sign-in ----------------------------------------------------------------------------------------------

    def signin_key(self, key: str) -> None:
        with self._lock:
            self.signin.key(key)
        self._changed()

    def signin_submit(self) -> None:
        with self._lock:
            self._signed_in(self.signin.submit())
        self._changed()

    def signin_card(self, card: str) -> None:
        with self._lock:
            if self.state is not GateState.SIGNED_OUT or not card.strip():
                return
            self._signed_in(self.signin.card(card))
        self._changed()

    def _signed_in(self, guard: GuardOut | None) -> None:
        if guard is None:
            log.warning("gate sign-in refused: %s", self.signin.state.error)
            return
        self.guard, self.state = guard, GateState.READY
        log.info("gate: guard %s signed in", guard.username)

    def sign_out(self) -> None:
        with self._lock:
            if self.guard is not None:
                log.info("gate: guard %s signed out", self.guard.username)
            self.guard, self.state = None, GateState.SIGNED_OUT
            self._reset_slip()
        self._changed()

    # --- scanning and manual entry --------------------------------------------------------------------------

    def on_scan(self, text: str) -> bool:
        """A code read by the camera; False when ignored (nobody signed in, or the guard is busy with a slip)."""
        with self._lock:
            if self.state not in (GateState.READY, GateState.REJECTED) or self._just_done(text):
                return False
            self._check(text)
        self._changed()
        return True

    def manual_open(self) -> None:
        with self._lock:
            if self.state in (GateState.READY, GateState.REJECTED, GateState.DONE):
                self._reset_slip()
                self.state = GateState.MANUAL
        self._changed()

    def manual_key(self, key: str) -> None:
        with self._lock:
            if key == "clear":
                self.manual_digits = ""
            elif key == "back":
                self.manual_digits = self.manual_digits[:-1]
            elif key.isdigit() and len(self.manual_digits) < MANUAL_MAX:
                self.manual_digits += key
        self._changed()

    def manual_number(self) -> str | None:
        """The slip number the typed digits name: the sequence alone is today's slip; 12 digits are date + sequence."""
        digits = self.manual_digits
        estate = self.link.verifier.reference.estate
        if estate is None or not digits:
            return None
        if len(digits) <= 5:
            return slip_token.slip_number(estate, self._today(), int(digits)) if int(digits) else None
        if len(digits) == 12:
            return f"{estate}-{digits[:8]}-{digits[8:]}"
        return None

    def manual_submit(self) -> None:
        with self._lock:
            if self.state is not GateState.MANUAL:
                return
            number = self.manual_number()
            if number is None:
                self.verdict = Verdict(self.manual_digits, self.link.online, code=Rejection.MALFORMED)
                self.state = GateState.REJECTED
            else:
                self._check(number)
        self._changed()

    def _check(self, text: str) -> None:
        if worker_pass.is_pass(text):
            self._check_pass(text)
            return
        verdict = self.link.check(text)
        self.verdict = verdict
        self.decision = None
        if verdict.slip is not None:
            self.checklist = Checklist(verdict.slip.lines)
            self.state = GateState.CHECKLIST
        else:
            self.checklist = None
            self.state = GateState.REJECTED

    def _check_pass(self, text: str) -> None:
        checked = self.link.check_pass(text, self._today())
        self.decision, self.checklist, self.pass_logged = None, None, None
        if checked.pass_ is not None:
            self.pass_verdict, self.verdict, self.state = checked, None, GateState.WORKER_PASS
        else:
            self.pass_verdict = None
            self.verdict = Verdict(
                checked.text, checked.online, code=checked.code, since=checked.since, note=checked.note
            )
            self.state = GateState.REJECTED

    def pass_move(self, direction: str) -> None:
        """The worker on the pass comes in (``in``) or goes out (``out``): logged with the guard on duty."""
        with self._lock:
            verdict = self.pass_verdict
            if self.state is not GateState.WORKER_PASS or verdict is None or verdict.pass_ is None:
                return
            assert self.guard is not None
            try:
                self.pass_logged = self.link.log_pass(verdict.pass_, direction, self.guard.display_name)
            except PassRefused as exc:
                self.verdict = Verdict(exc.verdict.text, True, code=exc.verdict.code)
                self.pass_verdict, self.state = None, GateState.REJECTED
            else:
                log.info("gate: worker pass %s %s", self.pass_logged.number, direction)
                self.state = GateState.PASS_LOGGED
        self._changed()

    # --- the checklist ----------------------------------------------------------------------------------------

    def tap_match(self, line: int) -> None:
        with self._lock:
            if self.checklist is not None and self.state is GateState.CHECKLIST:
                self.checklist.match(line)
                self.counting = None
        self._changed()

    def count_open(self, line: int) -> None:
        with self._lock:
            if self.checklist is not None and self.state is GateState.CHECKLIST:
                self.counting, self.count_digits = line, ""
        self._changed()

    def count_key(self, key: str) -> None:
        with self._lock:
            if key == "clear":
                self.count_digits = ""
            elif key == "back":
                self.count_digits = self.count_digits[:-1]
            elif key.isdigit() and len(self.count_digits) < 4:
                self.count_digits = (self.count_digits + key).lstrip("0") or "0"
        self._changed()

    def count_done(self) -> None:
        with self._lock:
            if self.checklist is not None and self.counting is not None and self.count_digits:
                self.checklist.count(self.counting, int(self.count_digits))
            self.counting, self.count_digits = None, ""
        self._changed()

    def set_count(self, line: int, counted: int) -> None:
        """The number counted for a line, in one step (what the keypad ends in)."""
        with self._lock:
            if self.checklist is not None and self.state is GateState.CHECKLIST:
                self.checklist.count(line, counted)
        self._changed()

    # --- release or refuse --------------------------------------------------------------------------------------

    def release(self) -> None:
        with self._lock:
            if self.state is not GateState.CHECKLIST or self.checklist is None or not self.checklist.can_release:
                return
            self._decide("")
        self._changed()

    def refuse_open(self) -> None:
        with self._lock:
            if self.state is GateState.CHECKLIST and self.checklist is not None and self.checklist.can_refuse:
                self.state = GateState.REFUSING
        self._changed()

    def refuse(self, reason: str) -> None:
        """Refuse with the guard's reason (R-REL-6: the resident gets a re-issued slip at the front desk), also when
        every count matches: an item not on the slip, damaged goods."""
        with self._lock:
            if self.state is not GateState.REFUSING or self.checklist is None or not self.checklist.can_refuse:
                return
            self._decide(reason, refuse=True)
        self._changed()

    # --- goods with no slip -------------------------------------------------------------------------------------

    def stop_open(self) -> None:
        """Goods are being carried out with no slip at all: pick what they are, then log them as stopped."""
        with self._lock:
            if self.state in (GateState.READY, GateState.REJECTED):
                self._reset_slip()
                self.state = GateState.STOPPING
        self._changed()

    def stop_pick(self, name: str) -> None:
        with self._lock:
            if self.state is not GateState.STOPPING:
                return
            if name in self.stopped:
                self.stopped.remove(name)
            elif len(self.stopped) < MAX_STOP_ITEMS:
                self.stopped.append(name)
        self._changed()

    def stop_record(self, reason: str, other: str) -> None:
        """Log the stop (R-REL-6): the goods picked (or `other` when none was), the reason and the guard."""
        with self._lock:
            if self.state is not GateState.STOPPING or self.guard is None:
                return
            goods = "、".join(self.stopped) or other
            self.stop_logged = self.link.stop_goods(goods, reason, self.guard.display_name, self._photo())
            log.info("gate: goods stopped with no slip: %s", goods)
            self.state = GateState.DONE
        self._changed()

    def refuse_cancel(self) -> None:
        with self._lock:
            if self.state is GateState.REFUSING:
                self.state = GateState.CHECKLIST
        self._changed()

    def _decide(self, reason: str, refuse: bool = False) -> None:
        assert self.verdict is not None and self.verdict.slip is not None and self.checklist is not None
        assert self.guard is not None
        slip: SlipView = self.verdict.slip
        try:
            self.decision = self.link.decide(
                slip, self.guard.display_name, dict(self.checklist.counted), reason, refuse=refuse, photo=self._photo()
            )
        except DecisionRefused as exc:
            log.warning("gate: the server would not record %s: %s", slip.number, exc.verdict.code)
            self.verdict, self.checklist, self.state = exc.verdict, None, GateState.REJECTED
            return
        log.info(
            "gate: %s %s%s", slip.number, self.decision.outcome, " (queued offline)" if self.decision.queued else ""
        )
        self.state = GateState.DONE
        if self._on_decision is not None:
            self._on_decision()

    def next(self) -> None:
        """Back to scanning (after a rejection or a finished slip, or to leave manual entry)."""
        with self._lock:
            if self.state in (
                GateState.REJECTED,
                GateState.DONE,
                GateState.MANUAL,
                GateState.CHECKLIST,
                GateState.REFUSING,
                GateState.WORKER_PASS,
                GateState.PASS_LOGGED,
                GateState.STOPPING,
            ):
                number = (
                    self.decision.number if self.decision else number_of(self.verdict.text) if self.verdict else None
                )
                if self.pass_verdict is not None and self.pass_verdict.pass_ is not None:
                    number = self.pass_verdict.pass_.number
                finished = (GateState.REJECTED, GateState.DONE, GateState.PASS_LOGGED)
                if self.state in finished and number:
                    self._quiet = (number, self._monotonic() + QUIET_S)
                self._reset_slip()
                self.state = GateState.READY
        self._changed()

    def _just_done(self, text: str) -> bool:
        """The slip the guard has just finished with, still (or again within QUIET_S) in front of the camera."""
        if self._quiet is None:
            return False
        number, until = self._quiet
        now = self._monotonic()
        if now >= until:
            self._quiet = None
            return False
        if number_of(text.strip()) != number:
            return False
        self._quiet = (number, now + QUIET_S)
        self.repeats_ignored += 1
        return True

    def _reset_slip(self) -> None:
        self.verdict, self.checklist, self.decision = None, None, None
        self.pass_verdict, self.pass_logged = None, None
        self.counting, self.count_digits, self.manual_digits = None, "", ""
        self.stopped, self.stop_logged = [], None
