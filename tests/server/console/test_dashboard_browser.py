"""The dashboards in headless Chromium (issue 21): a role's figures, one followed to the filtered list it counts, and
the charts drawn by the vendored ECharts with the numbers of their JSON endpoints (R-REL-6, R-KEY-12, R-REP-8,
R-FB-1, R-VAC-6). Three roles with three page loads each, then the other five roles in one tab. Screenshots:
var/screenshots/dashboard-*.png."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from playwright.sync_api import Page, expect
from sqlalchemy.orm import Session

from tests.conftest import save_screenshot
from tests.server.console.conftest import Registry
from tests.server.console.dashboards import seed

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

# role → (the figure it follows, how many records that figure and its list hold, the list's rows)
FOLLOWED = {
    "records_admin": ("figure-keys-cabinet_alerts", 2, "#events-table tbody tr"),
    "security_captain": ("figure-slips-conflicts_open", 1, "#conflicts-table tbody tr"),
    "cs_manager": ("figure-slips-slips_refused", 1, "#slips-table tbody tr"),
}
CHARTS = ("releases", "refusals", "key_loans", "repair_lead", "callbacks", "feedback", "vacancy")
# What ECharts holds for each chart: its series' numbers (a pie's as name/value pairs).
OPTION = """el => echarts.getInstanceByDom(el).getOption().series.map(
    s => s.data.map(d => (d !== null && typeof d === 'object') ? d.value : d))"""


@pytest.mark.parametrize("role", list(FOLLOWED))
def test_a_roles_dashboard_links_each_figure_to_its_list_and_draws_its_charts(
    page: Page, db: Session, populated: Registry, make_user: Callable, password: str, role: str
) -> None:
    seed(db, populated)
    user = make_user(role)
    page.goto("/console/login")
    page.get_by_label("用户名").fill(user.username)
    page.get_by_label("密码").fill(password)
    page.get_by_role("button", name="登录").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    figure_id, count, rows = FOLLOWED[role]
    figure = page.locator(f"#{figure_id}")
    expect(figure.locator(".value")).to_have_text(str(count))
    if role == "cs_manager":  # the manager's dashboard holds every chart: each drawn with its endpoint's numbers
        for name in CHARTS:
            chart = page.locator(f"#chart-{name}")
            expect(chart).to_have_attribute("data-drawn", "1")
            answer = page.request.get(f"/console/charts/{name}.json")
            assert answer.ok, name
            expected = [s["data"] for s in answer.json()["series"]]
            assert chart.evaluate(OPTION) == expected, name
            assert chart.locator("canvas").count() >= 1
        assert any(n > 0 for n in page.locator("#chart-releases").evaluate(OPTION)[0])
    else:
        expect(page.locator("[data-chart]")).not_to_have_count(0)
    save_screenshot(page, f"dashboard-{role}")
    figure.click()
    expect(page.locator(rows)).to_have_count(count)


# The other roles of issue 21's list, in one tab one after another: the figure each follows, its count, the rows.
OTHERS = {
    "front_desk": ("figure-slips-slips_issued", 2, "#slips-table tbody tr"),
    "engineering": ("figure-keys-keys_overdue", 1, "#overdue-table tbody tr"),
    "environment": ("figure-vacancy-vacant_units", 1, "#units-table tbody tr"),
    "finance": ("figure-finance-units_in_arrears", 2, "#units-table tbody tr"),
    "general_manager": ("figure-slips-slips_today", 5, "#slips-table tbody tr"),
}


def test_every_other_role_lands_on_its_own_figures_and_each_leads_to_its_list(
    page: Page, db: Session, populated: Registry, make_user: Callable, password: str
) -> None:
    """The front desk, engineering, environment, finance and the general manager: each signs in to a dashboard with
    its own area's figure (R-REL-4, R-KEY-12, R-VAC-6), and following it lists as many records as it counts."""
    seed(db, populated)
    for role, (figure_id, count, rows) in OTHERS.items():
        page.context.clear_cookies()
        user = make_user(role)
        page.goto("/console/login")
        page.get_by_label("用户名").fill(user.username)
        page.get_by_label("密码").fill(password)
        page.get_by_role("button", name="登录").click()
        expect(page).to_have_url(re.compile(r"/console/$"))
        figure = page.locator(f"#{figure_id}")
        expect(figure.locator(".value")).to_have_text(str(count))
        figure.click()
        expect(page.locator(rows)).to_have_count(count)
