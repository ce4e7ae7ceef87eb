"""The dashboards (issue 21): each role sees the figures of the areas its permissions open — what is due today, late
or unusual — each a link to the filtered list it counts; and the chart JSON endpoints count the seeded records and
refuse a role that may not see them (R-REL-4, R-REL-6, R-KEY-12, R-REP-8, R-FB-1, R-REN-2, R-VAC-6)."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from server.domain.actors import SYSTEM
from server.domain.slips import reconciliation
from tests.conftest import csrf_of
from tests.server.console.conftest import Registry
from tests.server.console.dashboards import figures, seed

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

TODAY = {"slips-slips_today": 5, "slips-slips_issued": 2, "slips-slips_released": 1, "slips-slips_refused": 1,
         "slips-slips_cancelled": 1, "slips-slips_expired": 0, "slips-countersigns_pending": 2,
         "slips-conflicts_open": 1}  # fmt: skip
KEYS = {"keys-loans_out": 1, "keys-keys_overdue": 1, "keys-key_alarms": 1, "keys-cabinet_alerts": 2,
        "keys-cabinet_alerts_open": 2}  # fmt: skip
MOVE_IN = {"move_in-move_in_queue": 2}  # today's queued and paid; not the filed, cancelled or yesterday's
RENOVATION = {"renovation-ren_awaiting_approval": 1, "renovation-ren_refund_due": 1, "renovation-ren_late": 1}


def rows(html: str, table_id: str) -> int:
    table = html.split(f'id="{table_id}"', 1)[1].split("</table>", 1)[0]
    return len(re.findall(r"<tr[ >]", table.split("<tbody", 1)[1])) if "<tbody" in table else 0


def total(html: str) -> int:
    """The pager's total (`pager.summary`) of a paged list."""
    found = re.search(r'class="pager-summary">[^<\d]*(\d+)', html)
    return int(found[1]) if found else 0


# How each list the figures link to shows how many records it holds.
LISTED: dict[str, Callable[[str], int]] = {
    "/console/slips?": lambda h: rows(h, "slips-table") if 'id="slips-table"' in h else 0,
    "/console/slips/countersign": lambda h: rows(h, "countersign-table") if "countersign-table" in h else 0,
    "/console/slips/conflicts?open=1": lambda h: rows(h, "conflicts-table") if "conflicts-table" in h else 0,
    "/console/keys/loans?state=out": total,
    "/console/keys/overdue?open=1": lambda h: rows(h, "overdue-table") if "overdue-table" in h else 0,
    "/console/keys/events#open-alarms": lambda h: h.split('id="open-alarms"')[1].split("</section>")[0].count("<li>"),
    "/console/keys/events?alerts=1": total,
    "/console/renovations?": lambda h: rows(h, "renovations-table") if "renovations-table" in h else 0,
    "/console/units?": total,
    "/console/move-in?open=1": lambda h: rows(h, "queue") if "data-move-in" in h else 0,
    "/console/keys/duplications?waiting=": lambda h: rows(h, "dup-table") if "dup-table" in h else 0,
}


def counted(client: TestClient, link: str) -> int:
    page = client.get(link)
    assert page.status_code == 200, (link, page.status_code)
    reader = next(read for prefix, read in LISTED.items() if link.startswith(prefix))
    return reader(page.text)


def test_the_managers_dashboard_shows_todays_slips_keys_and_renovations_each_linking_to_its_filtered_list(
    db: Session, populated: Registry, as_role: Callable
) -> None:
    """R-REL-4/6/7, R-KEY-12, R-REN-2/9: the CS manager sees every area; each figure counts what its link lists;
    today's reconciliation shows as not signed, linked to the day's reconciliation."""
    seeded = seed(db, populated)
    client, _ = as_role("cs_manager")
    page = client.get("/console/").text
    shown = figures(page)
    expected = TODAY | KEYS | MOVE_IN | RENOVATION | {"vacancy-vacant_units": 1}
    assert {k: shown[k][0] for k in expected} == expected
    assert any(k.startswith("service-supervisor-") for k in shown)  # the service desk's board, counts only
    for key in expected:
        count, link = shown[key]
        assert counted(client, link) == count, (key, link)
    assert rows(client.get("/console/move-in").text, "queue") == 4  # unfiltered: with the filed and the cancelled
    for day in (seeded.today, seeded.today - timedelta(days=1)):  # the dashboard's count of the day's figures
        full = reconciliation.report(db, SYSTEM, populated.estate, day, expire=False).figures()
        assert reconciliation.day_figures(db, populated.estate, day) == full and full["mismatch_count"] >= 1
    db.commit()
    status = re.search(r'id="figure-reconciliation" data-status="(\w+)" href="([^"]+)"', page)
    assert status is not None and status[1] == "unsigned"
    assert status[2] == f"/console/slips/reconciliation?day={seeded.today.isoformat()}"


