"""The application factory: one FastAPI app serving the device API under /api/v1 and the console under /console."""

from __future__ import annotations

import asyncio
import contextlib
import gc
import logging
import os
import socket
import uuid
from collections.abc import AsyncIterator, Callable
from datetime import datetime
from pathlib import Path
from typing import TypeVar

import anyio.to_thread
from fastapi import FastAPI
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse
from fastapi.staticfiles import StaticFiles
from sqlalchemy import Engine
from sqlalchemy.orm import Session
from starlette.types import ASGIApp

from server.config import Settings, get_settings
from server.db.base import utcnow
from server.db.engine import make_engine, make_sessionmaker
from server.db.migrate import upgrade
from server.db.writer import make_writer
from server.domain.actors import Actor
from server.domain.duty import attendance
from server.domain.keys import loans
from server.domain.service import escalation
from server.web import errors, limits
from server.web.admission import Admission
from server.web.early_auth import ConsoleFirst, DeviceFirst
from server.web.headers import ResponseHeaders

STATIC = Path(__file__).resolve().parent.parent / "console" / "static"
SWAGGER_UI = Path(__file__).resolve().parent / "swagger_ui"  # swagger-ui-dist's files (see VERSION there)
OPENAPI_URL = "/api/v1/openapi.json"
SWEEP = Actor(kind="system", name="overdue sweep")
SERVICE_SWEEP = Actor(kind="system", name="service escalation sweep")
DUTY_SWEEP = Actor(kind="system", name="duty review")
log = logging.getLogger(__name__)


class EstateApp(FastAPI):
    """The FastAPI app with one layer outside all of FastAPI's own: the body limit's plain 413 in the error form."""

    def build_middleware_stack(self) -> ASGIApp:
        return errors.TooLargeInErrorForm(super().build_middleware_stack())


T = TypeVar("T")


def sweep_overdue(app: FastAPI) -> int:
    """Flag the key loans that became overdue by the app's clock, in every estate; how many. Reads first, so an
    idle server writes nothing."""
    now = app.state.clock()
    with app.state.sessionmaker() as session:
        if not loans.any_to_flag(session, now):
            return 0
    return app.state.writer.run(lambda session: len(loans.flag_all_overdue(session, SWEEP, now)))


def sweep_service(app: FastAPI) -> int:
    """Escalate the service desk's late orders, forms and call tasks to the supervisor, in every estate, once each
    for its deadline; how many. Only the worker holding the sweep's lease sweeps; an idle server writes nothing."""

    def read(work: Callable[[Session], T]) -> T:
        with app.state.sessionmaker() as session:
            return work(session)

    now = app.state.clock()
    return len(escalation.sweep(read, app.state.writer.run, app.state.worker_id, SERVICE_SWEEP, now))


def sweep_duty(app: FastAPI) -> int:
    """Record the front desk's absences and alert the supervisor of reliefs that did not arrive (R-DUTY-1), in
    every estate, once each (claimed by conditional updates); how many estates. Reads first: an idle server writes
    nothing."""
    now = app.state.clock()
    with app.state.sessionmaker() as session:
        if not attendance.estates_to_review(session, now):
            return 0
    return int(app.state.writer.run(lambda session: attendance.sweep(session, DUTY_SWEEP, now)))


async def _sweep_forever(app: FastAPI, every: float, sweep: Callable[[FastAPI], int], name: str) -> None:
    while True:
        try:
            await anyio.to_thread.run_sync(sweep, app)
        except Exception:  # a failed sweep is tried again at the next one; the server keeps serving
            log.exception("the %s failed", name)
        await asyncio.sleep(every)


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While the app serves: the key overdue sweep and the service escalation sweep, each at start and every
    `overdue_sweep_seconds` / `service_sweep_seconds`."""
    settings = app.state.settings
    tasks = [
        asyncio.create_task(_sweep_forever(app, every, sweep, name))
        for every, sweep, name in (
            (settings.overdue_sweep_seconds, sweep_overdue, "overdue sweep"),
            (settings.service_sweep_seconds, sweep_service, "service escalation sweep"),
            (settings.service_sweep_seconds, sweep_duty, "duty review sweep"),
        )
        if every > 0
    ]
    # What start-up made (modules, the app, the ORM's mappings) lives as long as the server: kept out of the
    # collector's full passes, which otherwise walk all of it and held every request for 100-200 ms each time
    # (bench/slips.py: the p99 of releases). Given back to the collector when the app stops.
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()
        if app.state.release_lane is not None:
            await app.state.release_lane.close()
        for task in tasks:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task


def create_app(
    settings: Settings | None = None, engine: Engine | None = None, clock: Callable[[], datetime] = utcnow
) -> FastAPI:
    """Build the app. The database is opened and migrated to the newest schema here, before serving. `clock` gives
    the time requests are judged at (the system clock; tests pass their own)."""
    from server.api.release_lane import Lane, ReleaseLane
    from server.api.router import include_routers

    settings = settings or get_settings()
    engine = engine or make_engine(settings.effective_database_url)
    upgrade(engine)

    app = EstateApp(
        title="estate-desk",
        version="1",
        summary="Front-desk system for residential estates: device API for kiosks, gates and key cabinets.",
        docs_url=None,  # served below from the package, so /docs works with no internet
        redoc_url=None,
        openapi_url=OPENAPI_URL,
        max_body_size=limits.DEFAULT_BODY,
        lifespan=lifespan,
    )
    app.state.settings = settings
    app.state.engine = engine
    # Request sessions read from a snapshot and take SQLite's write lock only for their writes; the hot writes
    # (gate releases, kiosk slips) go to the writer, which commits many requests' writes together.
    app.state.sessionmaker = make_sessionmaker(engine, optimistic=True)
    app.state.writer = make_writer(engine)
    app.state.clock = clock
    app.state.worker_id = f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"  # holds sweep leases
    # The everyday gate release and kiosk slip, answered without the framework's per-request work.
    app.state.release_lane = Lane.for_app(engine, app.state.writer, clock)
    errors.install(app)
    app.add_middleware(ReleaseLane)
    app.add_middleware(DeviceFirst)
    app.add_middleware(ConsoleFirst)
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
