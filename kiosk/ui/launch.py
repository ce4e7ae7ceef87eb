"""Start the kiosk window from its settings (Kivy is configured here, before its window module loads)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kiosk.config import KioskConfig
from terminal.kivy_setup import WindowSpec, prepare

if TYPE_CHECKING:
    from kiosk.ui.app import KioskApp


def make_app(settings: KioskConfig) -> KioskApp:
    """The configured Kivy app (not yet running): the flow on the real client and printer."""
    prepare(WindowSpec.from_orientation(settings.orientation, fullscreen=not settings.windowed), settings.font)
    from kiosk.flows.kiosk_flow import KioskFlow
    from kiosk.printer import UrlPrinter
    from kiosk.ui.app import KioskApp
    from server.contract.client import EstateClient

    client = EstateClient(settings.server, settings.device_token)
    flow = KioskFlow(
        client,
        UrlPrinter(settings.printer, profile=settings.printer_profile),
        idle_seconds=settings.idle_seconds,
        language=settings.language,
    )
    return KioskApp(flow)


def launch(settings: KioskConfig) -> None:
    make_app(settings).run()
