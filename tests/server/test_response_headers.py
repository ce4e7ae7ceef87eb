"""Every answer carries the browser-side protections (CSP, no framing, nosniff, referrer policy); session cookies
are Secure over HTTPS without configuration; an unexpected error says the connection will close."""

from __future__ import annotations

import re

import httpx
from fastapi import FastAPI
from fastapi.testclient import TestClient
from httpx import Headers

from server.db.models import StaffUser


def _assert_protected(headers: Headers, path: str) -> None:
    assert headers["x-frame-options"] == "DENY", path
    assert headers["x-content-type-options"] == "nosniff", path
    assert headers["referrer-policy"] == "same-origin", path
    assert "frame-ancestors 'none'" in headers["content-security-policy"], path


def test_every_answer_carries_the_browser_protections(client: TestClient) -> None:
    for path in ("/console/login", "/api/v1/health", "/static/console.css", "/api/v1/device", "/docs"):
        _assert_protected(client.get(path).headers, path)
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


def test_cookies_are_secure_behind_an_https_proxy_on_the_same_machine(live_server: str) -> None:
    """TLS ended by a reverse proxy on this machine (X-Forwarded-Proto from 127.0.0.1, which uvicorn trusts): the
    request came over HTTPS, so the cookie is Secure without configuration."""
    proxied = httpx.get(f"{live_server}/console/login", headers={"X-Forwarded-Proto": "https"}, timeout=30)
    assert "secure" in proxied.headers["set-cookie"].lower()
    plain = httpx.get(f"{live_server}/console/login", timeout=30)
    assert "secure" not in plain.headers["set-cookie"].lower()


def test_an_unexpected_error_says_the_connection_closes(app: FastAPI) -> None:
    def boom() -> None:
        raise RuntimeError("a fault")

    app.add_api_route("/api/v1/boom", boom)
    app.add_api_route("/console/boom", boom)
    with TestClient(app, raise_server_exceptions=False) as client:
        answer = client.get("/api/v1/boom")
        page = client.get("/console/boom")
    assert answer.status_code == 500 and answer.json()["error"]["code"] == "internal"
    assert answer.headers["connection"] == "close"
    assert page.status_code == 500 and page.headers["connection"] == "close"
    # It is answered outside every middleware, and still carries the browser protections.
    _assert_protected(answer.headers, "/api/v1/boom")
    _assert_protected(page.headers, "/console/boom")
