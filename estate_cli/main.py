"""`estate`: one command with a sub-command per part of the system.

Sub-commands import their part lazily, so a kiosk, gate or cabinet machine without the server extras can still run
`estate kiosk`, `estate gate`, `estate cabinet` and `estate devices …`.
"""

from __future__ import annotations

import typer

from cabinet import cli as cabinet_cli
from devices.cli import app as devices_app
from devices.cli._output import plain_help
from estate_cli import doctor, install
from gate import cli as gate_cli
from kiosk import cli as kiosk_cli

app = typer.Typer(no_args_is_help=True, help="estate-desk: front-desk system for residential estates.")
app.add_typer(devices_app, name="devices")
app.command("kiosk")(kiosk_cli.run)
app.command("gate")(gate_cli.run)
app.command("cabinet")(cabinet_cli.run)
app.command("doctor")(doctor.doctor)
app.command("install")(install.install_command)
app.command("uninstall")(install.uninstall_command)


def _server_commands() -> None:
    """Mount the server's commands and the demo when the server's extras are installed."""
    try:
        from estate_cli import demo
        from server.cli.app import app as server_app
    except ImportError as exc:  # a kiosk or gate machine: no database drivers installed
        missing = exc.name or "a server dependency"

        @app.command("serve")
        def _unavailable() -> None:
            """Run the server (needs the [server] extras)."""
            typer.echo(f"error: the server needs its extras: pip install 'estate-desk[server]' ({missing})", err=True)
            raise typer.Exit(2)

        return
    app.add_typer(server_app)
    app.command("demo")(demo.demo)


_server_commands()


def main() -> None:
    plain_help(typer.main.get_command(app))()
