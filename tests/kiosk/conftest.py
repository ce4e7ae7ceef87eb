"""Fixtures for kiosk tests: the kiosk's API client on a live server, the virtual printer, and a flow with a
hand-moved clock."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date, timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from devices.printing.virtual import VirtualPrinter
from kiosk.flows.kiosk_flow import KioskFlow
from kiosk.printer import UrlPrinter
from server.contract.client import EstateClient
from server.db.engine import make_sessionmaker
from server.db.models import Person
from tests.conftest import Household


@pytest.fixture
def kiosk_token(make_device: Callable[..., tuple]) -> str:
    return make_device("kiosk", "大堂自助机")[1]


@pytest.fixture
def gate_token(make_device: Callable[..., tuple]) -> str:
    return make_device("gate", "东门")[1]


@pytest.fixture
def api(live_server: str, kiosk_token: str) -> Iterator[EstateClient]:
    with EstateClient(live_server, kiosk_token) as client:
        yield client


@pytest.fixture
def printer(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(tmp_path / "printer") as virtual:
        yield virtual


def type_other(flow: KioskFlow, *words: tuple[str, str]) -> None:
    """Type on the "other item" keyboard: for each (pinyin, wanted) the letters, then the candidate `wanted`,
    turning candidate pages until it shows (as a resident would)."""
    for letters, wanted in words:
        for key in letters:
            flow.other_key(key)
        composer = flow.session.other
        assert composer is not None
        for _page in range(composer.pages):
            shown = [c.text for c in composer.shown]
            if wanted in shown:
                flow.other_pick(shown.index(wanted))
                break
            flow.other_key("next")
        else:
            raise AssertionError(f"{wanted!r} is not among the candidates of {letters!r}")


class HandClock:
    """A monotonic clock the test moves by hand (the kiosk's idle timer reads it)."""

    def __init__(self) -> None:
        self.t = 1000.0

    def __call__(self) -> float:
        return self.t

    def advance(self, seconds: float) -> None:
        self.t += seconds


@pytest.fixture
def clock() -> HandClock:
    return HandClock()


@pytest.fixture
def make_flow(
    api: EstateClient, printer: VirtualPrinter, clock: HandClock, household: Household
) -> Callable[..., KioskFlow]:
    def _make(*, client: object | None = None, printer_url: str | None = None, language: str = "zh") -> KioskFlow:
        flow = KioskFlow(
            client or api,  # type: ignore[arg-type]
            UrlPrinter(printer_url or printer.url, timeout=2.0),
            idle_seconds=60,
            language=language,
            monotonic=clock,
        )
        flow.start()
        return flow

    return _make


class LostAnswers(httpx.HTTPTransport):
    """Forwards requests to the server but loses the answer of the first `lose` slip requests, as a network
    that drops the connection after the server acted."""

    def __init__(self, lose: int = 1) -> None:
        super().__init__()
        self.lose = lose

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        if request.url.path.endswith("/slips") and self.lose > 0:
            self.lose -= 1
            response.read()
            raise httpx.ReadError("connection reset after the request was sent", request=request)
        return response


class Unreachable(httpx.BaseTransport):
    """No server answers at all (a cable out, the server down)."""

    def __init__(self) -> None:
        self.requests: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request.url.path)
        raise httpx.ConnectError("connection refused", request=request)


@pytest.fixture
def change(engine: Engine) -> Callable[[Callable[[Session], object]], None]:
    """`change(fn)`: run `fn(session)` in a writer's transaction of its own and commit, while the app serves."""

    def _change(fn: Callable[[Session], object]) -> None:
        with make_sessionmaker(engine)() as session:
            fn(session)
            session.commit()

    return _change


def end_occupancies(person_id: int) -> Callable[[Session], None]:
    """They moved out two days ago."""

    def _end(session: Session) -> None:
        person = session.get(Person, person_id)
        assert person is not None
        for occupancy in person.occupancies:
            occupancy.ends_on = date.today() - timedelta(days=2)

    return _end


def confirm_signed(flow: KioskFlow) -> None:
    """Confirm the review, sign the pad with one stroke (R-REL-2), and confirm the signed slip for printing."""
    flow.confirm()
    flow.sign_stroke([(0.1, 0.4), (0.3, 0.7), (0.5, 0.3), (0.8, 0.6)])
    flow.confirm()
