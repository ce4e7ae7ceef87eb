"""The item-release path of the kiosk flow against the real app (live server) and the virtual printer."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from devices.printing.virtual import VirtualPrinter
from kiosk.flows.kiosk_flow import KioskFlow
from kiosk.flows.state import Screen, Service
from server.contract import slip_token
from server.contract.client import ApiError, EstateClient
from server.contract.schemas import KioskIdentify
from server.db.models import AuditEntry, Estate, ReleaseSlip
from server.domain import registry
from server.domain.actors import SYSTEM
from server.domain.slips import catalogue
from terminal.i18n import Catalogue
from tests.conftest import OWNER_CARD, OWNER_PIN, TENANT_CARD, TENANT_PIN, Household

from .conftest import confirm_signed, end_occupancies, type_other

LOCALES = Path(__file__).resolve().parents[2] / "kiosk" / "locales"

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def swipe(flow: KioskFlow, card: str) -> None:
    for char in card:
        flow.card_key(char)
    flow.card_enter()


def type_pin(flow: KioskFlow, unit: str, pin: str) -> None:
    flow.identify_mode("pin")
    flow.focus("unit")
    for key in unit:
        flow.keypad(key)
    flow.focus("pin")
    for key in pin:
        flow.keypad(key)
    flow.submit_pin()


def slips(db: Session) -> int:
    db.rollback()
    return db.scalar(select(func.count()).select_from(ReleaseSlip)) or 0


def test_home_shows_only_what_the_server_offers(make_flow: Callable[..., KioskFlow]) -> None:
    flow = make_flow()
    assert flow.state.screen is Screen.HOME and not flow.state.offline
    # Feedback is always offered; repairs and cleaning only with a price list (this estate has none).
    assert flow.state.services == [Service.ITEM_RELEASE, Service.FEEDBACK, Service.MY_REQUESTS]
    assert flow.state.estate_name == "观海台"


def test_owner_by_card_gets_a_printed_slip_with_its_qr(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter, db: Session
) -> None:
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, OWNER_CARD)
    assert flow.state.screen is Screen.ITEMS
    assert flow.session.display_name == "王*国" and flow.session.unit is not None
    assert flow.session.unit.unit == "5-8B" and flow.session.unit.kind == "owner"
    flow.add("SOFA")
    flow.add("SOFA")
    flow.add("FRDG")
    flow.remove("FRDG")
    flow.open_other()
    type_other(flow, ("jiu", "旧"), ("shujia", "书架"))
    flow.add_other()
    flow.review()
    assert flow.state.screen is Screen.REVIEW
    flow.set_day(1)
    confirm_signed(flow)
    assert flow.state.screen is Screen.DONE, flow.state.message
    slip = flow.session.slip
    assert slip is not None and flow.state.message is not None
    assert flow.state.message.values["number"] == slip.number
    assert [(i.code, i.name, i.quantity) for i in slip.items] == [("SOFA", "沙发", 2), (None, "旧书架", 1)]
    assert slip.planned_date == flow.planned_date() and slip.applicant_kind == "owner"
    (job,) = printer.wait_for_jobs(1)
    assert job.printed and job.qr_payloads == (slip.token.encode(),)
    assert slip_token.decode(slip.token).claims.number == slip.number
    assert slips(db) == 1


def test_tenant_by_unit_and_pin(make_flow: Callable[..., KioskFlow], printer: VirtualPrinter) -> None:
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    type_pin(flow, "5-8B", TENANT_PIN)
    assert flow.state.screen is Screen.ITEMS and flow.session.unit is not None
    assert flow.session.unit.kind == "tenant"
    flow.add("BOX")
    flow.review()
    confirm_signed(flow)
    assert flow.state.screen is Screen.DONE
    assert flow.session.slip is not None and flow.session.slip.applicant_kind == "tenant"
    assert printer.wait_for_jobs(1)[0].printed


def test_unit_and_pin_are_both_asked_for(make_flow: Callable[..., KioskFlow]) -> None:
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    flow.identify_mode("pin")
    flow.submit_pin()
    assert flow.state.error is not None and flow.state.error.key == "identify.enter_unit"
    for key in "5-8B":
        flow.keypad(key)
    flow.submit_pin()
    assert flow.state.error is not None and flow.state.error.key == "identify.enter_pin"
    assert flow.session.identify.field == "pin"


def test_wrong_pins_are_limited_and_counted_by_the_server(
    make_flow: Callable[..., KioskFlow], db: Session, household: Household
) -> None:
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    type_pin(flow, "5-8B", "0000")
    assert flow.state.screen is Screen.IDENTIFY and flow.state.error is not None
    assert flow.state.error.key == "identify.wrong_pin" and flow.state.error.values == {"left": "2"}
    assert flow.session.identify.pin == ""  # a wrong PIN is not left on screen
    type_pin(flow, "", "1111")
    type_pin(flow, "", "2222")
    assert flow.state.screen is Screen.REFUSED and flow.state.message is not None
    assert flow.state.message.key == "refusal.too_many_pins"
    assert flow.state.advice is not None and flow.state.advice.key == "advice.front_desk"
    assert flow.session.identify.wrong_pins == 3 and flow.session.card is None and flow.session.pin is None


def test_a_locked_pin_is_refused_plainly(make_flow: Callable[..., KioskFlow], api: EstateClient) -> None:
    for _ in range(5):  # wrong PINs from anywhere count towards the server's lock
        with pytest.raises(ApiError, match="wrong_pin"):
            api.identify(KioskIdentify(unit="5-8B", pin="0000"))
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    type_pin(flow, "5-8B", OWNER_PIN)
    assert flow.state.screen is Screen.REFUSED and flow.state.message is not None
    assert flow.state.message.key == "refusal.pin_locked"
    assert flow.state.advice is not None and flow.state.advice.key == "advice.front_desk"


def test_unknown_card_and_unknown_unit_stay_on_identify(make_flow: Callable[..., KioskFlow]) -> None:
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, "99999999")
    assert flow.state.screen is Screen.IDENTIFY and flow.state.error is not None
    assert flow.state.error.key == "identify.unknown_card"
    type_pin(flow, "9-9Z", "1234")
    assert flow.state.error is not None and flow.state.error.key == "identify.unknown_unit"


def test_arrears_send_the_tenant_to_finance(
    make_flow: Callable[..., KioskFlow], db: Session, household: Household, printer: VirtualPrinter
) -> None:
    registry.set_arrears(db, SYSTEM, household.unit, 120000, "物业费")
    db.commit()
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, TENANT_CARD)
    # R-REL-5: refused right after identification, before picking any item.
    assert flow.state.screen is Screen.REFUSED and flow.state.message is not None
    assert flow.state.message.key == "refusal.arrears_outstanding"
    assert flow.state.message.values["amount"] == "¥1,200.00"
    assert flow.state.advice is not None and flow.state.advice.key == "advice.finance"
    assert slips(db) == 0 and printer.jobs == []


def test_arrears_found_while_picking_still_refuse_the_slip(
    make_flow: Callable[..., KioskFlow], db: Session, household: Household, printer: VirtualPrinter
) -> None:
    """R-REL-5 is judged again when the slip is asked for: arrears booked while the tenant stands at the kiosk."""
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, TENANT_CARD)
    assert flow.state.screen is Screen.ITEMS
    registry.set_arrears(db, SYSTEM, household.unit, 120000, "物业费")
    db.commit()
    flow.add("BED")
    flow.review()
    confirm_signed(flow)
    assert flow.state.screen is Screen.REFUSED and flow.state.message is not None
    assert flow.state.message.key == "refusal.arrears_outstanding"
    assert slips(db) == 0 and printer.jobs == []


def test_the_unit_keypad_offers_the_estates_letters(
    make_flow: Callable[..., KioskFlow], db: Session, estate: Estate, household: Household
) -> None:
    registry.ensure_unit(db, SYSTEM, estate, "12-3K")
    db.commit()
    flow = make_flow()
    assert flow.unit_keys() == ["-", "B", "K"]  # the letters of 5-8B and 12-3K, from the server's registry
    flow.choose(Service.ITEM_RELEASE)
    flow.identify_mode("pin")
    for key in "12-3KC":  # no unit of this estate has a C: the key does not exist, a typed C is ignored
        flow.keypad(key)
    assert flow.session.identify.unit == "12-3K"


@pytest.mark.parametrize(("who", "code"), [("owner", "not_owner"), ("tenant", "not_resident")])
def test_someone_elses_unit_is_sent_to_the_front_desk(
    make_flow: Callable[..., KioskFlow],
    db: Session,
    change: Callable[..., None],
    household: Household,
    who: str,
    code: str,
) -> None:
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, OWNER_CARD if who == "owner" else TENANT_CARD)
    flow.add("TV")
    flow.review()
    person = household.owner if who == "owner" else household.tenant
    change(end_occupancies(person.id))  # they moved out while standing at the kiosk
    confirm_signed(flow)
    assert flow.state.screen is Screen.REFUSED and flow.state.message is not None
    assert flow.state.message.key == f"refusal.{code}"
    assert flow.state.advice is not None and flow.state.advice.key == "advice.front_desk"
    assert slips(db) == 0


def test_a_resident_without_a_current_unit_is_refused(
    make_flow: Callable[..., KioskFlow], change: Callable[..., None], household: Household
) -> None:
    change(end_occupancies(household.tenant.id))
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, TENANT_CARD)
    assert flow.state.screen is Screen.REFUSED and flow.state.message is not None
    assert flow.state.message.key == "refusal.no_units"


def test_owner_of_two_units_picks_one(
    make_flow: Callable[..., KioskFlow], db: Session, estate: Estate, household: Household
) -> None:
    other = registry.ensure_unit(db, SYSTEM, estate, "6-2A")
    registry.add_occupancy(db, SYSTEM, other, db.merge(household.owner), registry.OccupancyKind.owner, date(2021, 1, 1))
    db.commit()
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, OWNER_CARD)
    assert flow.state.screen is Screen.UNIT_PICK
    assert sorted(u.unit for u in flow.session.units) == ["5-8B", "6-2A"]
    flow.pick_unit("6-2A")
    assert flow.state.screen is Screen.ITEMS and flow.session.unit is not None and flow.session.unit.unit == "6-2A"


def test_item_lines_are_checked_before_review(make_flow: Callable[..., KioskFlow]) -> None:
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, OWNER_CARD)
    flow.review()
    assert flow.state.screen is Screen.ITEMS and flow.state.error is not None and flow.state.error.key == "items.none"
    flow.open_other()
    flow.other_key("space")
    flow.add_other()
    assert flow.state.screen is Screen.OTHER and flow.state.error is not None and flow.state.error.key == "other.empty"
    type_other(flow, *[("yi", "一")] * 16)
    composer = flow.session.other
    assert composer is not None and composer.text == "一" * 16
    flow.other_key("y")
    assert composer.letters == ""  # the keyboard stops at what a slip line holds
    flow.other_key("back")
    flow.other_key("y")
    flow.add_other()  # letters not yet turned into characters are not sent as they are
    assert flow.state.error is not None and flow.state.error.key == "other.pick_first"
    flow.back()
    codes = [item.code for item in flow.session.catalogue][:10]
    for code in codes:
        flow.add(code)
    flow.add(flow.session.catalogue[10].code)
    assert flow.state.error is not None and flow.state.error.key == "items.full"
    assert flow.session.draft.line_count == 10
    flow.add(codes[0])  # more of a line already there is fine
    assert flow.session.draft.quantities[codes[0]] == 2


def test_long_free_text_names_stop_where_the_slip_code_would_shrink(
    make_flow: Callable[..., KioskFlow], printer: VirtualPrinter
) -> None:
    """The kiosk asks the token codec, before the server, whether one more name still prints at full size."""
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, OWNER_CARD)
    names = [f"红木雕花大衣柜带穿衣镜和抽屉{n}号" for n in range(10)]
    words = ["hong", "mu", "diao", "hua", "da", "yi", "gui", "dai", "chuan", "yi", "jing", "he", "chou", "ti"]
    for n, name in enumerate(names):
        flow.open_other()
        type_other(flow, *zip(words, name, strict=False))
        flow.other_key(str(n))
        type_other(flow, ("hao", "号"))
        flow.add_other()
    assert flow.state.error is not None and flow.state.error.key == "other.no_room"
    assert [n for n, _ in flow.session.draft.others] == names[:9]
    flow.back()
    flow.add("SOFA")  # a catalogue line is short enough to go on
    flow.review()
    confirm_signed(flow)
    assert flow.state.screen is Screen.DONE, (flow.state.message, [j.errors for j in printer.jobs])
    slip = flow.session.slip
    assert slip is not None and len(slip.token) <= slip_token.MAX_TOKEN_CHARS
    (job,) = printer.wait_for_jobs(1)
    assert job.qr_payloads == (slip.token.encode("ascii"),)


def test_refusals_and_views_are_recorded(
    make_flow: Callable[..., KioskFlow], db: Session, household: Household
) -> None:
    registry.set_arrears(db, SYSTEM, household.unit, 500, "水费")
    db.commit()
    flow = make_flow()
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, TENANT_CARD)
    flow.add("BED")
    flow.review()
    confirm_signed(flow)
    db.rollback()
    actions = set(db.scalars(select(AuditEntry.action)))
    assert "slip.request_refused" in actions


@pytest.mark.parametrize("language", ["zh", "en"])
def test_a_server_refusal_reads_in_the_kiosks_language_only(
    make_flow: Callable[..., KioskFlow], change: Callable[..., None], estate: Estate, language: str
) -> None:
    """An item taken off the catalogue while the resident picks: the server's own words, in one language."""
    flow = make_flow(language=language)
    flow.choose(Service.ITEM_RELEASE)
    swipe(flow, OWNER_CARD)
    flow.add("PIANO")
    flow.review()

    def withdraw_piano(session: Session) -> None:
        piano = next(i for i in catalogue.items(session, session.merge(estate)) if i.code == "PIANO")
        catalogue.set_active(session, SYSTEM, session.merge(estate), piano.id, False)

    change(withdraw_piano)
    confirm_signed(flow)
    assert flow.state.screen is Screen.REFUSED and flow.state.message is not None
    assert flow.state.message.key == "refusal.other"
    shown = Catalogue(LOCALES, language).t(flow.state.message.key, **flow.state.message.values)
    if language == "en":
        assert shown == "Not done: PIANO is not in the catalogue"
    else:
        assert shown == "未能办理：物品目录中没有 PIANO"
