"""The kiosk's state machine, part one: its plumbing, home, idle reset and language.

The whole flow is home → identify → item release or my requests → printed slip; each part builds on the one
before (`identify`, `release`, then `kiosk_flow`).

Every touch is a method; every request to the server or the printer runs through the injected `runner` (the
Kivy layer runs it on a worker thread; tests run it inline), and its answer is applied only if the resident's
session is still the one that asked — after the idle reset nothing of theirs comes back on screen.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from devices.printing import PrintingError
from kiosk.api import KioskApi
from kiosk.flows import faults
from kiosk.flows.state import KioskState, Message, ResidentSession, Screen, Service
from kiosk.printer import SlipPrinter
from server.contract.client import ApiError
from server.contract.schemas import (
    SlipOut,
)
from terminal.pinyin import PinyinIndex, load_index

log = logging.getLogger(__name__)

Runner = Callable[[Callable[[], Any], Callable[[Any], None]], None]
MAX_KIOSK_PIN_TRIES = 3  # the server locks a PIN after 5; the kiosk sends the resident to the desk sooner
CARD_CHARS = frozenset("0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz")
MAX_DAY_OFFSET = 2


def inline(work: Callable[[], Any], done: Callable[[Any], None]) -> None:
    done(work())


class Printed:
    def __init__(self, slip: SlipOut) -> None:
        self.slip = slip


class PrintFailed:
    def __init__(self, slip: SlipOut, error: PrintingError) -> None:
        self.slip, self.error = slip, error


class FlowBase:
    """Plumbing every step uses: requests through the runner, screens, faults, home, idle reset, language."""

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
        pinyin: Callable[[], PinyinIndex] = load_index,
    ) -> None:
        self.api, self.printer, self.pinyin = api, printer, pinyin
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
            unit_letters=self.state.unit_letters,
            offline=self.state.offline,
        )
        self.last_touch = self.monotonic()
        self._changed()
        self.refresh_services()

    def refresh_services(self) -> None:
        def apply(result: Any) -> None:
            if isinstance(result, Exception):
                self.state.offline, self.state.services = True, []
                if isinstance(result, ApiError):  # an answer, said in one line (a 401 is also the heartbeat's)
                    log.error(
                        "the server refused the services list: %s %s: %s", result.status, result.code, result.message_en
                    )
                elif not faults.server_unreachable(result):
                    log.error("the kiosk could not read the services list", exc_info=result)
                return
            self.state.offline = False
            self.state.services = [Service(s) for s in result.services]
            self.state.estate_name, self.state.timezone = result.estate_name, result.timezone
            self.state.unit_letters = list(result.unit_letters)

        self._io(self._fetch_services, apply)

    def _fetch_services(self) -> Any:
        """What the server offers this kiosk (a `KioskServicesOut`)."""
        return self.api.kiosk_services()

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
