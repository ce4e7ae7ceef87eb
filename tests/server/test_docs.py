"""The API documentation works with no internet: Swagger UI's files come from the package, not a CDN, and the
OpenAPI document answers at /openapi.json as well as /api/v1/openapi.json."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient
from playwright.sync_api import Page, Route

from tests.conftest import save_screenshot

pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)


def test_openapi_answers_at_both_addresses(client: TestClient) -> None:
    short, long = client.get("/openapi.json"), client.get("/api/v1/openapi.json")
    assert short.status_code == long.status_code == 200
    assert short.json() == long.json() and "/api/v1/gate/verify" in short.json()["paths"]


def test_the_docs_page_draws_every_operation_offline(page: Page, live_server: str) -> None:
    outside: list[str] = []

    def local_only(route: Route) -> None:
        if route.request.url.startswith(live_server):
            route.continue_()
        else:  # as on a site with no internet: anything from outside fails
            outside.append(route.request.url)
            route.abort("internetdisconnected")

    page.route("**/*", local_only)
    page.goto("/docs")
    page.locator(".opblock").first.wait_for()
    published = page.request.get(f"{live_server}/api/v1/openapi.json").json()["paths"]
    drawn = sum(len(op.get("tags") or [None]) for ops in published.values() for op in ops.values())  # once per tag
    assert drawn >= 18 and page.locator(".opblock").count() == drawn
    assert page.locator(".information-container .title").inner_text().startswith("estate-desk")
    assert outside == []
    save_screenshot(page, "api-docs-offline")
