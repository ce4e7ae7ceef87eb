"""The service desk in a real kiosk window under Xvfb, in Chinese and in English: a repair request, a cleaning
booking and a feedback form, each confirmed and printed; the repair's printed code scanned at home; my repairs,
cleaning and feedback with a withdrawal. A screenshot of every screen goes to the test's tmp directory (a half-size
window: the same layout, quicker to save). Notes on a booking are typed as the feedback's words are (the flow
tests type both)."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from devices.printing.virtual import VirtualPrinter
from server.db.models import Estate
from tests.conftest import OWNER_CARD, Household
from tests.server.service.service_world import price_list, quick_hashing  # noqa: F401 (a fixture)

from .test_window import keys, run_window

pytestmark = [
    pytest.mark.gui,
    pytest.mark.usefixtures("quick_hashing"),
    pytest.mark.parametrize("database_url", ["sqlite"], indirect=True),
]

# Words typed on the on-screen keyboard: pinyin in Chinese, letters in English.
WORDS = {"zh": [*keys("chao"), ["shot"], ["pick", "吵"]], "en": [*keys("loud")]}


def steps(language: str) -> list[list[str]]:
    return [
        ["tap", "service.repair"],
        ["card", OWNER_CARD],
        ["tap", "repair.cat.plumbing"],
        ["tap", "repair.item.tap-leak"],
        ["tap", "place.kitchen"],
        ["tap_prefix", "slot."],
        ["probe", "desk.summary"],
        ["tap", "desk.confirm"],
        ["keep_receipt"],
        ["tap", "outcome.home"],
        ["tap", "service.cleaning"],
        ["card", OWNER_CARD],
        ["tap", "cleaning.item.deep-3h"],
        ["tap_prefix", "slot."],
        ["tap", "desk.confirm"],
        ["tap", "outcome.home"],
        ["tap", "service.feedback"],
        ["card", OWNER_CARD],
        ["tap", "feedback.kind.complaint"],
        ["tap", "topic.noise"],
        *WORDS[language],
        ["tap", "text.done"],
        ["tap", "contact.phone"],
        ["tap", "desk.confirm"],
        ["tap", "outcome.home"],
        ["scan_receipt"],
        ["probe", "order_state.text"],
        ["tap", "outcome.home"],
        ["tap", "service.my_requests"],
        ["card", OWNER_CARD],
        ["tap", "orders.open"],
        ["tap_prefix", "cancel."],
        ["tap_prefix", "cancel."],
        ["probe", "order.*"],
    ]


@pytest.mark.parametrize("language", ["zh", "en"])
def test_click_through_repair_cleaning_feedback_and_my_orders(
    xvfb_display: str,
    live_server: str,
    kiosk_token: str,
    household: Household,
    estate: Estate,
    db: Session,
    printer: VirtualPrinter,
    tmp_path: Path,
    language: str,
) -> None:
    """R-REP-1, R-CLN-1, R-FB-1 at the kiosk's screen: every screen drawn in the kiosk's language, three
    confirmations printed, and the repair's code scanned later shows that repair."""
    price_list(db, estate)
    settings = {
        "server": live_server,
        "printer": printer.url,
        "device_token": kiosk_token,
        "orientation": "portrait",
        "windowed": True,
        "language": language,
    }
    shots = tmp_path / "shots"
    lines = run_window(xvfb_display, settings, f"desk-{language}", steps(language), tmp_path, out=shots, scale=0.5)
    screens = [line["screen"] for line in lines if "shot" in line]
    expected = {
        "home", "identify", "repair_category", "repair_problem", "repair_place", "slot", "desk_review", "done",
        "cleaning_service", "desk_text", "feedback_kind", "feedback_topic", "feedback_contact", "order_state",
        "my_slips", "my_orders",
    }  # fmt: skip
    assert expected <= set(screens), set(screens)
    assert screens.count("done") == 3 and all(line["language"] == language for line in lines if "shot" in line)
    assert len(list(shots.glob(f"desk-{language}-*.png"))) == len(screens)
    summary, scanned, listed = [line["probe"] for line in lines if "probe" in line]
    price = {"zh": "¥30.00/次", "en": "¥30.00 per 次"}[language]
    assert price in summary["desk.summary"]["text"], summary
    jobs = printer.wait_for_jobs(3)
    assert all(job.printed for job in jobs)
    repair_code = jobs[0].qr_payloads[0].decode("ascii")
    number = repair_code.split(":")[1]
    assert number in scanned["order_state.text"]["text"]
    assert jobs[2].qr_payloads == ()  # a feedback form has no code to scan
    withdrawn = {"zh": "已撤回", "en": "Withdrawn"}[language]
    assert any(withdrawn in row["text"] for row in listed.values()), listed
