"""Every error leaves as `{"error": {"code", "message", "message_en"}}` (API) or a plain page in the reader's
language (console); never a stack trace."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from server.domain.errors import DomainError
from server.domain.idempotency import KeyRequired

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
            message, extra["message_en"] = "请求内容过大", "the request body is too large"
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
        return response
