"""Faults at the kiosk: the server unreachable, answers lost, the printer out of paper, open or offline — and
the privacy reset after the idle time."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing.virtual import PrinterState, VirtualPrinter
from kiosk.flows.kiosk_flow import KioskFlow
from kiosk.flows.state import Screen, Service
from kiosk.printer import UrlPrinter
from server.contract.client import EstateClient
from server.db.models import ReleaseSlip
from tests.conftest import OWNER_CARD, wait_until

from .conftest import HandClock, LostAnswers, Unreachable, confirm_signed

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def slips(db: Session) -> list[ReleaseSlip]:
    db.rollback()
    return list(db.scalars(select(ReleaseSlip)))


def to_review(flow: KioskFlow) -> None:
    flow.choose(Service.ITEM_RELEASE)
    for char in OWNER_CARD:
        flow.card_key(char)
    flow.card_enter()
    flow.add("SOFA")
    flow.review()
    assert flow.state.screen is Screen.REVIEW


def test_server_down_at_home_shows_no_service_buttons(make_flow: Callable[..., KioskFlow]) -> None:
    client = EstateClient("http://kiosk.invalid", "t", transport=Unreachable())
    flow = make_flow(client=client)
    assert flow.state.screen is Screen.HOME and flow.state.offline and flow.state.services == []
    flow.choose(Service.ITEM_RELEASE)
    assert flow.state.screen is Screen.HOME


def test_server_down_at_confirm_sends_nothing_half_and_retry_completes(
    make_flow: Callable[..., KioskFlow],
    api: EstateClient,
    live_server: str,
    kiosk_token: str,
    printer: VirtualPrinter,
    db: Session,
) -> None:
    flow = make_flow()
    to_review(flow)
    down = EstateClient(live_server, kiosk_token, transport=Unreachable())
    flow.api = down
    confirm_signed(flow)
    assert flow.state.screen is Screen.FAULT and flow.state.message is not None
    assert flow.state.message.key == "fault.server_down" and flow.state.retry == "submit"
    assert slips(db) == [] and printer.jobs == []
    flow.api = api  # the cable is back
    flow.retry()
    assert flow.state.screen is Screen.DONE
    assert len(slips(db)) == 1 and printer.wait_for_jobs(1)[0].printed


def test_a_lost_answer_retried_makes_one_slip_not_two(
    make_flow: Callable[..., KioskFlow], live_server: str, kiosk_token: str, printer: VirtualPrinter, db: Session
) -> None:
    lossy = EstateClient(live_server, kiosk_token, transport=LostAnswers(lose=1))
    flow = make_flow(client=lossy)
    to_review(flow)
    confirm_signed(flow)
    assert flow.state.screen is Screen.FAULT and flow.state.message is not None
    assert flow.state.message.key == "fault.server_down"
    # The server acted (it commits just after answering); the kiosk did not hear it, so it printed nothing.
    wait_until(lambda: len(slips(db)) == 1, what="the slip on the server")
    assert printer.jobs == []
    flow.retry()
    assert flow.state.screen is Screen.DONE
    (slip,) = slips(db)
    assert flow.session.slip is not None and flow.session.slip.number == slip.number
    (job,) = printer.wait_for_jobs(1)
    assert job.qr_payloads == (slip.token.encode(),)


@pytest.mark.parametrize(
    ("state", "problem"),
    [
        (PrinterState.OUT, "printer.paper_out"),
        (PrinterState.COVER_OPEN, "printer.cover_open"),
        (PrinterState.SILENT, "printer.offline"),
    ],
)
def test_printer_not_ready_before_means_nothing_is_requested(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, db: Session, state: PrinterState, problem: str
) -> None:
    flow = make_flow()
    to_review(flow)
    printer.state = state
    confirm_signed(flow)
    assert flow.state.screen is Screen.FAULT and flow.state.message is not None
    assert flow.state.message.key == "fault.printer_before"
    assert flow.state.message.values == {"problem": problem}
    assert flow.state.advice is not None and flow.state.advice.key == "advice.nothing_sent"
    assert slips(db) == []


def test_printer_unplugged_before(make_flow: Callable[..., KioskFlow], db: Session) -> None:
    flow = make_flow(printer_url="tcp://127.0.0.1:9")
    to_review(flow)
    confirm_signed(flow)
    assert flow.state.message is not None and flow.state.message.values == {"problem": "printer.offline"}
    assert slips(db) == []


class FailsAfterCheck(UrlPrinter):
    """The printer passes the check, then runs out (or its cover is opened) before the job."""

    def __init__(self, virtual: VirtualPrinter, then: PrinterState) -> None:
        super().__init__(virtual.url, timeout=2.0)
        self.virtual, self.then = virtual, then

    def check(self) -> None:
        super().check()
        self.virtual.state = self.then


@pytest.mark.parametrize(
    ("then", "problem"), [(PrinterState.OUT, "printer.paper_out"), (PrinterState.COVER_OPEN, "printer.cover_open")]
)
def test_printer_fails_after_the_server_issued_the_slip_stays_valid_and_reprints(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, db: Session, then: PrinterState, problem: str
) -> None:
    flow = make_flow()
    flow.printer = FailsAfterCheck(printer, then)
    to_review(flow)
    confirm_signed(flow)
    assert flow.state.screen is Screen.FAULT and flow.state.message is not None
    assert flow.state.message.key == "fault.printer_after" and flow.state.message.values["problem"] == problem
    (slip,) = slips(db)
    assert flow.state.message.values["number"] == slip.number and slip.state.value == "issued"
    assert flow.state.advice is not None and flow.state.advice.key == "advice.reprint"
    assert flow.state.retry == "print"
    printer.state = PrinterState.OK  # paper loaded, cover closed
    flow.printer = UrlPrinter(printer.url, timeout=2.0)
    flow.retry()
    assert flow.state.screen is Screen.DONE
    printed = [j for j in printer.wait_for_jobs(1) if j.printed]
    assert printed[-1].qr_payloads == (slip.token.encode(),)
    (again,) = slips(db)
    assert again.reprints == 1


def test_idle_goes_home_and_wipes_everything(make_flow: Callable[..., KioskFlow], clock: HandClock) -> None:
    flow = make_flow()
    flow.toggle_language()
    to_review(flow)
    clock.advance(59)
    flow.tick()
    assert flow.state.screen is Screen.REVIEW
    clock.advance(1)
    flow.tick()
    state = flow.state
    assert state.screen is Screen.HOME and state.language == "zh"
    session = state.session
    assert session.card is None and session.display_name == "" and session.unit is None
    assert session.draft.empty and session.catalogue == [] and session.slip is None
    assert state.message is None and state.error is None


def test_an_answer_arriving_after_the_reset_is_dropped(
    make_flow: Callable[..., KioskFlow], clock: HandClock, api: EstateClient, printer: VirtualPrinter
) -> None:
    pending: list[tuple[Callable[[], Any], Callable[[Any], None]]] = []
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    flow.runner = lambda work, done: pending.append((work, done))
    for char in OWNER_CARD:
        flow.card_key(char)
    flow.card_enter()
    assert flow.state.busy
    clock.advance(120)
    flow.tick()
    assert flow.state.screen is Screen.IDENTIFY  # never reset under a request in flight
    work, done = pending.pop()
    flow.reset()  # the kiosk is reset (e.g. restarted screen) while the answer is still on its way
    pending.clear()
    done(work())
    assert flow.state.screen is Screen.HOME and flow.session.display_name == "" and flow.session.catalogue == []
