"""My requests: a resident's own slips and their states, reprint of an unused one; and the kiosk routes' answers."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing.virtual import VirtualPrinter
from kiosk.flows.kiosk_flow import KioskFlow
from kiosk.flows.state import Screen, Service
from server.contract.client import ApiError, EstateClient
from server.contract.schemas import (
    CountedLine,
    ItemLineIn,
    MySlipsRequest,
    ReleaseRequest,
    ResidentIdentity,
    SlipRequest,
)
from server.db.models import ApplicantKind, AuditEntry, Estate, ReleaseSlip
from server.domain import clock
from server.domain.actors import Actor
from server.domain.slips import eligibility, issuing
from tests.conftest import OWNER_CARD, OWNER_PIN, TENANT_CARD, Household, wait_until

DESK = Actor("user", 1, "desk")


def owner_slip(api: EstateClient, estate: Estate, code: str = "SOFA", key: str | None = None) -> str:
    request = SlipRequest(
        unit="5-8B",
        applicant="owner",
        identity=ResidentIdentity(card=OWNER_CARD),
        items=[ItemLineIn(code=code, quantity=1)],
        planned_date=clock.local_day(estate, issuing.utcnow()),
    )
    return api.request_slip(request, key).number


def expired_slip(change: Callable[..., None], estate: Estate, household: Household) -> None:
    def _issue(session: Session) -> None:
        when = issuing.utcnow() - timedelta(days=3)
        day = clock.local_day(estate, when)
        unit, owner = session.merge(household.unit), session.merge(household.owner)
        here = session.merge(estate)
        applicant = eligibility.check(
            session, DESK, here, unit, ApplicantKind.owner, owner, channel="console", today=day
        )
        draft = issuing.SlipDraft([issuing.LineDraft("BED", None, 1)], day)
        issuing.issue(session, DESK, here, unit, applicant, draft, channel="console", now=when)

    change(_issue)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_my_requests_lists_states_and_reprints_the_unused_slip(
    make_flow: Callable[..., KioskFlow],
    api: EstateClient,
    live_server: str,
    gate_token: str,
    change: Callable[..., None],
    estate: Estate,
    household: Household,
    printer: VirtualPrinter,
    db: Session,
) -> None:
    expired_slip(change, estate, household)
    released, refused, unused = (owner_slip(api, estate, c) for c in ("SOFA", "TV", "WASH"))
    with EstateClient(live_server, gate_token) as gate:
        owner = MySlipsRequest(identity=ResidentIdentity(card=OWNER_CARD))
        token = api.reprint(released, owner).token
        gate.release(ReleaseRequest(text=token, guard="老张", lines=[CountedLine(line=1, counted=1)]))
        token = api.reprint(refused, owner).token
        gate.release(ReleaseRequest(text=token, guard="老张", lines=[CountedLine(line=1, counted=2)], reason="多一台"))
    flow = make_flow()
    flow.choose(Service.MY_REQUESTS)
    flow.identify_mode("pin")
    for key in "5-8B":
        flow.keypad(key)
    flow.focus("pin")
    for key in OWNER_PIN:
        flow.keypad(key)
    flow.submit_pin()
    assert flow.state.screen is Screen.MY_SLIPS
    listed = {s.number: s for s in flow.session.my_slips}
    states = [s.state for s in flow.session.my_slips]
    assert states == ["issued", "refused", "released", "expired"]  # newest first
    assert listed[released].gate_at is not None and listed[refused].gate_at is not None
    assert [n for n, s in listed.items() if s.reprintable] == [unused]
    flow.reprint(released)  # not reprintable: nothing happens
    assert flow.state.screen is Screen.MY_SLIPS
    flow.reprint(unused)
    assert flow.state.screen is Screen.DONE
    job = printer.wait_for_jobs(1)[-1]
    db.rollback()
    slip = db.scalar(select(ReleaseSlip).where(ReleaseSlip.number == unused))
    assert slip is not None and job.qr_payloads == (slip.token.encode(),) and slip.reprints == 1
    assert db.scalar(
        select(AuditEntry).where(AuditEntry.action == "slip.reprint", AuditEntry.entity_id == str(slip.id))
    )


def test_kiosk_routes_answer_and_only_kiosks_use_them(
    api: EstateClient, live_server: str, gate_token: str, estate: Estate, household: Household
) -> None:
    services = api.kiosk_services()
    assert services.services == ["item_release", "my_requests"] and services.timezone == "Asia/Shanghai"
    items = {i.code: i for i in api.catalogue().items}
    assert items["SOFA"].name == "沙发" and items["SOFA"].name_en == "sofa"
    owner_slip(api, estate)
    mine = api.my_slips(MySlipsRequest(identity=ResidentIdentity(card=OWNER_CARD)))
    assert [s.state for s in mine.slips] == ["issued"]
    theirs = api.my_slips(MySlipsRequest(identity=ResidentIdentity(card=TENANT_CARD)))
    assert theirs.slips == []  # nothing of one resident is shown to another
    with pytest.raises(ApiError) as wrong:
        api.my_slips(MySlipsRequest(unit="5-8B", identity=ResidentIdentity(pin="0000")))
    assert wrong.value.code == "wrong_pin"
    with EstateClient(live_server, gate_token) as gate, pytest.raises(ApiError) as refused:
        gate.kiosk_services()
    assert refused.value.code == "wrong_device_kind"


def test_a_retried_slip_request_with_the_same_key_makes_one_slip(
    api: EstateClient, estate: Estate, household: Household, db: Session
) -> None:
    first = owner_slip(api, estate, key="kiosk-retry-0001")
    again = owner_slip(api, estate, key="kiosk-retry-0001")
    other = owner_slip(api, estate, key="kiosk-retry-0002")
    assert first == again != other
    wait_until(lambda: (db.rollback(), len(db.scalars(select(ReleaseSlip)).all()))[1] == 2, what="both slips")
    assert len(db.scalars(select(ReleaseSlip)).all()) == 2


def test_the_kiosk_routes_are_documented(api: EstateClient, live_server: str) -> None:
    import httpx

    spec = httpx.get(f"{live_server}/api/v1/openapi.json").json()
    for path in ("/api/v1/kiosk/services", "/api/v1/kiosk/catalogue", "/api/v1/kiosk/my-slips"):
        assert path in spec["paths"]
    parameters = spec["paths"]["/api/v1/slips"]["post"]["parameters"]
    assert any(p["name"].lower() == "idempotency-key" for p in parameters)
