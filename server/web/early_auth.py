"""A device write is authenticated before its body is read: a request to the device API that carries a body but
no known device token is answered 401 at once, so an anonymous client cannot make the server take in a body (the
route checks the device again, as every device route does)."""

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


class DeviceFirst:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] not in WITH_BODY or not scope["path"].startswith(API):
            await self.app(scope, receive, send)
            return
        authorization = dict(scope["headers"]).get(b"authorization", b"").decode("latin-1")
        try:
            await to_thread.run_sync(self._known, scope, devices.bearer_token(authorization))
        except DomainError as exc:
            response = JSONResponse(error_body(exc.code, exc.message), status_code=exc.status)
            await response(scope, receive, send)
            return
        await self.app(scope, receive, send)

    @staticmethod
    def _known(scope: Scope, token: str) -> None:
        with make_sessionmaker(scope["app"].state.engine, reader=True)() as session:
            devices.authenticate(session, token)
