"""`estate gate`: start the guards' gate terminal. Cheap to import: Kivy is loaded only when the gate runs."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def run(
    server: Annotated[str | None, typer.Option(help="server base URL, e.g. http://127.0.0.1:8000")] = None,
    camera: Annotated[
        str | None, typer.Option(help="camera URL: v4l2://0, rtsp://…, file:///video.mp4, images:///dir")
    ] = None,
    device_token: Annotated[
        str | None, typer.Option("--device-token", envvar="ESTATE_DEVICE_TOKEN", help="this gate's device token")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", exists=True, dir_okay=False, help="TOML settings file")
    ] = None,
    data_dir: Annotated[Path | None, typer.Option(help="folder for the local outbox and synced data")] = None,
    gate_name: Annotated[
        str | None,
        typer.Option(help="the gate's name as guards see it, e.g. 东门 (default: as enrolled on the server)"),
    ] = None,
    orientation: Annotated[str | None, typer.Option(help="portrait or landscape")] = None,
    windowed: Annotated[
        bool | None, typer.Option("--windowed/--fullscreen", help="a window instead of full screen")
    ] = None,
    size: Annotated[
        str | None, typer.Option(help="window size WxH, the screen scaled to fit (with --windowed), e.g. 540x960")
    ] = None,
    scale: Annotated[float | None, typer.Option(help="window scale of the 1080×1920 screen, e.g. 0.5")] = None,
    position: Annotated[str | None, typer.Option(help="window's top-left corner X,Y on the display")] = None,
    language: Annotated[str | None, typer.Option(help="zh or en")] = None,
    font: Annotated[str | None, typer.Option(help="a CJK font file (found automatically when left out)")] = None,
) -> None:
    """Run the gate terminal: camera preview with continuous scanning, guard sign-in, verdicts, the item checklist,
    release or refuse, manual slip numbers, and offline operation with an outbox."""
    from terminal import logs

    logs.configure(program="gate")
    from devices.camera import CameraUrlError
    from gate.runtime import GateConfig, GateRuntime

    try:
        settings = GateConfig.load(
            config,
            server=server,
            camera=camera,
            device_token=device_token,
            data_dir=data_dir,
            gate_name=gate_name,
            orientation=orientation,
            windowed=windowed,
            language=language,
            font=font,
        )
        if settings.language not in ("zh", "en"):
            raise ValueError("--language is zh or en")
        from terminal.kivy_setup import WindowSpec

        spec = WindowSpec.from_options(
            settings.orientation, fullscreen=not settings.windowed, size=size, scale=scale, position=position
        )
        runtime = GateRuntime(settings)
    except (ValueError, CameraUrlError, OSError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    from gate.ui.launch import launch

    launch(runtime, settings, spec)
