"""A device write is authenticated before its body is read: a request to the device API with no device token is
answered 401 at once, and one that declares a body larger than a few KiB (or streams one) is answered 401 unless its
token is known, so an anonymous client cannot make the server take in a body. The route checks the device again,
as every device route does; small bodies skip the early look-up, as reading them costs less than it."""

from __future__ import annotations

from anyio import to_thread
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from server.db.engine import make_sessionmaker
from server.domain import devices
from server.domain.errors import DomainError
from server.web.errors import error_body

API = "/api/v1/"
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
