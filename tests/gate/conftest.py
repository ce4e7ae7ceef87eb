"""Fixtures for the gate terminal: slips issued to the household, a guard with a PIN and card, gate devices, a server
that can be stopped and started again on the same database, and gates wired to it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session

from gate.flows.gate_flow import GateFlow
from gate.link import GateLink
from gate.storage import open_storage
from server.config import Settings
from server.contract.client import EstateClient
from server.db.engine import make_engine
from server.db.models import ApplicantKind, Estate, ReleaseSlip, Role, StaffUser
from server.domain import clock, guards
from server.domain.actors import SYSTEM, Actor
from server.domain.slips import eligibility, issuing
from server.web.app import create_app
from tests.conftest import Household, free_port, serve_in_thread

STAFF = Actor("user", 1, "desk")
GUARD_PIN = "135791"
GUARD_CARD = "STAFF-0042"


def issue_slip(
    db: Session,
    estate: Estate,
    household: Household,
    lines: list[tuple[str | None, str | None, int]] | None = None,
    now: datetime | None = None,
) -> ReleaseSlip:
    """An owner's slip issued at the front desk (no HTTP), committed."""
    when = now or issuing.utcnow()
    day = clock.local_day(estate, when)
    applicant = eligibility.check(
        db, STAFF, estate, household.unit, ApplicantKind.owner, household.owner, channel="console", today=day
    )
    drafts = [issuing.LineDraft(c, n, q) for c, n, q in (lines or [("SOFA", None, 1), (None, "旧书架", 2)])]
    slip = issuing.issue(
        db, STAFF, estate, household.unit, applicant, issuing.SlipDraft(drafts, day), channel="console", now=when
    )
    db.commit()
    return slip


@pytest.fixture
def slip_maker(db: Session, estate: Estate, household: Household) -> Callable[..., ReleaseSlip]:
    def _make(**kwargs: object) -> ReleaseSlip:
        return issue_slip(db, estate, household, **kwargs)  # type: ignore[arg-type]

    return _make


@pytest.fixture
def guard(db: Session, estate: Estate, make_user: Callable[..., StaffUser]) -> StaffUser:
    user = make_user(Role.gate_guard, username="zhang_guard")
    user.display_name = "张保安"
    guards.set_credentials(db, SYSTEM, estate, user, pin=GUARD_PIN, card=GUARD_CARD)
    db.commit()
    return user


class Switch(httpx.BaseTransport):
    """A network cable that can be pulled: while `down`, every request fails to connect. `sent` lists the paths
    of the requests that went through."""

    def __init__(self, inner: httpx.BaseTransport) -> None:
        self.inner = inner
        self.down = False
        self.sent: list[str] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if self.down:
            raise httpx.ConnectError("network down", request=request)
        self.sent.append(request.url.path)
        return self.inner.handle_request(request)


class HandClock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@dataclass
class Gate:
    flow: GateFlow
    link: GateLink
    client: EstateClient
    switch: Switch | None
    clock: HandClock


def now_utc() -> datetime:
    return datetime.now(UTC)


def build_gate(
    data_dir: Path, base_url: str, token: str, name: str, transport: httpx.BaseTransport | None = None
) -> Gate:
    switch = Switch(transport) if transport is not None else None
    client = EstateClient(base_url, token, timeout=2.0, transport=switch)
    storage = open_storage(data_dir)
    link = GateLink(client, storage.store, storage.outbox, gate_name=name, clock=now_utc)
    hand = HandClock()
    flow = GateFlow(link, today=lambda: clock.local_day(Estate(timezone="Asia/Shanghai"), now_utc()), monotonic=hand)
    return Gate(flow, link, client, switch, hand)


@pytest.fixture
def make_gate(client: TestClient, make_device: Callable[..., tuple], tmp_path: Path) -> Iterator[Callable[..., Gate]]:
    """`make_gate(name)`: a gate device enrolled on the server, talking to the app in-process through a switch."""
    made: list[Gate] = []

    def _make(name: str = "东门") -> Gate:
        _device, token = make_device("gate", name)
        gate = build_gate(tmp_path / f"gate-{len(made)}", "http://testserver", token, name, client._transport)
        made.append(gate)
        return gate

    yield _make
    for gate in made:
        gate.client.close()


class RestartableServer:
    """uvicorn serving the app on one port and one database; `stop()` and `start()` as often as needed."""

    def __init__(self, settings: Settings, database_url: str) -> None:
        self.settings = settings
        self.database_url = database_url
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._engine: Engine | None = None
        self._stop: Callable[[], None] | None = None

    @property
    def running(self) -> bool:
        return self._stop is not None

    def start(self) -> None:
        self._engine = make_engine(self.database_url)
        self._stop = serve_in_thread(create_app(self.settings, self._engine), self.port)

    def stop(self) -> None:
        assert self._stop is not None and self._engine is not None
        self._stop()
        self._engine.dispose()
        self._stop = self._engine = None


@pytest.fixture
def restartable_server(settings: Settings, database_url: str) -> Iterator[RestartableServer]:
    server = RestartableServer(settings, database_url)
    server.start()
    yield server
    if server.running:
        server.stop()
