"""The kiosk's service desk as a state machine, against the real app (live server) and the virtual printer: a repair
request, a cleaning booking and a feedback form confirmed and printed; the printed code read back from the paper
and shown again at the kiosk; the server down mid-request and a lost answer retried; my orders and withdrawal."""

from __future__ import annotations

from collections.abc import Callable

import httpx
import numpy as np
import pytest
from PIL import Image
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing.virtual import VirtualPrinter
from devices.qr.decoders import make_decoder
from kiosk.flows.kiosk_flow import KioskFlow
from kiosk.flows.state import Screen, Service
from server.contract.client import EstateClient
from server.contract.schemas import ResidentIdentity
from server.contract.service import CleaningBookingIn
from server.db.models import Estate, FeedbackForm, ServiceOrder
from tests.conftest import OWNER_CARD, OWNER_PIN, Household
from tests.server.service.service_world import count, price_list, quick_hashing  # noqa: F401 (a fixture)

from .conftest import type_other

pytestmark = [
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
    pytest.mark.usefixtures("quick_hashing"),
]


class Flaky(httpx.HTTPTransport):
    """Forwards to the server, except for the first `times` requests whose path ends with `path`: those are
    either never delivered (`lose="request"`: the server is down) or lose their answer after the server acted
    (`lose="answer"`: the connection dropped on the way back)."""

    def __init__(self, path: str, lose: str, times: int = 1) -> None:
        super().__init__()
        self.path, self.lose, self.times = path, lose, times
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        hit = request.url.path.endswith(self.path) and self.times > 0
        if hit:
            self.times -= 1
            self.sent.append(request.headers.get("Idempotency-Key", ""))
            if self.lose == "request":
                raise httpx.ConnectError("connection refused", request=request)
        response = super().handle_request(request)
        if hit:
            response.read()
            raise httpx.ReadError("connection reset after the request was sent", request=request)
        return response


@pytest.fixture
def offered(db: Session, estate: Estate, household: Household) -> None:
    price_list(db, estate)


def swipe(flow: KioskFlow, card: str = OWNER_CARD) -> None:
    for char in card:
        flow.card_key(char)
    flow.card_enter()


def to_repair_review(flow: KioskFlow) -> None:
    flow.choose(Service.REPAIR)
    swipe(flow)
    assert flow.state.screen is Screen.REPAIR_CATEGORY, flow.state.message
    flow.repair_category("plumbing")
    flow.repair_problem("tap-leak")
    flow.repair_place("kitchen")
    assert flow.state.screen is Screen.SLOT
    flow.pick_slot(next(s for s in flow.desk.slots if s.free).start.isoformat())
    assert flow.state.screen is Screen.DESK_REVIEW


def qr_on_paper(printer: VirtualPrinter, number: int) -> list[str]:
    """The codes a real decoder reads on the printed job's picture."""
    job = printer.wait_for_jobs(number)[-1]
    assert job.printed and job.png_path is not None
    grey = np.asarray(Image.open(job.png_path).convert("L"))
    return [code.text for code in make_decoder("zxing").decode_grey(grey)]


def orders(db: Session) -> list[ServiceOrder]:
    db.rollback()
    return list(db.scalars(select(ServiceOrder)))


def test_home_offers_only_what_the_server_offers_for_this_estate(
    make_flow: Callable[..., KioskFlow], db: Session, estate: Estate, printer: VirtualPrinter, live_server: str,
    kiosk_token: str,
) -> None:  # fmt: skip
    """R-REP-1, R-CLN-1: repairs and cleaning show only once the estate's price list has them; feedback always."""
    flow = make_flow()
    assert flow.state.services == [Service.ITEM_RELEASE, Service.FEEDBACK, Service.MY_REQUESTS]
    flow.choose(Service.REPAIR)  # a button the home screen does not draw does nothing
    assert flow.state.screen is Screen.HOME
    price_list(db, estate)
    flow.home()
    assert flow.state.services == list(Service)
    # The server down: the home screen says so, offers nothing, and nothing is printed.
    with EstateClient(live_server, kiosk_token, transport=Flaky("", "request", times=99)) as down:
        flow = make_flow(client=down)
        assert flow.state.offline and flow.state.services == []
        flow.choose(Service.REPAIR)
        assert flow.state.screen is Screen.HOME
    assert printer.jobs == []


