"""`estate serve` and `estate demo`."""

from __future__ import annotations

import json
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table

from server.cli.context import open_engine, transaction
from server.config import get_settings
from server.domain.actors import cli_actor

err = Console(stderr=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 8000).")] = None,
) -> None:
    """Run the server: the device API under /api/v1, the console under /console, OpenAPI at /docs."""
    from server.web.app import create_app

    settings = get_settings()
    engine = open_engine(settings)
    app = create_app(settings, engine)
    uvicorn.run(app, host=host or settings.host, port=port or settings.port, log_level="info")


def demo(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    seed_only: Annotated[bool, typer.Option("--seed-only", help="Create the demo data, print it, and exit.")] = False,
) -> None:
    """Create the demo estate (once), print how to sign in, and run the server."""
    from server.demo import seed

    settings = get_settings()
    engine = open_engine(settings)
    with transaction(engine) as session:
        result = seed(session, cli_actor("demo"))
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tokens_file = settings.data_dir / "demo-devices.json"
    tokens_file.write_text(json.dumps(result.device_tokens, indent=2))
    tokens_file.chmod(0o600)

    address = f"http://{host or settings.host}:{port or settings.port}"
    err.print(
        f"[bold green]estate-desk demo[/] — {'created' if result.created else 'existing'} estate "
        f"{result.estate.name} ({result.estate.code}) in {engine.url.render_as_string()}"
    )
    logins = Table("username", "password", "role", title="Console sign-in")
    for username, password, role in result.logins:
        logins.add_row(username, password, role.value)
    err.print(logins)
    if result.residents:
        cards = Table("unit", "owner", "card", "PIN", title="Residents with kiosk credentials")
        for row in result.residents:
            cards.add_row(*row)
        err.print(cards)
    if result.arrears_unit:
        err.print(f"Unit {result.arrears_unit} has a tenant and arrears (¥1,280.00): its tenant is refused a slip.")
    err.print(f"Device tokens (kiosk, gate, cabinet) written to {tokens_file}")
    err.print(f"Console: [bold]{address}/console/[/]   API docs: {address}/docs")
    if seed_only:
        return
    from server.cli import demo_devices

    hardware = demo_devices.start(settings.data_dir)
    for note in hardware.notes:
        err.print(f"[yellow]{note}[/]")
    err.print(f"Virtual printer: {hardware.printer.url} (slips as PNG in {hardware.printer.out_dir})")
    err.print(
        f"Key-cabinet simulator (XOR 485, 2 boards): {hardware.cabinet_url} — try "
        f"`estate devices cabinet status --cabinet {hardware.cabinet_url} --protocol xor485`"
    )
    try:
        serve(host=host, port=port)
    finally:
        hardware.stop()
