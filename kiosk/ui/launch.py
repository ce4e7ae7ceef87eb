"""Start the kiosk window from its settings (Kivy is configured here, before its window module loads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.config import KioskConfig
from terminal.kivy_setup import WindowSpec, prepare

if TYPE_CHECKING:
    from kiosk.heartbeat import HeartbeatSender
    from kiosk.ui.app import KioskApp


def make_app(settings: KioskConfig, spec: WindowSpec | None = None) -> KioskApp:
    """The configured Kivy app (not yet running): the flow on the real client and printer."""
    app, _heartbeat = _build(settings, spec)
    return app


def _build(settings: KioskConfig, spec: WindowSpec | None) -> tuple[KioskApp, HeartbeatSender]:
    spec = spec or WindowSpec.from_orientation(settings.orientation, fullscreen=not settings.windowed)
    prepare(spec, settings.font)
    from kivy.uix.widget import Widget

    from kiosk.flows.kiosk_flow import KioskFlow
    from kiosk.heartbeat import HeartbeatSender
    from kiosk.printer import UrlPrinter
    from kiosk.ui.app import KioskApp
    from server.contract.client import EstateClient
    from terminal.kivy_setup import fitted

    class FittedKioskApp(KioskApp):
        """The kiosk drawn at the window's scale (the layout stays the panel's)."""

        def build(self) -> Widget:
            return fitted(super().build(), spec)

    client = EstateClient(settings.server, settings.device_token)
    printer = UrlPrinter(settings.printer, profile=settings.printer_profile)
    flow = KioskFlow(client, printer, idle_seconds=settings.idle_seconds, language=settings.language)
    app = FittedKioskApp(flow)
    return app, HeartbeatSender(client.heartbeat, printer, on_link=app.set_link)


def launch(settings: KioskConfig, spec: WindowSpec | None = None) -> None:
    """Run the kiosk window, reporting to the server every few seconds that it is alive and how its printer is;
    SIGTERM, SIGINT and SIGHUP close it cleanly."""
    from terminal.kivy_setup import handle_signals
    from terminal.systemd import Watchdog, keep_kivy_alive

    app, heartbeat = _build(settings, spec)
    handle_signals(app)
    keep_kivy_alive(Watchdog())
    heartbeat.start()
    try:
        app.run()
    finally:
        heartbeat.stop()
