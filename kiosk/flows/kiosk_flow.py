"""The kiosk as one state machine: home → identify → item release or my requests → printed slip.

Every touch is a method; every request to the server or the printer runs through the injected `runner` (the
Kivy layer runs it on a worker thread; tests run it inline), and its answer is applied only if the resident's
session is still the one that asked — after the idle reset nothing of theirs comes back on screen.
"""

from __future__ import annotations

import logging
import time
import uuid
from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devices.printing import PrintingError
from kiosk.api import KioskApi
from kiosk.flows import faults
from kiosk.flows.state import KioskState, Message, ResidentSession, Screen, Service
from kiosk.printer import SlipPrinter, printable
from server.contract.client import ApiError
from server.contract.schemas import (
    KioskIdentify,
    KioskResidentUnit,
    MySlipsRequest,
    ResidentIdentity,
    SlipOut,
    SlipRequest,
)

log = logging.getLogger(__name__)

Runner = Callable[[Callable[[], Any], Callable[[Any], None]], None]
MAX_KIOSK_PIN_TRIES = 3  # the server locks a PIN after 5; the kiosk sends the resident to the desk sooner
CARD_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
UNIT_KEYS = frozenset("0123456789-ABCDEFGH")
MAX_DAY_OFFSET = 2


def inline(work: Callable[[], Any], done: Callable[[Any], None]) -> None:
    done(work())


class Printed:
    def __init__(self, slip: SlipOut) -> None:
        self.slip = slip


class PrintFailed:
    def __init__(self, slip: SlipOut, error: PrintingError) -> None:
        self.slip, self.error = slip, error


