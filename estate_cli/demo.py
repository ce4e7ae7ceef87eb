"""`estate demo`: the demo estate, the server, the simulated hardware and every program of the system, started and
stopped together."""

from __future__ import annotations

import json
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
import uvicorn
from rich.console import Console
from rich.table import Table
from sqlalchemy import Engine, select

from server.cli.context import open_engine, transaction
from server.config import Settings, get_settings
from server.db.models import Estate
from server.domain.actors import cli_actor

if TYPE_CHECKING:
    from estate_cli.demo_devices import DemoDevices
    from server.demo import DemoResult

err = Console(stderr=True)
PRINTER_PORT, CABINET_PORT = 9100, 7000  # where the simulated hardware listens unless told otherwise


def demo(
    host: Annotated[str | None, typer.Option(help="Address to listen on.")] = None,
    port: Annotated[int | None, typer.Option(help="Port.")] = None,
    printer_port: Annotated[int, typer.Option(help="Port of the virtual printer (0: any free port).")] = PRINTER_PORT,
    cabinet_port: Annotated[
        int, typer.Option(help="Port of the key-cabinet simulator (0: any free port).")
    ] = CABINET_PORT,
    seed_only: Annotated[bool, typer.Option("--seed-only", help="Create the demo data, print it, and exit.")] = False,
) -> None:
    """Create the demo estate (once), print how to sign in, and run the server with the simulated hardware, the
    cabinet agent, and (with a display) the kiosk and gate windows. Any signal that ends it ends them too."""
    from server.demo import GUARD_CARD, GUARD_PIN, seed

    settings = get_settings()
    engine = open_engine(settings)
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    tokens_file = settings.data_dir / "demo-devices.json"
    with transaction(engine) as session:
        result = seed(session, cli_actor("demo"), known_tokens=_read_tokens(tokens_file))
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
    err.print(f"Gate sign-in for guard: PIN {GUARD_PIN} or card {GUARD_CARD}")
    err.print(f"Device tokens (kiosk, gate, cabinet) written to {tokens_file}")
    if result.reissued:
        err.print(
            f"[bold red]NEW DEVICE TOKENS for {', '.join(result.reissued)}[/]: the ones in {tokens_file} no longer "
            "worked. A kiosk, gate or cabinet still running with an old token is refused (401): restart it."
        )
    err.print(f"Console: [bold]{address}/console/[/]   API docs: {address}/docs")
    if seed_only:
        return
    from estate_cli import demo_devices

    hardware = demo_devices.start(
        settings.data_dir,
        printer_port=printer_port,
        cabinet_port=cabinet_port,
        cabinet_boards=result.cabinet_boards,
        cabinet_keys=result.cabinet_keys,
    )
    try:
        _run_demo(settings, engine, host, port, hardware, result)
    finally:
        hardware.stop()


def _read_tokens(path: Path) -> dict[str, str]:
    """The device tokens an earlier demo run wrote, if any (a damaged file only means new tokens)."""
    try:
        tokens = json.loads(path.read_text())
    except (OSError, ValueError):
        return {}
    return {str(k): str(v) for k, v in tokens.items()} if isinstance(tokens, dict) else {}


