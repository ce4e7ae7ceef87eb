"""Who is asking is settled before a body is read, so an anonymous client cannot make the server take one in.

- `DeviceFirst`: a request to the device API with no device token is answered 401 at once, and one that declares a
  body larger than a few KiB (or streams one) is answered 401 unless its token is known. The route checks the
  device again, as every device route does; small bodies skip the early look-up, as reading them costs less than it.
- `ConsoleFirst`: a post to the console without a live session is sent to the sign-in page at once. FastAPI reads
  the form fields a route declares before it runs the route's dependencies (the session check among them), so
  without this an anonymous post had its body read first. A body declared larger than the default limit is left
  to the route: refused by its limit, or (the routes that take more) read only after their own session check.
"""

from __future__ import annotations

from anyio import to_thread
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.datastructures import Headers
from starlette.requests import Request
from starlette.types import ASGIApp, Receive, Scope, Send

from server.db.engine import make_sessionmaker
from server.domain import devices, staff
from server.domain.errors import DomainError
from server.web.deps import SESSION_COOKIE
from server.web.errors import error_body
from server.web.limits import DEFAULT_BODY

API = "/api/v1/"
CONSOLE = "/console/"
CONSOLE_OPEN = ("/console/login",)  # console posts anyone may make
WITH_BODY = ("POST", "PUT", "PATCH")
SMALL_BODY = 16 * 1024


class DeviceFirst:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WITH_BODY or not scope["path"].startswith(API):
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        length = headers.get(b"content-length", b"")
        try:
            token = devices.bearer_token(headers.get(b"authorization", b"").decode("latin-1"))
            if not (length.isdigit() and int(length) <= SMALL_BODY):
                await to_thread.run_sync(self._known, scope, token)
        except DomainError as exc:
            response = JSONResponse(error_body(exc.code, exc.zh, message_en=exc.en), status_code=exc.status)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _known(scope: Scope, token: str) -> None:
        with make_sessionmaker(scope["app"].state.engine, reader=True)() as session:
            devices.authenticate(session, token)


class ConsoleFirst:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        path = scope.get("path", "")
        if (
            scope["type"] != "http"
            or scope["method"] not in WITH_BODY
            or not path.startswith(CONSOLE)
            or path in CONSOLE_OPEN
        ):
            await self.app(scope, receive, send)
            return
        length = Headers(scope=scope).get("content-length", "")
        if length.isdigit() and int(length) > DEFAULT_BODY:
            await self.app(scope, receive, send)
            return
        cookie = Request(scope).cookies.get(SESSION_COOKIE, "")
        if not cookie or not await to_thread.run_sync(self._live, scope, cookie):
            # As the route's own session check answers (server.console.pages.error_page), without the body.
            await RedirectResponse(f"/console/login?next={path}", status_code=303)(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _live(scope: Scope, cookie: str) -> bool:
        app_state = scope["app"].state
        with make_sessionmaker(app_state.engine, reader=True)() as session:
            return staff.session_for_cookie(session, cookie, app_state.clock()) is not None