class KioskFlow:
    def __init__(
        self,
        api: KioskApi,
        printer: SlipPrinter,
        *,
        idle_seconds: float = 60.0,
        language: str = "zh",
        monotonic: Callable[[], float] = time.monotonic,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        runner: Runner = inline,
        on_change: Callable[[KioskState], None] | None = None,
    ) -> None:
        self.api, self.printer = api, printer
        self.idle_seconds, self.default_language = idle_seconds, language
        self.monotonic, self.now, self.runner = monotonic, now, runner
        self.on_change = on_change
        self.state = KioskState(language=language)
        self.generation = 0
        self.last_touch = monotonic()
        self._idempotency_key: str | None = None

    # --- plumbing -----------------------------------------------------------------------------------------------

    @property
    def session(self) -> ResidentSession:
        return self.state.session

    def _changed(self) -> None:
        if self.on_change is not None:
            self.on_change(self.state)

    def _touch(self) -> bool:
        """Note a touch; False while a request is under way (touches then wait)."""
        self.last_touch = self.monotonic()
        return not self.state.busy

    def _io(self, work: Callable[[], Any], apply: Callable[[Any], None]) -> None:
        """Run `work` through the runner; apply its result (or the exception it raised) if nobody reset meanwhile."""
        generation = self.generation
        self.state.busy = True
        self.state.error = None
        self._changed()

        def guarded() -> Any:
            try:
                return work()
            except Exception as exc:  # classified by `apply`; the kiosk must never be left frozen
                return exc

        def done(result: Any) -> None:
            if generation != self.generation:
                return
            self.state.busy = False
            self.last_touch = self.monotonic()
            apply(result)
            self._changed()

        self.runner(guarded, done)

    def _show(self, screen: Screen) -> None:
        self.state.screen = screen
        self.state.error = None
        self._changed()

    def _fault(self, message: Message, advice: Message | None, retry: str = "") -> None:
        self.state.message, self.state.advice, self.state.retry = message, advice, retry
        self._show(Screen.FAULT)

    def _unexpected(self, exc: BaseException, retry: str) -> None:
        if faults.server_unreachable(exc):
            self._fault(Message("fault.server_down"), Message("advice.try_again_or_desk"), retry)
            return
        log.error("unexpected kiosk error", exc_info=exc)
        self._fault(Message("fault.unexpected"), Message("advice.front_desk"))

    def _refused(self, exc: ApiError) -> None:
        self.state.message, self.state.advice = faults.refusal(exc)
        self.state.retry = ""
        self._show(Screen.REFUSED)

    # --- home, idle and language -----------------------------------------------------------------------------------

    def start(self) -> None:
        """Show home and ask the server what it offers."""
        self.reset()

    def reset(self) -> None:
        """Home, with everything the last resident entered or saw wiped (privacy at a shared screen)."""
        self.generation += 1
        self._idempotency_key = None
        self.state = KioskState(
            language=self.default_language,
            services=self.state.services,
            estate_name=self.state.estate_name,
            timezone=self.state.timezone,
            offline=self.state.offline,
        )
        self.last_touch = self.monotonic()
        self._changed()
        self.refresh_services()

    def refresh_services(self) -> None:
        def apply(result: Any) -> None:
            if isinstance(result, Exception):
                self.state.offline, self.state.services = True, []
                if not faults.server_unreachable(result):
                    log.error("the server refused the services list", exc_info=result)
                return
            self.state.offline = False
            self.state.services = [Service(s) for s in result.services]
            self.state.estate_name, self.state.timezone = result.estate_name, result.timezone

        self._io(self.api.kiosk_services, apply)

    def tick(self) -> None:
        """Called about once a second: after the idle time away from home, go home and wipe."""
        if self.state.busy or self.monotonic() - self.last_touch < self.idle_seconds:
            return
        if self.state.screen is not Screen.HOME or self.state.language != self.default_language:
            self.reset()

    def home(self) -> None:
        if self._touch():
            self.reset()

    def toggle_language(self) -> None:
        self.last_touch = self.monotonic()
        self.state.language = "en" if self.state.language == "zh" else "zh"
        self._changed()

    def choose(self, service: Service) -> None:
        if not self._touch() or service not in self.state.services:
            return
        self.session.service = service
        self._show(Screen.IDENTIFY)

    # --- identify ---------------------------------------------------------------------------------------------------

    def identify_mode(self, mode: str) -> None:
        if self._touch() and mode in ("card", "pin"):
            self.session.identify.mode = mode
            self._show(Screen.IDENTIFY)

    def card_key(self, char: str) -> None:
        """A character typed by the card reader (it acts as a keyboard)."""
        self.last_touch = self.monotonic()
        if self.state.screen is Screen.IDENTIFY and char in CARD_CHARS and len(self.session.identify.card) < 40:
            self.session.identify.card += char

    def card_enter(self) -> None:
        """The reader's Enter after the card number: identify by card."""
        if not self._touch() or self.state.screen is not Screen.IDENTIFY:
            return
        card, self.session.identify.card = self.session.identify.card, ""
        if card:
            self._identify(KioskIdentify(card=card), card=card, pin=None)

    def focus(self, field: str) -> None:
        if self._touch() and field in ("unit", "pin"):
            self.session.identify.field = field
            self._changed()

    def keypad(self, key: str) -> None:
        """A key of the on-screen keypad, typed into the unit or the PIN box."""
        if not self._touch():
            return
        entry = self.session.identify
        value = entry.unit if entry.field == "unit" else entry.pin
        if key == "back":
            value = value[:-1]
        elif key == "clear":
            value = ""
        else:
            fits = key in UNIT_KEYS and len(value) < 16 if entry.field == "unit" else key.isdigit() and len(value) < 8
            value += key if fits else ""
        if entry.field == "unit":
            entry.unit = value
        else:
            entry.pin = value
        self.state.error = None
        self._changed()

    def submit_pin(self) -> None:
        if not self._touch():
            return
        entry = self.session.identify
        if len(entry.unit) < 3:
            entry.field = "unit"
            self.state.error = Message("identify.enter_unit")
        elif len(entry.pin) < 4:
            entry.field = "pin"
            self.state.error = Message("identify.enter_pin")
        else:
            self._identify(KioskIdentify(unit=entry.unit, pin=entry.pin), card=None, pin=entry.pin)
            return
        self._changed()

    def _identify(self, identity: KioskIdentify, *, card: str | None, pin: str | None) -> None:
        service = self.session.service
        unit_typed = identity.unit

        def work() -> tuple[Any, Any]:
            resident = self.api.identify(identity)
            if service is Service.MY_REQUESTS:
                request = MySlipsRequest(unit=unit_typed, identity=ResidentIdentity(card=card, pin=pin))
                return resident, self.api.my_slips(request)
            return resident, self.api.catalogue()

        def apply(result: Any) -> None:
            entry = self.session.identify
            if isinstance(result, ApiError) and not faults.server_unreachable(result):
                self._identify_refused(result)
                return
            if isinstance(result, Exception):
                entry.pin = ""
                self._unexpected(result, retry="identify")
                return
            resident, extra = result
            entry.pin, entry.wrong_pins = "", 0
            self.session.card, self.session.pin = card, pin
            self.session.display_name, self.session.units = resident.display_name, resident.units
            if service is Service.MY_REQUESTS:
                self.session.my_slips = extra.slips
                self._show(Screen.MY_SLIPS)
                return
            self.session.catalogue = extra.items
            units = [u for u in resident.units if unit_typed is None or u.unit == resident_unit(unit_typed, u)]
            if not units:
                self._refused(ApiError(403, "no_units", ""))
            elif len(units) == 1:
                self.pick_unit(units[0].unit)
            else:
                self.session.units = units
                self._show(Screen.UNIT_PICK)

        self._io(work, apply)

    def _identify_refused(self, exc: ApiError) -> None:
        entry = self.session.identify
        entry.pin = ""
        if exc.code == "wrong_pin":
            entry.wrong_pins += 1
            if entry.wrong_pins >= MAX_KIOSK_PIN_TRIES:
                self._refused(ApiError(401, "too_many_pins", exc.message))
                return
            left = str(MAX_KIOSK_PIN_TRIES - entry.wrong_pins)
            self.state.error = Message("identify.wrong_pin", {"left": left})
        elif exc.code in ("unknown_unit", "bad_unit_code"):
            entry.field = "unit"
            self.state.error = Message("identify.unknown_unit")
        elif exc.code == "unknown_card":
            self.state.error = Message("identify.unknown_card")
        else:  # pin_locked, or a refusal of the resident (no current unit …)
            self._refused(exc)
            return
        self._changed()

    def pick_unit(self, unit: str) -> None:
        chosen = next((u for u in self.session.units if u.unit == unit), None)
        if chosen is None or not self._touch():
            return
        self.session.unit = chosen
        self._show(Screen.ITEMS)

    # --- item release -------------------------------------------------------------------------------------------------

    def add(self, code: str) -> None:
        if not self._touch() or code not in {i.code for i in self.session.catalogue}:
            return
        self._idempotency_key = None
        self.state.error = None if self.session.draft.add(code) else Message("items.full")
        self._changed()

    def remove(self, code: str) -> None:
        if self._touch():
            self._idempotency_key = None
            self.session.draft.remove(code)
            self.state.error = None
            self._changed()

    def open_other(self) -> None:
        if self._touch():
            self.session.draft.other_text = ""
            self._show(Screen.OTHER)

    def set_other_text(self, text: str) -> None:
        self.last_touch = self.monotonic()
        self.session.draft.other_text = text

    def add_other(self) -> None:
        if not self._touch():
            return
        draft = self.session.draft
        problem = draft.other_problem(draft.other_text)
        if problem is not None:
            self.state.error = Message(problem)
            self._changed()
            return
        self._idempotency_key = None
        draft.add_other(draft.other_text)
        draft.other_text = ""
        self._show(Screen.ITEMS)

    def change_other(self, index: int, delta: int) -> None:
        if self._touch() and 0 <= index < len(self.session.draft.others):
            self._idempotency_key = None
            self.session.draft.change_other(index, delta)
            self._changed()

    def back(self) -> None:
        """One step back inside item release (review → items, other → items)."""
        if self._touch() and self.state.screen in (Screen.REVIEW, Screen.OTHER):
            self._show(Screen.ITEMS)

    def review(self) -> None:
        if not self._touch():
            return
        if self.session.draft.empty:
            self.state.error = Message("items.none")
            self._changed()
            return
        self._show(Screen.REVIEW)

    def set_day(self, offset: int) -> None:
        if self._touch() and 0 <= offset <= MAX_DAY_OFFSET:
            self._idempotency_key = None
            self.session.draft.day_offset = offset
            self._changed()

    def planned_date(self) -> date:
        today = self.now().astimezone(ZoneInfo(self.state.timezone)).date()
        return today + timedelta(days=self.session.draft.day_offset)

    def confirm(self) -> None:
        """Check the printer, ask the server, print only what it confirmed (R-REL-4: the customer copy)."""
        if not self._touch() or self.state.screen is not Screen.REVIEW or self.session.unit is None:
            return
        self._submit()

    def _slip_request(self) -> SlipRequest:
        unit = self.session.unit
        assert unit is not None
        identity = ResidentIdentity(card=self.session.card, pin=None if self.session.card else self.session.pin)
        return SlipRequest(
            unit=unit.unit,
            applicant="owner" if unit.kind == "owner" else "tenant",
            identity=identity,
            items=self.session.draft.lines(),
            planned_date=self.planned_date(),
        )

    def _submit(self) -> None:
        request = self._slip_request()
        # One key per draft: a retry after a lost answer gets the same slip, never a second one.
        self._idempotency_key = self._idempotency_key or uuid.uuid4().hex
        key = self._idempotency_key

        def work() -> Any:
            try:
                self.printer.check()
            except PrintingError as exc:
                return exc  # nothing was sent to the server
            slip = self.api.request_slip(request, key)
            return self._print(slip)

        self._io(work, self._after_submit)

    def _print(self, slip: SlipOut) -> Printed | PrintFailed:
        try:
            self.printer.print(printable(slip, self.state.timezone))
        except PrintingError as exc:
            return PrintFailed(slip, exc)
        return Printed(slip)

    def _after_submit(self, result: Any) -> None:
        if isinstance(result, PrintingError):
            problem = faults.printer_problem(result)
            self._fault(Message("fault.printer_before", {"problem": problem}), Message("advice.nothing_sent"))
        elif isinstance(result, ApiError) and not faults.server_unreachable(result):
            self._idempotency_key = None
            self._refused(result)
        elif isinstance(result, Exception):
            self._unexpected(result, retry="submit")
        else:
            self._idempotency_key = None
            self._printed(result)

    def _printed(self, result: Printed | PrintFailed) -> None:
        slip = result.slip
        self.session.slip = slip
        values = {"number": slip.number, "valid_until": slip.print.valid_until_local if slip.print else ""}
        if isinstance(result, PrintFailed):
            values["problem"] = faults.printer_problem(result.error)
            self._fault(Message("fault.printer_after", values), Message("advice.reprint"), retry="print")
            return
        self.state.message, self.state.advice, self.state.retry = Message("done.printed", values), None, ""
        self._show(Screen.DONE)

    def retry(self) -> None:
        """ "Try again" on a fault screen: identify again, send the same request again, or print the slip again."""
        if not self._touch() or self.state.screen is not Screen.FAULT:
            return
        action, self.state.retry = self.state.retry, ""
        if action == "identify":
            self._show(Screen.IDENTIFY)
        elif action == "submit":
            self._submit()
        elif action in ("print", "reprint") and self.session.slip is not None:
            self._reprint(self.session.slip.number, self.session.slip.unit)

    # --- my requests ----------------------------------------------------------------------------------------------

    def reprint(self, number: str) -> None:
        """Print one's own unused slip again (the same token; the server logs the reprint)."""
        if not self._touch() or self.state.screen is not Screen.MY_SLIPS:
            return
        mine = next((s for s in self.session.my_slips if s.number == number and s.reprintable), None)
        if mine is None:
            return
        self._reprint(number, mine.unit)

    def _reprint(self, number: str, unit: str) -> None:
        # The server reprints only for the resident the slip was issued to, so the kiosk proves who asks again.
        proof = MySlipsRequest(unit=unit, identity=ResidentIdentity(card=self.session.card, pin=self.session.pin))

        def work() -> Any:
            try:
                self.printer.check()
            except PrintingError as exc:
                return exc
            return self._print(self.api.reprint(number, proof))

        def apply(result: Any) -> None:
            if isinstance(result, PrintingError):
                problem = faults.printer_problem(result)
                self._fault(Message("fault.printer_reprint", {"problem": problem}), Message("advice.front_desk"))
            elif isinstance(result, ApiError) and not faults.server_unreachable(result):
                self._refused(result)
            elif isinstance(result, Exception):
                self._unexpected(result, retry="")
            else:
                self._printed(result)

        self._io(work, apply)


def resident_unit(typed: str, unit: KioskResidentUnit) -> str:
    """The unit as the server spells it when it matches what was typed (5-8b, 5－8B …), else what was typed."""
    normal = typed.strip().upper().replace(" ", "")
    return unit.unit if unit.unit.replace(" ", "") == normal else normal
