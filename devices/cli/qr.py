"""`estate devices qr …`."""

import typer

app = typer.Typer(no_args_is_help=True, help="qr diagnostics")
