"""`estate cabinet`: run the key cabinet's agent. Cheap to import: the driver loads inside the command."""

from __future__ import annotations

import json
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer


def run(
    cabinet: Annotated[
        str | None, typer.Option("--cabinet", help="lock-board bus URL, e.g. serial:///dev/ttyUSB1 or socket://…")
    ] = None,
    protocol: Annotated[str | None, typer.Option("--protocol", help="xor485 or kerong-cu16")] = None,
    server: Annotated[str | None, typer.Option("--server", help="server address, e.g. http://127.0.0.1:8000")] = None,
    device_token: Annotated[
        str | None, typer.Option("--device-token", envvar="ESTATE_DEVICE_TOKEN", help="the cabinet's token")
    ] = None,
    config: Annotated[
        Path | None, typer.Option("--config", exists=True, dir_okay=False, help="TOML file with the same settings")
    ] = None,
    boards: Annotated[
        str | None, typer.Option("--boards", help="board addresses on the bus, comma-separated (default 1)")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="where the event outbox is kept (default var/cabinet)")
    ] = None,
    poll_interval: Annotated[float | None, typer.Option("--poll-interval", min=0.05)] = None,
    tag_reader: Annotated[
        str | None,
        typer.Option("--tag-reader", help="the return-point tag reader: a serial URL, or keyboard for a wedge"),
    ] = None,
) -> None:
    """Watch the cabinet's doors and keys and report every event to the server (kept locally while it is away).
    One JSON line per event on stdout."""
    from cabinet.agent import EventForwarder, open_cabinet, open_outbox, open_reader
    from cabinet.config import CabinetConfig
    from devices.cabinet.errors import CabinetError
    from devices.cabinet.events import CabinetEvent
    from server.contract.client import EstateClient

    try:
        settings = CabinetConfig.load(
            config,
            cabinet=cabinet,
            protocol=protocol,
            server=server,
            device_token=device_token,
            boards=boards,
            data_dir=data_dir,
            poll_interval=poll_interval,
            tag_reader=tag_reader,
        ).check()
        driver = open_cabinet(settings)
        reader = open_reader(settings, lambda event: on_event(event))
    except (OSError, ValueError, CabinetError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    addresses = driver.boards
    client = EstateClient(settings.server, settings.device_token, timeout=5.0)
    outbox = open_outbox(settings.data_dir / "outbox.db")
    forwarder = EventForwarder(outbox, client.cabinet_events).start()
    printing = threading.Lock()  # the poller and the tag reader report on their own threads

    def on_event(event: CabinetEvent) -> None:
        forwarder.accept(event)
        with printing:
            sys.stdout.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
            sys.stdout.flush()

    stop = threading.Event()

    def interrupted(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    driver.subscribe(on_event)
    driver.start()
    if reader is not None:
        reader.start()
    typer.echo(
        f"cabinet {settings.cabinet} ({settings.protocol}, boards {addresses}"
        f"{', tag reader ' + settings.tag_reader if reader else ''}) reporting to {settings.server}; "
        f"{outbox.pending_count()} events waiting from before",
        err=True,
    )
    try:
        stop.wait()
    finally:
        if reader is not None:
            reader.close()
        driver.close()
        forwarder.stop()
        client.close()
        outbox.close()