# role → figures it sees, figures it does not (the union of its permissions decides its sections)
ROLE_FIGURES = {
    "front_desk": (["slips-slips_today", "keys-loans_out", "service-desk-calls_open", "renovation-ren_late",
                    "move_in-move_in_queue"],
                   ["service-supervisor-repairs_late", "finance-units_in_arrears", "keys-duplications_awaiting"]),
    "records_admin": (["slips-countersigns_pending", "keys-cabinet_alerts", "keys-cabinet_alerts_open",
                       "renovation-ren_awaiting_approval", "move_in-move_in_queue"],
                      ["service-supervisor-repairs_late", "finance-units_in_arrears", "keys-duplications_awaiting"]),
    "security_captain": (["slips-conflicts_open", "slips-slips_refused"], ["keys-loans_out", "renovation-ren_late"]),
    "engineering": (["keys-keys_overdue", "service-engineering-to_assign", "vacancy-vacant_units",
                     "renovation-ren_acceptance_requested"], ["slips-slips_today"]),
    "environment": (["service-environment-cleaning_today", "vacancy-vacant_units"], ["keys-loans_out"]),
    "finance": (["finance-units_in_arrears", "renovation-ren_refund_due"], ["slips-slips_today", "keys-loans_out"]),
    "general_manager": (["slips-slips_today", "keys-cabinet_alerts", "service-supervisor-repairs_late",
                         "keys-duplications_awaiting"], ["renovation-ren_late", "move_in-move_in_queue"]),
}  # fmt: skip


def test_each_role_sees_the_figures_of_its_own_areas(db: Session, populated: Registry, as_role: Callable) -> None:
    """The front desk, records admin, security captain, engineering, environment, finance and the general manager
    each see their own areas' figures and not the others'; finance's arrears figure lists its units, the general
    manager's key copies awaiting approval (R-KEY-11) list the plant-room key's request waiting for them."""
    seed(db, populated)
    for role, (sees, not_sees) in ROLE_FIGURES.items():
        client, _ = as_role(role)
        shown = figures(client.get("/console/").text)
        assert set(sees) <= set(shown) and not set(not_sees) & set(shown), (role, sorted(shown))
        if role in ("records_admin", "front_desk"):
            _acknowledging_an_alert(client, keeper=role == "records_admin")
        if role == "finance":
            count, link = shown["finance-units_in_arrears"]
            assert count == 2 and counted(client, link) == 2
        if role == "general_manager":
            count, link = shown["keys-duplications_awaiting"]
            assert count == 1 and counted(client, link) == 1
            assert link == "/console/keys/duplications?waiting=general_manager"
            assert rows(client.get("/console/keys/duplications").text, "dup-table") == 2  # and the one refused


OPEN_ALERTS = "/console/keys/events?alerts=1&ack=0"
ACK_FORM = re.compile(r'action="/console/keys/events/(\d+)/acknowledge"')


