"""The manager's monthly report pack (server/domain/monthly_report.py, /console/reports) and the slip register
《物品放行条记录单》 on paper (R-REL-4): the figures of seeded records, the pack's sections, who may read it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.console.i18n import translate
from server.db.models import (
    AlarmKind,
    Channel,
    Estate,
    FeedbackCategory,
    FeedbackForm,
    KeyAlarm,
    OrderState,
    ServiceKind,
    ServiceOrder,
    SlipRelease,
    SlipState,
)
from server.domain import monthly_report
from server.domain.errors import DomainError
from tests.conftest import Household
from tests.server.console.conftest import Account
from tests.server.slips.conftest import direct_slip
from tests.server.slips.pdf_text import pdf_text

NOW = datetime(2026, 12, 1, 2, 0, tzinfo=UTC)  # the pack of November is made on 1 December
NOV = datetime(2026, 11, 10, 2, 0, tzinfo=UTC)
SECTIONS = (
    "releases",
    "refusals",
    "repairs",
    "cleaning",
    "feedback",
    "keys",
    "duty",
    "move_ins",
    "renovations",
    "vacancy",
)


def _seed(db: Session, estate: Estate, household: Household) -> list[str]:
    """Two slips used at two gates (one refused), two repairs (one done within the day but its return late), a
    complaint and a cabinet alarm, all in November 2026; and a repair of December, which the pack leaves out."""
    numbers = []
    for gate, outcome, reason in (("东门", "released", ""), ("西门", "refused", "数量不符")):
        slip = direct_slip(db, estate, household, now=NOV)
        slip.state = SlipState(outcome)
        db.add(SlipRelease(slip_id=slip.id, estate_id=estate.id, gate=gate, guard="张保安", outcome=outcome,
                           reason=reason, at=NOV + timedelta(hours=3)))  # fmt: skip
        numbers.append(slip.number)
    for n, (created, done, state) in enumerate(
        ((NOV, NOV + timedelta(hours=5), OrderState.done), (NOV, None, OrderState.new), (NOW, None, OrderState.new))
    ):
        db.add(ServiceOrder(estate_id=estate.id, kind=ServiceKind.repair, number=f"GH-WX-202611-{n:04}", state=state,
                            channel=Channel.phone, unit_id=household.unit.id, contact_name="王", category="plumbing",
                            created_by="t", created_at=created, done_at=done,
                            due_at=NOV + timedelta(days=1) if done else None))  # fmt: skip
    db.add(FeedbackForm(estate_id=estate.id, number="GH-YJ-202611-0001", channel=Channel.phone,
                        category=FeedbackCategory.complaint, contact_name="王", subject="噪音", received_at=NOV,
                        created_by="t"))  # fmt: skip
    db.add(KeyAlarm(estate_id=estate.id, kind=AlarmKind.wrong_slot, board=1, slot=2, at=NOV))
    db.commit()
    return numbers


def test_r_rel_r_rep_r_fb_r_key_monthly_pack_figures_sections_and_permission(
    app: FastAPI,
    db: Session,
    estate: Estate,
    household: Household,
    as_role: Callable[..., tuple[TestClient, Account]],
) -> None:
    numbers = _seed(db, estate, household)
    report = monthly_report.monthly_report(db, estate, NOV.date(), NOW, 50)
    db.commit()
    assert report.releases == {"issued": 2, "released": 1, "refused": 1, "expired": 0, "cancelled": 0}
    assert {g: dict(c) for g, c in report.by_gate.items()} == {"东门": {"released": 1}, "西门": {"refused": 1}}
    assert dict(report.refusals) == {"数量不符": 1}
    assert (report.repairs["opened"], report.repairs["completed"], report.repairs["late"]) == (2, 1, 1)
    assert dict(report.repair_lead) == {"within_1_day": 1} and report.repairs["mean_lead_hours"] == 5
    assert report.feedback is not None and dict(report.feedback.by_category) == {"complaint": 1}
    assert dict(report.alarms) == {"wrong_slot": 1}
    assert report.cutoff == datetime(2026, 11, 30, 16, 0, tzinfo=UTC)  # midnight in Shanghai, not "now"

    app.state.clock = lambda: NOW
    manager, _ = as_role("cs_manager")
    listing = manager.get("/console/reports")
    assert listing.status_code == 200 and "/console/reports/monthly.pdf?month=2026-11" in listing.text
    pack = manager.get("/console/reports/monthly.pdf?month=2026-11")
    assert pack.headers["content-type"] == "application/pdf"
    text = pdf_text(pack.content)
    for section in SECTIONS:
        assert translate("zh", f"reports.s.{section}") in text, section
    assert "月度管理报告" in text and "观海台" in text and "2026-11" in text
    assert all(word in text for word in ("东门", "西门", "数量不符", "投诉", "放错格", "1 天内"))
    assert "1 / " in text  # every page numbered
    assert manager.get("/console/reports/monthly.pdf?month=2026-13").status_code == 400

    register = manager.get("/console/slips/export.pdf?day=2026-11-10")
    assert register.headers["content-type"] == "application/pdf"
    text = pdf_text(register.content)
    assert "《物品放行条记录单》" in text and all(n in text for n in numbers) and "治安队长" in text
    assert numbers[0] not in pdf_text(manager.get("/console/slips/export.pdf").content)  # no day: today's (1 Dec)

    desk, _ = as_role("front_desk")  # no reports.view: the pack is the managers'
    assert desk.get("/console/reports").status_code == 403
    assert desk.get("/console/reports/monthly.pdf?month=2026-11").status_code == 403


def test_a_month_that_is_not_one_is_a_clear_error() -> None:
    for bad in ("2026-13", "26-11", "x", "1999-01"):
        try:
            monthly_report.parse_month(bad)
        except DomainError as error:
            assert error.code == "bad_month"
        else:
            raise AssertionError(bad)
