"""Request bodies are limited per route before they are read (413), and the console checks the session before it
reads a posted form, so an anonymous client cannot make the server hold a large body."""

from __future__ import annotations

import base64
import socket
import uuid
from collections.abc import Callable, Iterator
from typing import Any
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

from server.web.limits import DEFAULT_BODY, IMPORT_BODY
from tests.conftest import keyed


def _headers_only(base_url: str, request_head: str) -> str:
    """Send only a request's head (its body never follows) and return the status line of the answer. A server that
    waited for the body would never answer: the wait is long enough for a busy machine (30 s), and still fails."""
    parts = urlsplit(base_url)
    with socket.create_connection((parts.hostname, parts.port), timeout=30) as conn:
        conn.sendall(request_head.encode())
        return conn.makefile("rb").readline().decode().strip()


def test_a_declared_huge_body_is_refused_before_it_is_sent(live_server: str) -> None:
    head = (
        "POST /api/v1/residents/identify HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        f"Content-Length: {104 * 1024 * 1024}\r\n\r\n"
    )
    assert " 413 " in _headers_only(live_server, head)


def test_an_anonymous_console_upload_is_sent_to_the_login_before_its_body_is_read(live_server: str) -> None:
    head = (
        "POST /console/residents/import HTTP/1.1\r\nHost: x\r\n"
        "Content-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {IMPORT_BODY - 1024}\r\n\r\n"
    )
    assert " 303 " in _headers_only(live_server, head)  # to the sign-in page, without waiting for the sheet


@pytest.mark.parametrize("path", ["/console/devices", "/console/staff/1/password", "/console/slips/new"])
@pytest.mark.parametrize("size", [DEFAULT_BODY - 1024, 200 * 1024 * 1024])
def test_an_anonymous_console_form_is_answered_before_its_body_is_read(live_server: str, path: str, size: int) -> None:
    """Every console form, not only the import: a post without a session is sent to the sign-in page (or, past
    the route's limit, refused) without waiting for the body, whatever its size (200 MB was read in full)."""
    head = (
        f"POST {path} HTTP/1.1\r\nHost: x\r\nContent-Type: multipart/form-data; boundary=xyz\r\n"
        f"Content-Length: {size}\r\n\r\n"
    )
    status = _headers_only(live_server, head)
    assert " 303 " in status or (size > DEFAULT_BODY and " 413 " in status), status


def test_an_anonymous_device_upload_is_refused_before_its_body_is_read(live_server: str) -> None:
    """A body within the limit, but no device token or an unknown one: 401 without waiting for the body."""
    for authorization in ("", "Authorization: Bearer edt_not-a-device-token\r\n"):
        head = (
            "POST /api/v1/gate/sync HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
            f"{authorization}Content-Length: {DEFAULT_BODY - 1024}\r\n\r\n"
        )
        assert " 401 " in _headers_only(live_server, head)


def test_a_streamed_body_is_cut_off_at_the_limit(client: TestClient, make_device: Callable[..., Any]) -> None:
    """No Content-Length (chunked): the bytes are counted as they arrive."""
    _device, token = make_device("kiosk")

    def chunks() -> Iterator[bytes]:
        for _ in range(100):
            yield b" " * DEFAULT_BODY

    answer = client.post(
        "/api/v1/residents/identify",
        content=chunks(),
        headers=keyed({"Authorization": f"Bearer {token}", "Content-Type": "application/json"}),
    )
    assert answer.status_code == 413 and answer.json()["error"]["code"] == "too_large"


def test_the_gate_release_route_takes_a_photo_larger_than_the_default_limit(
    client: TestClient, make_device: Callable[..., Any]
) -> None:
    _device, token = make_device("gate", "东门")
    photo = base64.b64encode(b"\xff" * (DEFAULT_BODY * 4)).decode()
    body = {"text": "GH-20000101-0001", "guard": "老陈", "lines": [{"line": 1, "counted": 1}], "photo_jpeg_b64": photo}
    headers = {"Authorization": f"Bearer {token}", "Idempotency-Key": uuid.uuid4().hex}
    answer = client.post("/api/v1/gate/releases", json=body, headers=headers)
    assert answer.status_code == 404 and answer.json()["error"]["code"] == "unknown_slip"  # read, checked, answered


def test_a_body_over_the_routes_limit_is_refused_in_the_error_form(client: TestClient) -> None:
    """Starlette's body limit answered a declared-too-large body with a plain-text "Content Too Large", unlike every
    other error; found by the API fuzzing (POST /gate/sync with an oversized batch). Now JSON, or a console page."""
    big = b'{"events": [' + b'{"kind": "release"},' * 200_000 + b'{"kind": "release"}]}'
    for headers in ({}, {"Authorization": "Bearer edt_not-a-device-token"}):
        answer = client.post("/api/v1/gate/sync", content=big, headers={"Content-Type": "application/json", **headers})
        assert answer.status_code == 413
        assert answer.json()["error"]["code"] == "too_large", answer.text
        assert answer.json()["error"]["message_en"] == "the request body is too large"
        assert "content-security-policy" in answer.headers
    page = client.post("/console/devices", content=b"x" * (DEFAULT_BODY + 1), headers={"Content-Type": "text/plain"})
    assert page.status_code == 413 and page.headers["content-type"].startswith("text/html")
    assert "请求内容过大" in page.text
