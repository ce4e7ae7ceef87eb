"""Every answer carries the browser-side protections (CSP, no framing, nosniff, referrer policy); session cookies
are Secure over HTTPS without configuration; an unexpected error says the connection will close."""

from __future__ import annotations

import re

from fastapi import FastAPI
from fastapi.testclient import TestClient

from server.db.models import StaffUser


def test_every_answer_carries_the_browser_protections(client: TestClient) -> None:
    for path in ("/console/login", "/api/v1/health", "/static/console.css", "/api/v1/device"):
        headers = client.get(path).headers
        assert headers["x-frame-options"] == "DENY", path
        assert headers["x-content-type-options"] == "nosniff", path
        assert headers["referrer-policy"] == "same-origin", path
        assert "frame-ancestors 'none'" in headers["content-security-policy"], path
    assert "default-src 'self'" in client.get("/console/login").headers["content-security-policy"]


def _sign_in(client: TestClient, user: StaffUser) -> list[str]:
    page = client.get("/console/login")
    token = re.search(r'name="csrf_token" value="([^"]+)"', page.text)
    assert token
    data = {"username": user.username, "password": "correct-horse-1", "csrf_token": token[1]}
    answer = client.post("/console/login", data=data, follow_redirects=False)
    assert answer.status_code == 303
    return [page.headers["set-cookie"], answer.headers["set-cookie"]]


def test_session_cookies_are_secure_over_https_without_configuration(app: FastAPI, make_user) -> None:
    user = make_user("front_desk")
    with TestClient(app, base_url="https://estate.example") as secure:
        assert all("secure" in c.lower() for c in _sign_in(secure, user))
    with TestClient(app) as plain:
        assert not any("secure" in c.lower() for c in _sign_in(plain, user))


def test_an_unexpected_error_says_the_connection_closes(app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("a fault")

    app.add_api_route("/api/v1/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/boom")
    assert answer.status_code == 500 and answer.json()["error"]["code"] == "internal"
    assert answer.headers["connection"] == "close"
