"""`estate serve`."""

from __future__ import annotations

from typing import Annotated

import typer
import uvicorn

from server.cli.context import fail, open_engine
from server.cli.workers import PortInUse, Workers
from server.config import get_settings


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 8000).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (PostgreSQL only; SQLite serves from one).")
    ] = 1,
    access_log: Annotated[bool, typer.Option(help="Log every request (a proxy in front may log them instead).")] = True,
) -> None:
    """Run the server: the device API under /api/v1, the console under /console, OpenAPI at /docs."""
    from server.web.app import create_app

    settings = get_settings()
    engine = open_engine(settings)
    host, port = host or settings.host, port or settings.port
    options = {"log_level": "info", "access_log": access_log}
    if workers == 1:
        uvicorn.run(create_app(settings, engine), host=host, port=port, **options)
        return
    if engine.dialect.name == "sqlite":
        # One process owns a SQLite file: its writer commits every request's writes together.
        raise fail("SQLite is served by one process; use PostgreSQL (ESTATE_DATABASE_URL) for several workers")
    engine.dispose()  # migrated; each worker opens its own
    try:
        supervisor = Workers(workers, host, port, options)
    except PortInUse as exc:
        raise fail(str(exc)) from None
    raise typer.Exit(supervisor.run())
