"""Start the kiosk window from its settings (Kivy is configured here, before its window module loads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.config import KioskConfig
from terminal.kivy_setup import WindowSpec, prepare

if TYPE_CHECKING:
    from kiosk.heartbeat import HeartbeatSender
    from kiosk.ui.app import KioskApp


def make_app(settings: KioskConfig) -> KioskApp:
    """The configured Kivy app (not yet running): the flow on the real client and printer."""
    app, _heartbeat = _build(settings)
    return app


def _build(settings: KioskConfig) -> tuple[KioskApp, HeartbeatSender]:
    prepare(WindowSpec.from_orientation(settings.orientation, fullscreen=not settings.windowed), settings.font)
    from kiosk.flows.kiosk_flow import KioskFlow
    from kiosk.heartbeat import HeartbeatSender
    from kiosk.printer import UrlPrinter
    from kiosk.ui.app import KioskApp
    from server.contract.client import EstateClient

    client = EstateClient(settings.server, settings.device_token)
    printer = UrlPrinter(settings.printer, profile=settings.printer_profile)
    flow = KioskFlow(client, printer, idle_seconds=settings.idle_seconds, language=settings.language)
    return KioskApp(flow), HeartbeatSender(client.heartbeat, printer)


def launch(settings: KioskConfig) -> None:
    """Run the kiosk window, reporting to the server every minute that it is alive and how its printer is."""
    app, heartbeat = _build(settings)
    heartbeat.start()
    try:
        app.run()
    finally:
        heartbeat.stop()
