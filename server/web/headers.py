"""Headers on every answer: what a browser may load, and where the console may be framed (nowhere)."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

# The console loads only its own scripts, styles and images, and nobody may frame it (clickjacking).
CONSOLE_POLICY = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'self'; form-action 'self'; "
    "frame-ancestors 'none'"
)
# The API documentation page loads Swagger UI from its CDN with an inline start-up script.
DOCS_POLICY = "frame-ancestors 'none'; object-src 'none'; base-uri 'self'"
DOCS_PATHS = ("/docs", "/redoc")
COMMON = (
    ("x-frame-options", "DENY"),
    ("x-content-type-options", "nosniff"),
    ("referrer-policy", "same-origin"),
)


def protections(path: str) -> list[tuple[str, str]]:
    """The headers every answer on `path` carries."""
    policy = DOCS_POLICY if path.startswith(DOCS_PATHS) else CONSOLE_POLICY
    return [*COMMON, ("content-security-policy", policy)]


class ResponseHeaders:
    """Adds `protections` to every answer. An unexpected error is answered outside every middleware (by Starlette's
    outermost one), so its handler (`server.web.errors`) adds them itself."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        added = [(name.encode(), value.encode()) for name, value in protections(scope["path"])]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                message = {**message, "headers": [*message.get("headers", []), *added]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
