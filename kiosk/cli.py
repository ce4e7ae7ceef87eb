"""`estate kiosk`: the lobby kiosk window. Kivy is imported only when the command runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from kiosk import config as kiosk_config


def run(
    server: Annotated[str | None, typer.Option(help="server base URL, e.g. http://127.0.0.1:8000")] = None,
    printer: Annotated[str | None, typer.Option(help="printer URL: tcp://HOST:9100, usb://VID:PID, file://…")] = None,
    device_token: Annotated[str | None, typer.Option(help="this kiosk's device token")] = None,
    config: Annotated[Path | None, typer.Option("--config", help="TOML file with the same settings")] = None,
    orientation: Annotated[str | None, typer.Option(help="portrait (1080×1920) or landscape (1920×1080)")] = None,
    windowed: Annotated[
        bool | None, typer.Option("--windowed/--fullscreen", help="a window instead of full screen")
    ] = None,
    language: Annotated[str | None, typer.Option(help="zh or en: the language the kiosk returns to")] = None,
    idle_seconds: Annotated[float | None, typer.Option(help="idle time before the kiosk goes home and wipes")] = None,
    size: Annotated[
        str | None, typer.Option(help="window size WxH, the screen scaled to fit (with --windowed), e.g. 540x960")
    ] = None,
    scale: Annotated[float | None, typer.Option(help="window scale of the 1080×1920 screen, e.g. 0.5")] = None,
    position: Annotated[str | None, typer.Option(help="window's top-left corner X,Y on the display")] = None,
) -> None:
    """Run the residents' lobby kiosk against a server and a slip printer. State changes and errors (server away,
    device token refused, printer offline) are logged one line each on stderr."""
    from terminal import logs
    from terminal.kivy_setup import WindowSpec

    logs.configure(program="kiosk")
    try:
        settings = kiosk_config.load(
            config,
            server=server,
            printer=printer,
            device_token=device_token,
            orientation=orientation,
            windowed=windowed,
            language=language,
            idle_seconds=idle_seconds,
        )
        spec = WindowSpec.from_options(
            settings.orientation, fullscreen=not settings.windowed, size=size, scale=scale, position=position
        )
    except (OSError, ValueError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    from kiosk.ui.launch import launch

    launch(settings, spec)
