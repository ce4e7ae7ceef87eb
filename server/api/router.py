"""The one place routers are mounted: every router of the device API under `/api/v1`, and the console's under
`/console`. A new area adds its router here."""

from __future__ import annotations

from fastapi import FastAPI

from server.api import cabinet, gate, gate_terminal, kiosk, routes, slips
from server.console import admin_pages, reconciliation_pages, registry_pages, slip_pages
from server.console import routes as console

API_PREFIX = "/api/v1"
DEVICE_API = (gate, slips, kiosk, gate_terminal, cabinet, routes)
# in the order their paths must be tried: a fixed path (`/slips/reconciliation`) before a pattern (`/slips/{id}`)
CONSOLE = (registry_pages, admin_pages, reconciliation_pages, slip_pages, console)


def include_routers(app: FastAPI) -> None:
    for module in DEVICE_API:
        app.include_router(module.router, prefix=API_PREFIX)
    for module in CONSOLE:
        app.include_router(module.router, prefix="/console", include_in_schema=False)
