"""The kiosk's state machine, part three: item release — pick, review, sign, print (R-REL-2, R-REL-5)."""

from __future__ import annotations

import base64
import uuid
from datetime import date, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from devices.printing import PrintingError
from kiosk.flows import faults
from kiosk.flows.base import (
    MAX_DAY_OFFSET,
    Printed,
    PrintFailed,
)
from kiosk.flows.draft import MAX_OTHER_CHARS
from kiosk.flows.identify import IdentifySteps
from kiosk.flows.state import Message, Screen
from kiosk.printer import printable
from server.contract.client import ApiError
from server.contract.schemas import (
    ResidentIdentity,
    SlipOut,
    SlipRequest,
)
from terminal.pinyin import Composer


class ReleaseSteps(IdentifySteps):
    """Item release: pick items, review, confirm with the server, then print what it confirmed."""

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
        """The "other item" box with the on-screen keyboard: pinyin in Chinese, letters in English."""
        if self._touch():
            mode = "latin" if self.state.language == "en" else "pinyin"
            self.session.other = Composer(self.pinyin(), max_chars=MAX_OTHER_CHARS, mode=mode)
            self._show(Screen.OTHER)

    def other_key(self, key: str) -> None:
        """A key of the on-screen keyboard: a letter or digit, or back, space, clear, mode, prev, next."""
        composer = self.session.other
        if not self._touch() or composer is None or self.state.screen is not Screen.OTHER:
            return
        composer.press(key)
        self.state.error = None
        self._changed()

    def other_pick(self, position: int) -> None:
        """A candidate of the current page picked."""
        composer = self.session.other
        if self._touch() and composer is not None and self.state.screen is Screen.OTHER:
            composer.pick(position)
            self._changed()

    def add_other(self) -> None:
        composer = self.session.other
        if not self._touch() or composer is None or self.state.screen is not Screen.OTHER:
            return
        draft = self.session.draft
        problem = "other.pick_first" if composer.letters else draft.other_problem(composer.text)
        if problem is not None:
            self.state.error = Message(problem)
            self._changed()
            return
        self._idempotency_key = None
        draft.add_other(composer.text)
        self.session.other = None
        self._show(Screen.ITEMS)

    def change_other(self, index: int, delta: int) -> None:
        if self._touch() and 0 <= index < len(self.session.draft.others):
            self._idempotency_key = None
            self.session.draft.change_other(index, delta)
            self._changed()

    def back(self) -> None:
        """One step back inside item release (review → items, other → items, signing → review)."""
        if self._touch() and self.state.screen is Screen.SIGN:
            self._show(Screen.REVIEW)
        elif self._touch() and self.state.screen in (Screen.REVIEW, Screen.OTHER):
            self.session.other = None
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
        """On the review: on to signing. Signed: check the printer, ask the server, print only what it confirmed
        (R-REL-2: the owner signs first; R-REL-4: the customer copy)."""
        if not self._touch() or self.session.unit is None:
            return
        if self.state.screen is Screen.REVIEW:
            self._show(Screen.SIGN)
        elif self.state.screen is Screen.SIGN:
            if self.session.signature.empty:
                self.state.error = Message("sign.first")
                self._changed()
                return
            self._submit()

    def sign_stroke(self, points: list[tuple[float, float]]) -> None:
        """One stroke of the finger on the signature pad, in the pad's coordinates (0–1 across and up)."""
        if self._touch() and self.state.screen is Screen.SIGN and self.session.signature.add(points):
            self._idempotency_key = None  # a changed signature is a new request
            self.state.error = None
            self._changed()

    def sign_clear(self) -> None:
        if self._touch() and self.state.screen is Screen.SIGN:
            self._idempotency_key = None
            self.session.signature.clear()
            self._changed()

    def _slip_request(self) -> SlipRequest:
        unit = self.session.unit
        assert unit is not None
        identity = ResidentIdentity(card=self.session.card, pin=None if self.session.card else self.session.pin)
        return SlipRequest(
            unit=unit.unit,
            applicant=unit.applicant,
            identity=identity,
            items=self.session.draft.lines(),
            planned_date=self.planned_date(),
            signature_png_b64=base64.b64encode(self.session.signature.png()).decode(),
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
