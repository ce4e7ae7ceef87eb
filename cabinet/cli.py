"""`estate cabinet`: run the key cabinet's agent. Cheap to import: the driver loads inside the command."""

from __future__ import annotations

import json
import signal
import sqlite3
import sys
import threading
import time
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
        Path | None,
        typer.Option(
            "--data-dir", help="where the outbox, the unlock ledger and the synced lists are kept (default var/cabinet)"
        ),
    ] = None,
    poll_interval: Annotated[float | None, typer.Option("--poll-interval", min=0.05)] = None,
    tag_reader: Annotated[
        str | None,
        typer.Option("--tag-reader", help="the return-point tag reader: a serial URL, or keyboard for a wedge"),
    ] = None,
    panel: Annotated[
        str | None,
        typer.Option(
            "--panel",
            help="where staff sign in (card or `pin USER PIN`), `borrow KEY PURPOSE [HOURS]` and `out`: a serial "
            "URL, or keyboard for standard input",
        ),
    ] = None,
) -> None:
    """Watch the cabinet's doors and keys and report every event to the server (kept locally while it is away);
    sign staff in at the panel and open the slots the server authorised for them, each exactly once.
    One JSON line per event on stdout; one line per change of state on stderr."""
    from cabinet.config import CabinetConfig
    from cabinet.service import CabinetAgent
    from devices.cabinet.errors import CabinetError
    from devices.cabinet.events import CabinetEvent
    from server.contract.client import EstateClient
    from terminal.logs import configure
    from terminal.systemd import Watchdog

    configure(program="cabinet")
    printing = threading.Lock()  # the poller, the tag reader and the panel report on their own threads

    def print_event(event: CabinetEvent) -> None:
        with printing:
            sys.stdout.write(json.dumps(event.to_dict(), ensure_ascii=False) + "\n")
            sys.stdout.flush()

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
            panel=panel,
        ).check()
        client = EstateClient(settings.server, settings.device_token, timeout=5.0)
        agent = CabinetAgent(settings, client, listeners=(print_event,))
    except (OSError, ValueError, CabinetError, sqlite3.Error) as exc:
        typer.echo(f"error: {exc}", err=True)
        raise typer.Exit(2) from None

    stop = threading.Event()

    def interrupted(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    agent.start()
    extras = [f"tag reader {settings.tag_reader}"] if settings.tag_reader else []
    extras += [f"panel {settings.panel}"] if settings.panel else []
    typer.echo(
        f"cabinet {settings.cabinet} ({settings.protocol}, boards {agent.driver.boards}"
        f"{''.join(', ' + e for e in extras)}) reporting to {settings.server}; "
        f"{agent.outbox.pending_count()} events waiting from before",
        err=True,
    )
    watchdog = Watchdog()
    watchdog.ready(f"watching {settings.cabinet}")
    try:
        # The watchdog is pinged only while the poller's cycles keep ending: a stuck poll loop gets restarted.
        while not stop.wait(watchdog.interval or 3600):
            if time.monotonic() - agent.driver.last_cycle < (watchdog.period or 0):
                watchdog.alive()
    finally:
        watchdog.stopping()
        agent.stop()
        client.close()
