"""`estate`: one command with a sub-command per part of the system.

Sub-commands import their part lazily, so a kiosk or gate machine that has no server extras installed can still
run `estate kiosk`, `estate gate` and `estate devices …`.
"""

from __future__ import annotations

import typer

from devices.cli import app as devices_app

app = typer.Typer(no_args_is_help=True, help="estate-desk: front-desk system for residential estates.")
app.add_typer(devices_app, name="devices")


def main() -> None:
    app()
