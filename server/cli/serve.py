"""`estate serve` and `estate demo`."""

from __future__ import annotations

import json
import os
import shlex
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from typing import Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine

from server.cli.context import fail, open_engine, transaction
from server.config import Settings, get_settings
from server.domain.actors import cli_actor

err = Console(stderr=True)


def serve(
    host: Annotated[str | None, typer.Option(help="Address to listen on (default from settings: 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default from settings: 8000).")] = None,
    workers: Annotated[
        int, typer.Option(min=1, help="Worker processes (PostgreSQL only; SQLite serves from one).")
    ] = 1,
) -> None:
    """Run the server: the device API under /api/v1, the console under /console, OpenAPI at /docs."""
    from server.web.app import create_app

    settings = get_settings()
    engine = open_engine(settings)
    address = {"host": host or settings.host, "port": port or settings.port, "log_level": "info"}
    if workers == 1:
        uvicorn.run(create_app(settings, engine), **address)
        return
    if engine.dialect.name == "sqlite":
        # One process owns a SQLite file: its writer commits every request's writes together.
        raise fail("SQLite is served by one process; use PostgreSQL (ESTATE_DATABASE_URL) for several workers")
    engine.dispose()  # migrated; each worker opens its own
    uvicorn.run("server.web.app:create_app", factory=True, workers=workers, **address)


def demo(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    seed_only: Annotated[bool, typer.Option("--seed-only", help="Create the demo data, print it, and exit.")] = False,
) -> None:
    """Create the demo estate (once), print how to sign in, and run the server."""
    from server.demo import DEMO_SLIP_UNIT, GUARD_CARD, GUARD_PIN, issue_demo_slip, seed

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
    with transaction(engine) as session:
        estate = session.merge(result.estate)
        slip = issue_demo_slip(session, cli_actor("demo"), estate, DEMO_SLIP_UNIT)
    camera = demo_devices.film_slip(slip, estate, hardware.printer, settings.data_dir / "demo-camera")
    err.print(f"Virtual printer: {hardware.printer.url} (slips as PNG in {hardware.printer.out_dir})")
    err.print(f"Key-cabinet simulator (XOR 485, boards 1–2): {hardware.cabinet_url}")
    err.print(f"Demo slip {slip.number} for unit {slip.unit_code} printed; the gate camera reads it from {camera}")
    err.print(f"Gate sign-in for guard: PIN {GUARD_PIN} or card {GUARD_CARD}")

    server_url = f"http://{host or settings.host}:{port or settings.port}"
    commands = {
        "cabinet": [
            "cabinet",
            "--cabinet",
            hardware.cabinet_url,
            "--protocol",
            "xor485",
            "--boards",
            "1,2",
            "--server",
            server_url,
            "--device-token",
            result.device_tokens["cabinet"],
            "--data-dir",
            str(settings.data_dir / "cabinet"),
        ],
        "kiosk": [
            "kiosk",
            "--server",
            server_url,
            "--printer",
            hardware.printer.url,
            "--device-token",
            result.device_tokens["kiosk"],
            "--windowed",
        ],
        "gate": [
            "gate",
            "--server",
            server_url,
            "--camera",
            f"images://{camera.resolve()}",
            "--device-token",
            result.device_tokens["gate"],
            "--data-dir",
            str(settings.data_dir / "gate"),
            "--windowed",
        ],
    }
    wanted = ["cabinet"]
    if os.environ.get("DISPLAY"):
        wanted += ["kiosk", "gate"]
    else:
        err.print(
            "[yellow]No display here (DISPLAY is not set), so the kiosk and gate windows are not opened.[/] "
            "On a machine with a screen, `make demo` opens them; or start them against this server with:"
        )
        for name in ("kiosk", "gate"):
            err.print("  estate " + " ".join(shlex.quote(a) for a in commands[name]), soft_wrap=True, markup=False)
    try:
        serve_with(settings, engine, host, port, after_start=lambda: _launch(commands, wanted))
    finally:
        hardware.stop()


_children: list[subprocess.Popen[bytes]] = []


def _launch(commands: dict[str, list[str]], wanted: list[str]) -> None:
    for name in wanted:
        _children.append(subprocess.Popen([sys.executable, "-m", "server.cli", *commands[name]]))
        err.print(f"started estate {name} (pid {_children[-1].pid})")


def serve_with(
    settings: Settings, engine: Engine, host: str | None, port: int | None, after_start: Callable[[], None]
) -> None:
    """Serve; once the server accepts connections, run `after_start`; stop the started processes at the end."""
    from server.web.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine), host=host or settings.host, port=port or settings.port)
    )

    def launcher() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.1)
        if server.started:
            after_start()

    threading.Thread(target=launcher, name="demo-launcher", daemon=True).start()
    try:
        server.run()
    finally:
        for child in _children:
            child.terminate()
        for child in _children:
            child.wait(timeout=15)