def _acknowledging_an_alert(client: TestClient, *, keeper: bool) -> None:
    """R-KEY-12, issue 21: the cabinet's events page offers the keeper of the keys (keys.manage) a form on each open
    alert, and nobody else; an empty note is refused on the page with nothing changed; acknowledged, the alert moves
    from the open alerts (ack=0) to the acknowledged (ack=1) with who and the note, back on the page as it was
    filtered, and the dashboard's open-alert figure drops by one and still counts what its link lists."""
    page = client.get(OPEN_ALERTS).text
    assert total(page) == 2
    if not keeper:
        assert not ACK_FORM.search(page)
        return
    seq = ACK_FORM.findall(page)[0]
    assert len(ACK_FORM.findall(page)) == 2
    form = {"csrf_token": csrf_of(page), "back": "alerts=1&ack=0", "note": "  "}
    url = f"/console/keys/events/{seq}/acknowledge"
    bad = client.post(url, data=form)
    assert bad.status_code == 400 and "请写明查看结果和处理情况" in bad.text
    assert total(bad.text) == 2 and total(client.get(OPEN_ALERTS).text) == 2
    done = client.post(url, data=form | {"note": "门已关好，无钥匙被取"}, follow_redirects=False)
    assert done.status_code == 303 and done.headers["location"] == f"{OPEN_ALERTS}&done=alert_acknowledged"
    assert total(client.get(done.headers["location"]).text) == 1
    acknowledged = client.get("/console/keys/events?alerts=1&ack=1").text
    assert total(acknowledged) == 1 and "门已关好，无钥匙被取" in acknowledged and not ACK_FORM.search(acknowledged)
    again = client.post(url, data=form | {"note": "再次确认"})
    assert again.status_code == 409
    shown = figures(client.get("/console/").text)
    count, link = shown["keys-cabinet_alerts_open"]
    assert count == 1 and link == OPEN_ALERTS and counted(client, link) == 1
    assert shown["keys-cabinet_alerts"][0] == 2  # the last day's alerts, acknowledged or not


def test_chart_endpoints_count_the_seeded_records_and_refuse_roles_that_may_not_see_them(
    db: Session, populated: Registry, as_role: Callable
) -> None:
    """R-REL-6, R-REP-2/8, R-KEY-12, R-FB-1, R-VAC-6: each chart's JSON counts what was seeded; a role without the
    area's permission is refused (and its charts page leaves the chart out); a span out of bounds is refused."""
    seeded = seed(db, populated)
    client, _ = as_role("cs_manager")

    def chart(name: str, **query: int) -> dict:
        answer = client.get(f"/console/charts/{name}.json", params=query)
        assert answer.status_code == 200, answer.text
        return answer.json()

    releases = chart("releases", days=7)
    assert releases["labels"][-1] == seeded.today.isoformat() and len(releases["labels"]) == 7
    by_gate = {s["name"]: s["data"] for s in releases["series"]}
    assert set(by_gate) == {"东门", "西门"} and by_gate["东门"][-1] == 1 and sum(by_gate["东门"]) == 1
    assert sum(by_gate["西门"]) == 2 and by_gate["西门"][-1] in (0, 2)  # yesterday's, or today's before 8:00
    refusals = chart("refusals")
    assert dict(zip(refusals["labels"], refusals["series"][0]["data"], strict=True)) == {
        "物品数量不符": 1,
        "无业主确认": 1,
    }
    lead = chart("repair_lead")
    series = {s["code"]: s["data"] for s in lead["series"]}
    assert series == {"within_deadline": [1, 0, 0, 0, 0], "past_deadline": [0, 0, 1, 0, 0]}
    callbacks = chart("callbacks")
    assert dict(zip(callbacks["labels"], callbacks["series"][0]["data"], strict=True)) == {"满意": 2, "无人接听": 1}
    loans = chart("key_loans")
    assert loans["labels"] == ["工程维修"] and [s["data"] for s in loans["series"]] == [[0], [1]]
    feedback = chart("feedback")
    assert feedback["series"][0]["data"] == [0, 2, 1, 0]  # suggestion, complaint, praise, question
    vacancy = chart("vacancy", months=6)
    months = dict(zip(vacancy["labels"], vacancy["series"][0]["data"], strict=True))
    assert months[seeded.today.strftime("%Y-%m")] == 1 and max(months.values()) <= 2 and len(months) == 6
    for bad in ("0", "93", "x"):
        assert client.get("/console/charts/releases.json", params={"days": bad}).status_code == 422

    for role, refused in (("environment", "releases"), ("finance", "key_loans"), ("security_captain", "vacancy")):
        other, _ = as_role(role)
        assert other.get(f"/console/charts/{refused}.json").status_code == 403
        assert f'data-chart="{refused}"' not in other.get("/console/charts").text
