"""Every error leaves as `{"error": {"code", "message", "message_en"}}` (API) or a plain page in the reader's
language (console); never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from server.domain.errors import DomainError
from server.domain.idempotency import KeyRequired
from server.web.headers import protections

log = logging.getLogger("estate.server")

HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    409: "conflict",
    413: "too_large",
    422: "malformed",
    429: "too_many_requests",
}


def error_body(code: str, message: str, **extra: Any) -> dict[str, Any]:
    return {"error": {"code": code, "message": message, **extra}}


def _wants_html(request: Request) -> bool:
    return request.url.path.startswith("/console")


TOO_LARGE = ("请求内容过大", "the request body is too large")


class TooLargeInErrorForm:
    """A body declared larger than its route allows is refused by Starlette's body limit from outside the app's
    exception handlers, before any handler runs, as a plain-text 413 ("Content Too Large"). This gives that answer
    the form of every other error: the JSON error body for the API, a short page in both languages for the
    console, with the headers every answer carries."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        replaced = False

        async def send_in_form(message: Message) -> None:
            nonlocal replaced
            if replaced:
                return  # the plain-text body of the answer replaced
            if message["type"] == "http.response.start" and message["status"] == 413 and _plain_text(message):
                replaced = True
                await _too_large(scope["path"])(scope, receive, send)
                return
            await send(message)

        await self.app(scope, receive, send_in_form)


def _plain_text(message: Message) -> bool:
    return any(k == b"content-type" and v.startswith(b"text/plain") for k, v in message.get("headers", []))


def _too_large(path: str) -> Response:
    zh, en = TOO_LARGE
    response: Response
    if path.startswith("/console"):
        page = f'<!doctype html><meta charset="utf-8"><title>413</title><p lang="zh">{zh}</p><p lang="en">{en}</p>'
        response = Response(page, status_code=413, media_type="text/html")
    else:
        response = JSONResponse(error_body(HTTP_CODES[413], zh, message_en=en), status_code=413)
    response.headers["Connection"] = "close"  # the body it declared is not read
    for name, value in protections(path):
        response.headers[name] = value
    return response


def install(app: FastAPI) -> None:
    from server.console.pages import error_page, language  # the console renders its own error pages

    @app.exception_handler(DomainError)
    async def _domain(request: Request, exc: DomainError) -> Response:
        if _wants_html(request):
            return error_page(request, exc.status, exc.text(language(request)))
        # Both languages: a device shows the one its user picked, and may switch after the answer came.
        body = error_body(exc.code, exc.zh, message_en=exc.en, **exc.detail)
        return JSONResponse(body, status_code=exc.status)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> Response:
        if any(tuple(e.get("loc", ())) == ("header", "Idempotency-Key") for e in exc.errors()):
            return await _domain(request, KeyRequired())
        problems = [
            {"field": ".".join(str(p) for p in e.get("loc", ()) if p != "body"), "problem": e.get("msg", "")}
            for e in exc.errors()
        ]
        message = "; ".join(f"{p['field'] or 'body'}: {p['problem']}" for p in problems) or "malformed request"
        if _wants_html(request):
            return error_page(request, 422, message)
        return JSONResponse(error_body("malformed", message, problems=problems), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> Response:
        code = HTTP_CODES.get(exc.status_code, "error")
        message = exc.detail if isinstance(exc.detail, str) else code
        extra: dict[str, Any] = {}
        if exc.status_code == 413:
            message, extra["message_en"] = TOO_LARGE
            if _wants_html(request) and language(request) == "en":
                message = extra["message_en"]
        if _wants_html(request):
            return error_page(request, exc.status_code, message)
        return JSONResponse(error_body(code, message, **extra), status_code=exc.status_code, headers=exc.headers)

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> Response:
        log.exception("unhandled error on %s %s", request.method, request.url.path)
        zh, en = "服务器内部错误，已记录", "internal error; it has been logged"
        if _wants_html(request):
            response = error_page(request, 500, en if language(request) == "en" else zh)
        else:
            response = JSONResponse(error_body("internal", zh, message_en=en), status_code=500)
        # The server closes the connection after an unexpected error: say so, so a kept-alive client reconnects.
        response.headers["Connection"] = "close"
        # This answer leaves outside every middleware: it carries the browser protections of its own accord.
        for name, value in protections(request.url.path):
            response.headers[name] = value
        return response