def _run_demo(
    settings: Settings,
    engine: Engine,
    host: str | None,
    port: int | None,
    hardware: DemoDevices,
    result: DemoResult,
) -> None:
    from estate_cli import demo_devices
    from server.demo import DEMO_SLIP_UNIT, demo_slip
    from terminal.display import screen_size, side_by_side

    tokens = result.device_tokens

    for note in hardware.notes:
        err.print(f"[yellow]{note}[/]")
    with transaction(engine) as session:
        estate = session.scalars(select(Estate).where(Estate.code == "GH")).one()
        slip = demo_slip(session, cli_actor("demo"), estate, DEMO_SLIP_UNIT)
    camera = demo_devices.film_slip(slip, estate, hardware.printer, settings.data_dir / "demo-camera")
    err.print(f"Virtual printer: {hardware.printer.url} (slips as PNG in {hardware.printer.out_dir})")
    boards = ", ".join(f"{address} ({channels} slots)" for address, channels in result.cabinet_boards)
    err.print(
        f"Key-cabinet simulator (XOR 485, boards {boards or '1–2'}): {hardware.cabinet_url}, "
        f"{len(result.cabinet_keys)} tagged keys of the demo key set in their home slots"
    )
    err.print(f"Demo slip {slip.number} for unit {slip.unit_code} printed; the gate camera reads it from {camera}")
    username, name, card, pin = result.cabinet_staff
    if username:
        plant_room = next((label for label, *_ in result.cabinet_keys if "水泵房" in label), "KEY")
        err.print(
            f"Cabinet sign-in for {username} ({name}): card {card}, or type `pin {username} {pin}` in this terminal "
            f"(the cabinet's panel reads it); then e.g. `borrow {plant_room} engineering 2`, and `out`",
            markup=False,
        )

    server_url = f"http://{host or settings.host}:{port or settings.port}"
    cabinet_config = demo_devices.agent_config(
        settings.data_dir / "cabinet", hardware.cabinet_url, server_url, result.cabinet_boards
    )
    commands = {
        "cabinet": ["cabinet", "--config", str(cabinet_config), "--device-token", tokens["cabinet"]],
        "kiosk": [
            "kiosk",
            "--server",
            server_url,
            "--printer",
            hardware.printer.url,
            "--device-token",
            tokens["kiosk"],
            "--windowed",
        ],
        "gate": [
            "gate",
            "--server",
            server_url,
            "--camera",
            f"images://{camera.resolve()}",
            "--device-token",
            tokens["gate"],
            "--data-dir",
            str(settings.data_dir / "gate"),
            "--windowed",
        ],
    }
    wanted = ["cabinet"]
    screen = screen_size()
    if screen is not None:
        wanted += ["kiosk", "gate"]
        for name, placement in zip(("kiosk", "gate"), side_by_side(screen, 2), strict=True):
            commands[name] += placement
    else:
        err.print(
            "[yellow]No display here (DISPLAY is not set or cannot be opened), so the kiosk and gate windows are not "
            "opened.[/] On a machine with a screen, `make demo` opens them; or start them against this server with:"
        )
        for name in ("kiosk", "gate"):
            err.print("  estate " + " ".join(shlex.quote(a) for a in commands[name]), soft_wrap=True, markup=False)
    serve_with(settings, engine, host, port, after_start=lambda: _launch(commands, wanted))


_children: list[subprocess.Popen[bytes]] = []


def _launch(commands: dict[str, list[str]], wanted: list[str]) -> None:
    for name in wanted:
        # A session of its own: a Ctrl-C in the terminal reaches only the demo, which then stops each child in
        # turn (they close cleanly on SIGTERM), rather than every process at once.
        child = subprocess.Popen([sys.executable, "-m", "estate_cli", *commands[name]], start_new_session=True)
        _children.append(child)
        err.print(f"started estate {name} (pid {child.pid})")


def _stop_children() -> None:
    for child in _children:
        if child.poll() is None:
            child.terminate()
    for child in _children:
        try:
            child.wait(timeout=15)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()


def serve_with(
    settings: Settings, engine: Engine, host: str | None, port: int | None, after_start: Callable[[], None]
) -> None:
    """Serve; once the server accepts connections, run `after_start`; on the end of serving, for whatever reason
    (Ctrl-C, SIGTERM, SIGHUP, the terminal closing, an error), stop the started processes."""
    from server.web.app import create_app

    server = uvicorn.Server(
        uvicorn.Config(create_app(settings, engine), host=host or settings.host, port=port or settings.port)
    )

    def launcher() -> None:
        while not server.started and not server.should_exit:
            time.sleep(0.1)
        if server.started and not server.should_exit:
            after_start()

    def stop(_signum: int, _frame: object) -> None:
        server.should_exit = True

    # uvicorn handles SIGINT and SIGTERM while it serves and re-raises them when done: these handlers then let the
    # children be stopped instead of the process dying on the spot.
    for signum in (signal.SIGTERM, signal.SIGHUP, signal.SIGQUIT):
        signal.signal(signum, stop)
    threading.Thread(target=launcher, name="demo-launcher", daemon=True).start()
    try:
        server.run()
    finally:
        _stop_children()
