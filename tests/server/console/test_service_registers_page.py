"""The service desk's registers and reports on one page (R-REP-9…12, R-CLN-8, R-FB-5, R-REP-1): each with its XLSX
and PDF, shown only to whom may open them — finance's copy of paid orders to finance alone."""

from __future__ import annotations

import re
from collections.abc import Callable

import pytest
from fastapi.testclient import TestClient

from server.db.models import StaffUser

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)  # pages and links, no queries


def _links(client: TestClient) -> list[str]:
    page = client.get("/console/service/registers")
    assert page.status_code == 200, page.text
    table = page.text.split('id="registers"', 1)[1]
    return re.findall(r'href="([^"]+)"', table)


def test_r_rep_12_the_registers_page_links_every_register_and_its_files_and_each_opens(
    client: TestClient, make_user: Callable[..., StaffUser], login: Callable[..., object]
) -> None:
    manager = make_user("cs_manager", password="correct-horse-1")
    login(client, manager.username, "correct-horse-1")
    links = _links(client)
    for expected in (
        "/console/service/tracking/export.xlsx",
        "/console/service/repairs/unreturned.pdf",
        "/console/service/repairs/closing.xlsx",
        "/console/service/cleaning/register.pdf",
        "/console/service/feedback/summary.xlsx",
    ):
        assert expected in links
    assert "/console/service/repairs/finance.xlsx" not in links  # R-REP-12: the finance copy is finance's
    for href in links:
        if href.endswith(".xlsx") or not href.endswith(".pdf"):  # the PDFs are each tested with their register
            assert client.get(href).status_code == 200, href


def test_r_rep_12_finance_sees_its_copy_of_paid_orders(
    client: TestClient, make_user: Callable[..., StaffUser], login: Callable[..., object]
) -> None:
    accountant = make_user("finance", password="correct-horse-1")
    login(client, accountant.username, "correct-horse-1")
    assert "/console/service/repairs/finance.xlsx" in _links(client)
