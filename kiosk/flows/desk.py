"""The kiosk's service desk: a repair request (R-REP-1), a home-cleaning booking (R-CLN-1) and a feedback form
(R-FB-1), each confirmed by the server before anything is printed; the resident's own requests with withdrawal of
one nobody has taken up; and an order's state shown when its printed confirmation's QR code is scanned at home.

repair:   category → common problem → where in the unit → time slot → review (price, notes) → confirm → printed
cleaning: service → time slot → review (price, notes) → confirm → printed
feedback: kind → topic → words (on-screen keyboard, pinyin) → how to be contacted back → review → confirm → printed
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from devices.printing import PrintingError, ServiceReceiptPrint
from kiosk import receipts
from kiosk.flows import faults
from kiosk.flows.desk_draft import CONTACT_BACK, MAX_TEXT_CHARS, PLACES, TOPICS, DeskDraft
from kiosk.flows.identify import IdentifySteps
from kiosk.flows.state import DESK_SERVICES, Message, Screen, Service
from server.contract import order_receipt
from server.contract.client import ApiError
from server.contract.schemas import ResidentIdentity
from server.contract.service import (
    CleaningBookingIn,
    FeedbackIn,
    FeedbackOut,
    RepairRequestIn,
    ServiceOrderOut,
    ServiceResidentIn,
)
from terminal.pinyin import Composer

log = logging.getLogger(__name__)

HOME_ORDER = (Service.ITEM_RELEASE, Service.REPAIR, Service.CLEANING, Service.FEEDBACK, Service.MY_REQUESTS)
FIRST_SCREEN = {
    Service.REPAIR: Screen.REPAIR_CATEGORY,
    Service.CLEANING: Screen.CLEANING_SERVICE,
    Service.FEEDBACK: Screen.FEEDBACK_KIND,
}
# One step back from each screen of a request.
BACK = {
    Screen.REPAIR_PROBLEM: Screen.REPAIR_CATEGORY,
    Screen.REPAIR_PLACE: Screen.REPAIR_PROBLEM,
    Screen.FEEDBACK_TOPIC: Screen.FEEDBACK_KIND,
    Screen.MY_ORDERS: Screen.MY_SLIPS,
}
MAX_SCAN_CHARS = 64


class DeskPrinted:
    def __init__(self, answer: ServiceOrderOut | FeedbackOut) -> None:
        self.answer = answer


class DeskPrintFailed:
    def __init__(self, answer: ServiceOrderOut | FeedbackOut, error: PrintingError) -> None:
        self.answer, self.error = answer, error


class DeskSteps(IdentifySteps):
    """Repairs, cleaning, feedback and my orders, on top of identification."""

    @property
    def desk(self) -> DeskDraft:
        return self.session.desk

    # --- home: what is offered, and a scanned confirmation --------------------------------------------------------

    def _fetch_services(self) -> Any:
        """The release services and the service desk's, in home-screen order: only what the server offers."""
        offered = super()._fetch_services()
        try:
            desk = self.api.service_catalogue().offered
        except ApiError as exc:
            if faults.server_unreachable(exc):
                raise
            log.error("the server refused the service catalogue: %s %s", exc.status, exc.code)
            desk = []
        names = {*offered.services, *desk}
        return offered.model_copy(update={"services": [s.value for s in HOME_ORDER if s.value in names]})

    def scan_key(self, char: str) -> None:
        """A character typed by the code reader (a keyboard to the kiosk) on the home screen."""
        self.last_touch = self.monotonic()
        if self.state.screen is Screen.HOME and char.isprintable() and len(self.desk.scanned) < MAX_SCAN_CHARS:
            self.desk.scanned += char

    def scan_enter(self) -> None:
        """The reader's Enter: a confirmation's code shows that order as it stands; anything else is ignored."""
        if not self._touch() or self.state.screen is not Screen.HOME:
            return
        text, self.desk.scanned = self.desk.scanned, ""
        if order_receipt.parse(text) is None:
            return

        def apply(result: Any) -> None:
            if isinstance(result, ApiError) and not faults.server_unreachable(result):
                self._refused(result)
            elif isinstance(result, Exception):
                self._unexpected(result, retry="")
            else:
                self.desk.shown = result
                self._show(Screen.ORDER_STATE)

        self._io(lambda: self.api.order_by_receipt(text), apply)

    # --- after identification -------------------------------------------------------------------------------------

    def _fetch_for(self, service: Service | None) -> Any:
        if service not in DESK_SERVICES:
            return super()._fetch_for(service)
        catalogue = self.api.service_catalogue()
        kind = {Service.REPAIR: "repair", Service.CLEANING: "cleaning"}.get(service)  # type: ignore[call-overload]
        return catalogue, self.api.service_slots(kind) if kind else None

    def _identified(self, fetched: Any) -> None:
        if self.session.service not in DESK_SERVICES:
            super()._identified(fetched)
            return
        catalogue, found = fetched
        self.session.desk = DeskDraft(catalogue=catalogue, slots=list(found.slots) if found else [])

    def _first_screen(self) -> Screen:
        service = self.session.service
        return FIRST_SCREEN[service] if service in FIRST_SCREEN else super()._first_screen()

    def _picked(self, screen: Screen) -> None:
        """A choice changed the request: a new one gets a new key; then the next screen."""
        self._idempotency_key = None
        self._show(screen)

    # --- repair (R-REP-1) -----------------------------------------------------------------------------------------

    def repair_category(self, code: str) -> None:
        known = any(c.code == code for c in self.desk.categories("repair"))
        if self._touch() and self.state.screen is Screen.REPAIR_CATEGORY and known:
            self.desk.category, self.desk.item = code, None
            self._picked(Screen.REPAIR_PROBLEM)

    def repair_problem(self, code: str) -> None:
        if self._touch() and self.state.screen is Screen.REPAIR_PROBLEM:
            item = next((i for i in self.desk.problems() if i.code == code), None)
            if item is not None:
                self.desk.item = item
                self._picked(Screen.REPAIR_PLACE)

    def repair_place(self, code: str) -> None:
        if self._touch() and self.state.screen is Screen.REPAIR_PLACE and code in PLACES:
            self.desk.place = code
            self._picked(Screen.SLOT)

    # --- cleaning (R-CLN-1) ---------------------------------------------------------------------------------------

    def cleaning_service(self, code: str) -> None:
        if self._touch() and self.state.screen is Screen.CLEANING_SERVICE:
            item = next((i for i in self.desk.cleaning_items() if i.code == code), None)
            if item is not None:
                self.desk.item = item
                self._picked(Screen.SLOT)

    def pick_slot(self, start: str) -> None:
        """A time slot by its start (ISO text); a full one cannot be picked."""
        if not self._touch() or self.state.screen is not Screen.SLOT:
            return
        slot = next((s for s in self.desk.slots if s.start.isoformat() == start and s.free > 0), None)
        if slot is not None:
            self.desk.slot = slot
            self._picked(Screen.DESK_REVIEW)

    # --- feedback (R-FB-1) ----------------------------------------------------------------------------------------

    def feedback_kind(self, code: str) -> None:
        catalogue = self.desk.catalogue
        known = catalogue is not None and any(c.code == code for c in catalogue.feedback)
        if self._touch() and self.state.screen is Screen.FEEDBACK_KIND and known:
            self.desk.feedback_kind = code
            self._picked(Screen.FEEDBACK_TOPIC)

    def feedback_topic(self, code: str) -> None:
        if self._touch() and self.state.screen is Screen.FEEDBACK_TOPIC and code in TOPICS:
            self.desk.topic = code
            self._idempotency_key = None
            self.open_text()

    def contact_back(self, code: str) -> None:
        if self._touch() and self.state.screen is Screen.FEEDBACK_CONTACT and code in CONTACT_BACK:
            self.desk.contact_back = code
            self._picked(Screen.DESK_REVIEW)

    # --- words on the on-screen keyboard: notes, or the feedback's details ----------------------------------------

    def open_text(self) -> None:
        if not self._touch():
            return
        mode = "latin" if self.state.language == "en" else "pinyin"
        composer = Composer(self.pinyin(), max_chars=MAX_TEXT_CHARS, mode=mode)
        for char in self.desk.text:  # carry on from what was typed before
            composer.text += char
        self.desk.composer = composer
        self._show(Screen.DESK_TEXT)

    def text_key(self, key: str) -> None:
        """A key of the on-screen keyboard: a letter or digit, or back, space, clear, mode, prev, next."""
        composer = self.desk.composer
        if not self._touch() or composer is None or self.state.screen is not Screen.DESK_TEXT:
            return
        composer.press(key)
        self.state.error = None
        self._changed()

    def text_pick(self, position: int) -> None:
        composer = self.desk.composer
        if self._touch() and composer is not None and self.state.screen is Screen.DESK_TEXT:
            composer.pick(position)
            self._changed()

    def text_done(self) -> None:
        composer = self.desk.composer
        if not self._touch() or composer is None or self.state.screen is not Screen.DESK_TEXT:
            return
        if composer.letters:
            self.state.error = Message("other.pick_first")
            self._changed()
            return
        self.desk.text, self.desk.composer = " ".join(composer.text.split()), None
        self._idempotency_key = None
        feedback = self.session.service is Service.FEEDBACK
        self._show(Screen.FEEDBACK_CONTACT if feedback else Screen.DESK_REVIEW)

    # --- back -----------------------------------------------------------------------------------------------------

    def desk_back(self) -> None:
        """One step back inside a request."""
        if not self._touch():
            return
        screen, service = self.state.screen, self.session.service
        if screen is Screen.DESK_TEXT:
            self.desk.composer = None
            target = Screen.FEEDBACK_TOPIC if service is Service.FEEDBACK else Screen.DESK_REVIEW
        elif screen is Screen.SLOT:
            target = Screen.REPAIR_PLACE if service is Service.REPAIR else Screen.CLEANING_SERVICE
        elif screen is Screen.FEEDBACK_CONTACT:
            self.open_text()  # the words as typed, to change
            return
        elif screen is Screen.DESK_REVIEW:
            target = Screen.FEEDBACK_CONTACT if service is Service.FEEDBACK else Screen.SLOT
        elif screen in BACK:
            target = BACK[screen]
        else:
            return
        self._show(target)

    # --- confirm and print ----------------------------------------------------------------------------------------

    def desk_confirm(self) -> None:
        """Check the printer, ask the server, print only what it confirmed."""
        if self._touch() and self.state.screen is Screen.DESK_REVIEW and self.session.unit is not None:
            self._desk_submit()

    def _resident(self) -> tuple[str, ResidentIdentity]:
        unit = self.session.unit
        assert unit is not None
        return unit.unit, ResidentIdentity(card=self.session.card, pin=None if self.session.card else self.session.pin)

    def _desk_request(self) -> Any:
        """The request as the API takes it, and the call that sends it."""
        unit, identity = self._resident()
        desk, service = self.desk, self.session.service
        if service is Service.FEEDBACK:
            body = FeedbackIn(
                unit=unit,
                identity=identity,
                category=desk.feedback_kind,  # type: ignore[arg-type]
                subject=TOPICS[desk.topic],
                details=desk.text,
                contact_back=desk.contact_back,  # type: ignore[arg-type]
            )
            return body, self.api.give_feedback
        assert desk.item is not None and desk.slot is not None
        if service is Service.REPAIR:
            repair = RepairRequestIn(
                unit=unit,
                identity=identity,
                item=desk.item.code,
                location=PLACES[desk.place],
                description=desk.text,
                slot=desk.slot.start,
            )
            return repair, self.api.request_repair
        cleaning = CleaningBookingIn(
            unit=unit, identity=identity, item=desk.item.code, slot=desk.slot.start, description=desk.text
        )
        return cleaning, self.api.book_cleaning

    def _desk_submit(self) -> None:
        body, send = self._desk_request()
        # One key per request as reviewed: a retry after a lost answer gets the same order, never a second one.
        self._idempotency_key = self._idempotency_key or uuid.uuid4().hex
        key = self._idempotency_key

        def work() -> Any:
            try:
                self.printer.check()
            except PrintingError as exc:
                return exc  # nothing was sent to the server
            return self._desk_print(send(body, key))

        self._io(work, self._after_desk_submit)

    def _receipt(self, answer: ServiceOrderOut | FeedbackOut) -> ServiceReceiptPrint:
        estate, zone = self.state.estate_name, self.state.timezone
        if isinstance(answer, FeedbackOut):
            contact = {"phone": "电话 Phone", "visit": "上门 Visit", "none": "无需回复 No reply"}
            return receipts.feedback_receipt(answer, estate, zone, contact[self.desk.contact_back])
        place = self.desk.place
        return receipts.order_receipt(
            answer, estate, zone, f"{PLACES[place]} {place}".replace("_", " ") if place else ""
        )

    def _desk_print(self, answer: ServiceOrderOut | FeedbackOut) -> DeskPrinted | DeskPrintFailed:
        try:
            self.printer.print_receipt(self._receipt(answer))
        except PrintingError as exc:
            return DeskPrintFailed(answer, exc)
        return DeskPrinted(answer)

    def _after_desk_submit(self, result: Any) -> None:
        if isinstance(result, PrintingError):
            problem = faults.printer_problem(result)
            self._fault(Message("fault.printer_before", {"problem": problem}), Message("advice.nothing_sent"))
        elif isinstance(result, ApiError) and result.code == "slot_full":
            self._idempotency_key = None
            self._slot_gone()
        elif isinstance(result, ApiError) and not faults.server_unreachable(result):
            self._idempotency_key = None
            self._refused(result)
        elif isinstance(result, Exception):
            self._unexpected(result, retry="desk_submit")  # the same key: the server opens nothing twice
        else:
            self._idempotency_key = None
            self._desk_printed(result)

    def _slot_gone(self) -> None:
        """The slot was booked up meanwhile: the slots as they are now, and a word why."""
        kind = "repair" if self.session.service is Service.REPAIR else "cleaning"

        def apply(result: Any) -> None:
            if isinstance(result, Exception):
                self._unexpected(result, retry="")
                return
            self.desk.slots, self.desk.slot = list(result.slots), None
            self._show(Screen.SLOT)
            self.state.error = Message("slot.full")
            self._changed()

        self._io(lambda: self.api.service_slots(kind), apply)

    def _desk_printed(self, result: DeskPrinted | DeskPrintFailed) -> None:
        answer = result.answer
        if isinstance(answer, FeedbackOut):
            self.desk.form = answer
        else:
            self.desk.order = answer
        values = {"number": answer.number}
        if isinstance(result, DeskPrintFailed):
            values["problem"] = faults.printer_problem(result.error)
            self._fault(Message("fault.desk_printer_after", values), Message("advice.desk_number"), "desk_print")
            return
        done = "done.feedback" if isinstance(answer, FeedbackOut) else f"done.{answer.kind}"
        self.state.message, self.state.advice, self.state.retry = Message(done, values), None, ""
        self._show(Screen.DONE)

    def retry(self) -> None:
        """ "Try again" on a fault screen: send the same request again (same key), or print its confirmation again."""
        action = self.state.retry
        if action not in ("desk_submit", "desk_print"):
            super().retry()
            return
        if not self._touch() or self.state.screen is not Screen.FAULT:
            return
        self.state.retry = ""
        answer = self.desk.form or self.desk.order
        if action == "desk_submit":
            self._desk_submit()
        elif answer is not None:
            self._io(lambda: self._desk_print(answer), self._desk_printed)

    # --- my orders ------------------------------------------------------------------------------------------------

    def _proof(self) -> ServiceResidentIn:
        """The resident identified again, as at the kiosk's identify screen (the PIN with the unit it opens)."""
        units = self.session.units
        unit = self.session.unit.unit if self.session.unit else (units[0].unit if units else None)
        identity = ResidentIdentity(card=self.session.card, pin=None if self.session.card else self.session.pin)
        return ServiceResidentIn(unit=unit if identity.pin else None, identity=identity)

    def my_orders(self) -> None:
        """From my slips: the resident's repairs, cleanings and feedback as they stand."""
        if not self._touch() or self.state.screen not in (Screen.MY_SLIPS, Screen.MY_ORDERS):
            return
        proof = self._proof()

        def apply(result: Any) -> None:
            if isinstance(result, ApiError) and not faults.server_unreachable(result):
                self._refused(result)
            elif isinstance(result, Exception):
                self._unexpected(result, retry="")
            else:
                self.desk.orders, self.desk.forms, self.desk.cancelling = list(result.orders), list(result.feedback), ""
                self._show(Screen.MY_ORDERS)

        self._io(lambda: self.api.my_requests(proof), apply)

    def cancel_order(self, number: str) -> None:
        """Withdraw one's own request nobody has taken up: the first tap asks, the second withdraws."""
        if not self._touch() or self.state.screen is not Screen.MY_ORDERS:
            return
        mine = next((o for o in self.desk.orders if o.number == number and o.withdrawable), None)
        if mine is None:
            return
        if self.desk.cancelling != number:
            self.desk.cancelling = number
            self._changed()
            return
        proof, key = self._proof(), uuid.uuid4().hex

        def work() -> Any:
            self.api.withdraw_request(number, proof, key)
            return self.api.my_requests(proof)

        def apply(result: Any) -> None:
            self.desk.cancelling = ""
            if isinstance(result, ApiError) and not faults.server_unreachable(result):
                self._refused(result)
            elif isinstance(result, Exception):
                self._unexpected(result, retry="")
            else:
                self.desk.orders, self.desk.forms = list(result.orders), list(result.feedback)
                self.state.error = Message("my.cancelled", {"number": number})
                self._changed()

        self._io(work, apply)