def test_repair_request_printed_with_its_price_and_a_code_that_shows_it_again(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, db: Session, offered: None
) -> None:
    """R-REP-1, R-REP-3: the common problem's listed price shown before confirming; the order opened for the
    slot and place picked; the confirmation printed from the server's answer, its QR read from the paper names
    the order, and scanned at the kiosk later it shows the order's state."""
    flow = make_flow()
    to_repair_review(flow)
    assert flow.desk.item is not None and flow.desk.item.price_fen == 3000 and flow.desk.item.paid
    slot = flow.desk.slot
    flow.desk_confirm()
    assert flow.state.screen is Screen.DONE, flow.state.message
    order = flow.desk.order
    assert order is not None and order.price_fen == 3000
    (row,) = orders(db)
    assert row.number == order.number and row.location == "厨房" and row.item is not None
    assert slot is not None and row.appointment_start is not None
    assert row.appointment_start.replace(tzinfo=None) == slot.start.replace(tzinfo=None)
    (code,) = qr_on_paper(printer, 1)
    assert code == order.receipt_code and code.startswith("SO1:") and order.number in code
    assert all(c in "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ $%*+-./:" for c in code)
    (job,) = printer.jobs
    assert any(order.number in line for line in job.text_lines)
    assert any("30.00" in line for line in job.text_lines)
    flow.home()
    for char in code.lower():  # a reader set to lower case still reads
        flow.scan_key(char)
    flow.scan_enter()
    assert flow.state.screen is Screen.ORDER_STATE
    assert flow.desk.shown is not None and flow.desk.shown.number == order.number
    assert flow.desk.shown.state == "new" and flow.desk.shown.receipt_code == ""
    # The next order's number with this order's mac: a forged code shows nothing.
    flow.home()
    for char in code.replace(order.number, order.number[:-4] + "0002"):
        flow.scan_key(char)
    flow.scan_enter()
    assert flow.state.screen is Screen.REFUSED
    assert flow.state.message is not None and flow.state.message.key == "refusal.receipt_unknown"


def test_server_down_mid_request_prints_nothing_then_retry_opens_one_order(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, db: Session, live_server: str, kiosk_token: str,
    offered: None,
) -> None:  # fmt: skip
    transport = Flaky("/service/repairs", "request")
    with EstateClient(live_server, kiosk_token, transport=transport) as client:
        flow = make_flow(client=client)
        to_repair_review(flow)
        flow.desk_confirm()
        assert flow.state.screen is Screen.FAULT and flow.state.retry == "desk_submit"
        assert flow.state.message is not None and flow.state.message.key == "fault.server_down"
        assert printer.jobs == [] and orders(db) == []
        flow.retry()
        assert flow.state.screen is Screen.DONE
    assert len(orders(db)) == 1 and len(printer.wait_for_jobs(1)) == 1


def test_a_lost_answer_retried_with_the_same_key_never_makes_two(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, db: Session, live_server: str, kiosk_token: str,
    offered: None,
) -> None:  # fmt: skip
    """R-REP-1, R-CLN-1, R-FB-1: the server acted but its answer was lost; nothing is printed until the retry,
    which sends the same Idempotency-Key and gets the same order or form."""
    paths = {Service.REPAIR: "/service/repairs", Service.CLEANING: "/service/cleanings", Service.FEEDBACK: "/feedback"}
    for printed, (service, path) in enumerate(paths.items(), start=1):
        transport = Flaky(path, "answer")
        with EstateClient(live_server, kiosk_token, transport=transport) as client:
            flow = make_flow(client=client)
            if service is Service.REPAIR:
                to_repair_review(flow)
            elif service is Service.CLEANING:
                flow.choose(Service.CLEANING)
                swipe(flow)
                flow.cleaning_service("deep-3h")
                flow.pick_slot(next(s for s in flow.desk.slots if s.free).start.isoformat())
            else:
                flow.choose(Service.FEEDBACK)
                swipe(flow)
                flow.feedback_kind("praise")
                flow.feedback_topic("staff")
                flow.text_done()
                flow.contact_back("none")
            flow.desk_confirm()
            assert flow.state.screen is Screen.FAULT and len(printer.jobs) == printed - 1
            flow.retry()
            assert flow.state.screen is Screen.DONE, flow.state.message
            first_key = transport.sent[0]
            assert first_key and transport.sent == [first_key]
        assert len(printer.wait_for_jobs(printed)) == printed
    db.rollback()
    assert count(db, ServiceOrder) == 2 and count(db, FeedbackForm) == 1


def test_cleaning_booking_with_notes_typed_in_pinyin(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, db: Session, offered: None
) -> None:
    """R-CLN-1: a service of the price list, a booked slot and the resident's notes; the booking printed."""
    flow = make_flow()
    flow.choose(Service.CLEANING)
    swipe(flow)
    assert flow.state.screen is Screen.CLEANING_SERVICE
    flow.cleaning_service("deep-3h")
    flow.desk_back()
    assert flow.state.screen is Screen.CLEANING_SERVICE
    flow.cleaning_service("deep-3h")
    flow.pick_slot(next(s for s in flow.desk.slots if s.free).start.isoformat())
    flow.open_text()
    assert flow.state.screen is Screen.DESK_TEXT
    type_other(flow_text(flow), ("chufang", "厨房"))
    flow.text_done()
    assert flow.state.screen is Screen.DESK_REVIEW and flow.desk.text == "厨房"
    flow.desk_confirm()
    assert flow.state.screen is Screen.DONE
    (row,) = orders(db)
    assert row.kind.value == "cleaning" and row.description == "厨房" and row.price_fen == 18000
    (code,) = qr_on_paper(printer, 1)
    assert flow.desk.order is not None and code == flow.desk.order.receipt_code


