"""The application factory: one FastAPI app serving the device API under /api/v1 and the console under /console."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from pathlib import Path

from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine

from server.config import Settings, get_settings
from server.db.base import utcnow
from server.db.engine import make_engine, make_sessionmaker
from server.db.migrate import upgrade
from server.db.writer import make_writer
from server.web import errors, limits
from server.web.admission import Admission
from server.web.early_auth import DeviceFirst
from server.web.headers import ResponseHeaders

STATIC = Path(__file__).resolve().parent.parent / "console" / "static"
SWAGGER_UI = Path(__file__).resolve().parent / "swagger_ui"  # swagger-ui-dist's files (see VERSION there)
OPENAPI_URL = "/api/v1/openapi.json"


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, clock: Callable[[], datetime] = utcnow
) -> FastAPI:
    """Build the app. The database is opened and migrated to the newest schema here, before serving. `clock` gives
    the time requests are judged at (the system clock; tests pass their own)."""
    from server.api.router import include_routers

    settings = settings or get_settings()
    engine = engine or make_engine(settings.effective_database_url)
    upgrade(engine)

    app = FastAPI(
        title="estate-desk",
        version="1",
        summary="Front-desk system for residential estates: device API for kiosks, gates and key cabinets.",
        docs_url=None,  # served below from the package, so /docs works with no internet
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        max_body_size=limits.DEFAULT_BODY,
    )
    app.state.settings = settings
    app.state.engine = engine
    # Request sessions read from a snapshot and take SQLite's write lock only for their writes; the hot writes
    # (gate releases, kiosk slips) go to the writer, which commits many requests' writes together.
    app.state.sessionmaker = make_sessionmaker(engine, optimistic=True)
    app.state.writer = make_writer(engine)
    app.state.clock = clock
    errors.install(app)
    app.add_middleware(DeviceFirst)
    app.add_middleware(ResponseHeaders)
    app.add_middleware(Admission)
    include_routers(app)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs-assets", StaticFiles(directory=SWAGGER_UI), name="docs-assets")

    @app.get("/docs", include_in_schema=False)
    def _docs() -> HTMLResponse:
        """Swagger UI from the package's copy of swagger-ui-dist (no CDN)."""
        return get_swagger_ui_html(
            openapi_url=OPENAPI_URL,
            title="estate-desk API",
            swagger_js_url="/docs-assets/swagger-ui-bundle.js",
            swagger_css_url="/docs-assets/swagger-ui.css",
            swagger_favicon_url="/docs-assets/favicon-32x32.png",
        )

    @app.get("/openapi.json", include_in_schema=False)
    def _openapi() -> JSONResponse:
        """The same document as /api/v1/openapi.json, where tools look for it first."""
        return JSONResponse(app.openapi())

    @app.get("/", include_in_schema=False)
    def _root() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)

    return app
