"""The console on a phone and on a laptop, as issue 21 accepts it (item 4): at 390×844 no page reachable from the
navigation scrolls sideways, in Chinese and in English; the navigation folds behind a menu button that works without
a script and from the keyboard; list tables become cards whose cells carry their column's name; and at 1366×768 the
English top bar keeps to one line.

One browser context per language walks every page page by page, on the demo estate (its registry, staff, devices,
keys, price list and audit trail) with a slip, repair and cleaning orders and a feedback form added so that their
lists have rows. A screenshot of each page goes to var/screenshots/phone/<lang>/ (or $ESTATE_SCREENSHOTS/phone/…)
for a person to look at.
"""

from __future__ import annotations

import os
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
from playwright.sync_api import Browser, Page, expect
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import Channel, Estate, FeedbackCategory, ServiceKind, Unit
from server.demo import DEMO_PASSWORD, DEMO_SLIP_UNIT, demo_slip, seed
from server.domain.actors import SYSTEM
from server.domain.service import intake
from tests.conftest import SCREENSHOTS

pytestmark = [pytest.mark.browser, pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)]

PHONE = {"width": 390, "height": 844}
LAPTOP = {"width": 1366, "height": 768}
HREFS = "links => links.map(a => a.getAttribute('href'))"
# Links that answer with a file, or act, rather than show a page.
NOT_PAGES = re.compile(r"\.(pdf|xlsx|csv|png)(\?|$)|/export|/print|/lang\?|/logout")


@pytest.fixture
def demo_estate(db: Session) -> Estate:
    """The demo estate, and one of each kind of order so that the slip and service-desk lists have rows."""
    result = seed(db, SYSTEM)
    estate = result.estate
    demo_slip(db, SYSTEM, estate, DEMO_SLIP_UNIT)
    unit = db.scalar(select(Unit).where(Unit.estate_id == estate.id, Unit.code == "1-2B"))
    now = datetime.now(UTC)
    for kind, item in ((ServiceKind.repair, "tap-leak"), (ServiceKind.cleaning, "daily-2h")):
        request = intake.OrderRequest(
            kind, Channel.phone, unit.id, "王女士", "13800000001", item_code=item, description="厨房水龙头一直滴水"
        )
        intake.open_order(db, SYSTEM, estate, request, now)
    wish = "建议在 1 栋大堂增加一张长椅，方便老人等候电梯"
    feedback = intake.FeedbackRequest(Channel.desk, FeedbackCategory.suggestion, "王女士", wish, unit_id=unit.id)
    intake.open_feedback(db, SYSTEM, estate, feedback, now)
    db.commit()
    return estate


def screenshot_dir() -> Path:
    root = Path(os.environ["ESTATE_SCREENSHOTS"]) if os.environ.get("ESTATE_SCREENSHOTS") else SCREENSHOTS
    return root / "phone"


