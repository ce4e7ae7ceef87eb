"""`estate devices …`: the diagnostics CLI of ARCHITECTURE.md, a stable interface for technicians and checks."""

import typer

from devices.cli import cabinet, camera, printer, qr
from devices.cli._output import PlainHelpGroup

app = typer.Typer(no_args_is_help=True, cls=PlainHelpGroup, help="Printers, cameras, QR decoding and key cabinets.")
app.add_typer(printer.app, name="printer", help="ESC/POS slip printers: test, status, emulate.")
app.add_typer(qr.app, name="qr", help="Decode QR codes in image files.")
app.add_typer(camera.app, name="camera", help="Read codes from a camera URL.")
app.add_typer(cabinet.app, name="cabinet", help="RS485 key-cabinet lock boards: simulate, status, open.")