def test_feedback_form_with_words_typed_in_pinyin(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, db: Session, household: Household
) -> None:
    """R-FB-1: received the same day on a feedback form, with the kind, the topic, the words and how to be
    contacted back; the form number printed."""
    flow = make_flow()
    flow.choose(Service.FEEDBACK)
    swipe(flow)
    flow.feedback_kind("complaint")
    flow.feedback_topic("noise")
    assert flow.state.screen is Screen.DESK_TEXT
    type_other(flow_text(flow), ("zaoyin", "噪音"))
    flow.text_key("z")
    flow.text_done()  # letters not yet turned into characters: pick first
    assert flow.state.screen is Screen.DESK_TEXT and flow.state.error is not None
    flow.text_key("back")
    flow.text_done()
    assert flow.state.screen is Screen.FEEDBACK_CONTACT
    flow.desk_back()  # back to the words, as typed
    assert flow.state.screen is Screen.DESK_TEXT and flow.desk.composer is not None
    assert flow.desk.composer.text == "噪音"
    flow.text_done()
    flow.contact_back("phone")
    flow.desk_confirm()
    assert flow.state.screen is Screen.DONE
    db.rollback()
    (form,) = db.scalars(select(FeedbackForm))
    assert form.category.value == "complaint" and form.subject == "噪音扰民" and form.details == "噪音"
    assert flow.desk.form is not None and form.number == flow.desk.form.number
    (job,) = printer.wait_for_jobs(1)
    assert any(form.number in line for line in job.text_lines) and job.qr_payloads == ()


def test_my_orders_show_state_and_withdraw_the_one_not_taken_up(
    make_flow: Callable[..., KioskFlow], db: Session, offered: None
) -> None:
    flow = make_flow()
    to_repair_review(flow)
    flow.desk_confirm()
    number = flow.desk.order.number if flow.desk.order else ""
    flow.home()
    flow.choose(Service.MY_REQUESTS)
    flow.identify_mode("pin")
    for key in "5-8B":
        flow.keypad(key)
    flow.focus("pin")
    for key in OWNER_PIN:
        flow.keypad(key)
    flow.submit_pin()
    assert flow.state.screen is Screen.MY_SLIPS
    flow.my_orders()
    assert flow.state.screen is Screen.MY_ORDERS
    (mine,) = flow.desk.orders
    assert mine.number == number and mine.withdrawable and mine.appointment_start is not None
    flow.cancel_order(number)  # the first tap asks
    assert flow.desk.cancelling == number and orders(db)[0].state.value == "new"
    flow.cancel_order(number)
    assert flow.state.screen is Screen.MY_ORDERS
    assert flow.desk.orders[0].state == "cancelled" and not flow.desk.orders[0].withdrawable
    assert orders(db)[0].state.value == "cancelled"
    flow.desk_back()
    assert flow.state.screen is Screen.MY_SLIPS


def flow_text(flow: KioskFlow) -> KioskFlow:
    """The flow as `type_other` types: its keys go to the desk's keyboard."""

    class Typist:
        def other_key(self, key: str) -> None:
            flow.text_key(key)

        def other_pick(self, position: int) -> None:
            flow.text_pick(position)

        @property
        def session(self) -> object:
            class Box:
                other = flow.desk.composer

            return Box

    return Typist()  # type: ignore[return-value]


def test_a_slot_booked_up_meanwhile_sends_the_resident_back_to_the_slots(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, api: EstateClient, offered: None
) -> None:
    """R-CLN-1: the cleaners' slot filled while the resident reviewed: nothing is booked or printed, the slots
    come back as they are now with a word why, and another slot books."""
    flow = make_flow()
    flow.choose(Service.CLEANING)
    swipe(flow)
    flow.cleaning_service("deep-3h")
    slot = next(s for s in flow.desk.slots if s.free)
    flow.pick_slot(slot.start.isoformat())
    for _ in range(slot.free):  # the desk books it up for others meanwhile
        api.book_cleaning(CleaningBookingIn(unit="5-8B", identity=ResidentIdentity(card=OWNER_CARD), item="deep-3h",
                                            slot=slot.start))  # fmt: skip
    flow.desk_confirm()
    assert flow.state.screen is Screen.SLOT and flow.state.error is not None
    assert flow.state.error.key == "slot.full" and flow.desk.slot is None and printer.jobs == []
    assert next(s for s in flow.desk.slots if s.start == slot.start).free == 0
    flow.pick_slot(slot.start.isoformat())  # a full slot cannot be picked
    assert flow.state.screen is Screen.SLOT
    flow.pick_slot(next(s for s in flow.desk.slots if s.free).start.isoformat())
    flow.desk_confirm()
    assert flow.state.screen is Screen.DONE and len(printer.wait_for_jobs(1)) == 1
