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
        str, typer.Option("--cabinet", help="lock-board bus URL, e.g. serial:///dev/ttyUSB1 or socket://…")
    ],
    protocol: Annotated[str, typer.Option("--protocol", help="xor485 or kerong-cu16")],
    server: Annotated[str, typer.Option("--server", help="server address, e.g. http://127.0.0.1:8000")],
    device_token: Annotated[
        str, typer.Option("--device-token", envvar="ESTATE_DEVICE_TOKEN", help="the cabinet's token")
    ],
    boards: Annotated[str, typer.Option("--boards", help="board addresses on the bus, comma-separated")] = "1",
    data_dir: Annotated[Path, typer.Option("--data-dir", help="where the event outbox is kept")] = Path("var/cabinet"),
    poll_interval: Annotated[float, typer.Option("--poll-interval", min=0.05)] = 0.2,
) -> None:
    """Watch the cabinet's doors and keys and report every event to the server (kept locally while it is away).
    One JSON line per event on stdout."""
    from cabinet.agent import EventForwarder
    from cabinet.outbox import EventOutbox
    from devices.cabinet.driver import Cabinet
    from devices.cabinet.errors import CabinetError
    from devices.cabinet.events import CabinetEvent
    from server.contract.client import EstateClient

    try:
        addresses = [int(b) for b in boards.split(",") if b.strip()]
        driver = Cabinet(cabinet, protocol, addresses, poll_interval=poll_interval)
    except (ValueError, CabinetError) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None
    client = EstateClient(server, device_token, timeout=5.0)
    outbox = EventOutbox(data_dir / "outbox.db")
    forwarder = EventForwarder(outbox, client.cabinet_events).start()

    def on_event(event: CabinetEvent) -> None:
        forwarder.accept(event)
        sys.stdout.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
        sys.stdout.flush()

    stop = threading.Event()

    def interrupted(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    driver.subscribe(on_event)
    driver.start()
    typer.echo(
        f"cabinet {cabinet} ({protocol}, boards {addresses}) reporting to {server}; "
        f"{outbox.pending()} events waiting from before",
        err=True,
    )
    try:
        stop.wait()
    finally:
        driver.close()
        forwarder.stop()
        client.close()
        outbox.close()