def file_name(path: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", path.removeprefix("/console").strip("/")) or "home"


def walk_the_navigation(page: Page, lang: str) -> dict[str, int]:
    """Visit the navigation's pages, each section's own links (its sub-navigation) and, for a list, its first
    entry's page, each once; keep a screenshot of each. Returns every page's scrollWidth."""
    widths: dict[str, int] = {}
    top = page.eval_on_selector_all("#mainnav a", HREFS)
    queue = list(dict.fromkeys(top))
    while queue:
        path = queue.pop(0)
        response = page.goto(path)
        assert response is not None and response.status == 200, (path, response and response.status)
        widths[path] = page.evaluate("document.documentElement.scrollWidth")
        save(page, lang, file_name(path))
        if path not in top:
            continue
        more = page.eval_on_selector_all("main .subnav a", HREFS) + page.eval_on_selector_all(
            "main table a[href^='/console/']", "links => links.slice(0, 1).map(a => a.getAttribute('href'))"
        )
        for link in more:
            if link.startswith("/console/") and not NOT_PAGES.search(link) and link not in widths and link not in queue:
                queue.append(link)
    return widths


def sign_in(browser: Browser, live_server: str, lang: str) -> Page:
    context = browser.new_context(base_url=live_server, locale="zh-CN", viewport=PHONE)
    context.set_default_timeout(30_000)
    page = context.new_page()
    page.goto("/console/login")
    page.locator("input[name=username]").fill("admin")
    page.locator("input[name=password]").fill(DEMO_PASSWORD)
    page.locator("form button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"/console/$"))
    if lang == "en":
        page.goto("/console/lang?to=en&next=/console/")
        expect(page.locator("html")).to_have_attribute("lang", "en")
    return page


def test_every_page_fits_a_phone_and_the_english_top_bar_a_laptop(
    browser: Browser, live_server: str, demo_estate: Estate
) -> None:
    """Issue 21, item 4: scrollWidth ≤ 390 on every page from the navigation (both languages), the folding menu,
    tables as labelled cards, and the English top bar on one line at 1366 px."""
    for lang in ("zh", "en"):
        page = sign_in(browser, live_server, lang)
        menu = page.locator("label.nav-button")
        nav = page.locator("#mainnav")

        # The navigation folds behind the menu button; the keyboard opens it (Space on the focused checkbox).
        expect(menu).to_be_visible()
        expect(nav).to_be_hidden()
        page.locator("#nav-toggle").focus()
        page.keyboard.press("Space")
        expect(nav).to_be_visible()
        links = nav.get_by_role("link")
        lefts = links.evaluate_all("links => links.map(a => a.getBoundingClientRect().left)")
        assert len(set(lefts)) == 1, "on a phone the open menu lists its links one under another"
        save(page, lang, "menu-open")
        menu.click()
        expect(nav).to_be_hidden()

        widths = walk_the_navigation(page, lang)
        assert len(widths) >= 40, widths  # the sixteen sections, their sub-pages and some entries' pages
        too_wide = {path: width for path, width in widths.items() if width > PHONE["width"]}
        assert too_wide == {}, f"pages wider than the phone in {lang}: {too_wide}"

        # A list table is a stack of cards, each cell labelled with its column's header.
        page.goto("/console/residents")
        table = page.locator("#residents-table")
        expect(table).to_have_class(re.compile(r"\bcards\b"))
        first = table.locator("tbody tr").first.locator("td").first
        header = table.locator("thead th").first.inner_text()
        expect(first).to_have_attribute("data-label", header)
        assert table.locator("tbody tr").first.evaluate("tr => getComputedStyle(tr).display") == "block"
        # … and so is the table HTMX swaps in for a search's results (the page itself stays).
        table.evaluate("t => { t.dataset.beforeSearch = 'yes'; window.stillTheSamePage = true; }")
        page.locator("input[name=q]").fill("1-1")
        swapped = page.locator("#residents-table:not([data-before-search])")
        expect(swapped.locator("tbody tr").first.locator("td").first).to_have_attribute("data-label", header)
        assert page.evaluate("window.stillTheSamePage") is True

        if lang == "en":
            # On a laptop the English top bar is one line: every link of the navigation and the session beside it
            # start at the same height, and the bar is no taller than one row.
            page.set_viewport_size(LAPTOP)
            page.goto("/console/")
            expect(menu).to_be_hidden()
            rows = page.locator(".topbar .brand, #mainnav a, .topbar .session").evaluate_all(
                "items => items.map(e => { const r = e.getBoundingClientRect(); return [r.top, r.bottom]; })"
            )
            middles = {round((top + bottom) / 2) for top, bottom in rows}
            assert max(middles) - min(middles) <= 4, rows
            assert page.locator(".topbar").evaluate("bar => bar.getBoundingClientRect().height") < 60
            save(page, lang, "laptop-top-bar", full_page=False)
        page.context.close()


def save(page: Page, lang: str, name: str, *, full_page: bool = False) -> None:
    folder = screenshot_dir() / lang
    folder.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=folder / f"{name}.png", full_page=full_page)
