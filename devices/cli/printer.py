"""`estate devices printer …`: test slip, status, and the virtual printer."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Annotated

import typer

from devices.cli._output import PlainHelpCommand, PlainHelpGroup, emit, fail, say
from devices.printing.profiles import DEFAULT_PROFILE

app = typer.Typer(no_args_is_help=True, cls=PlainHelpGroup, help="printer diagnostics")

PrinterUrl = Annotated[
    str,
    typer.Option("--printer", help="usb://VID:PID, tcp://HOST:PORT, serial:///dev/…?baudrate=…, file://PATH, dummy://"),
]
Timeout = Annotated[float, typer.Option("--timeout", help="seconds to wait for each status reply")]


@app.command("test", cls=PlainHelpCommand)
def test(
    printer: PrinterUrl,
    mode: Annotated[str | None, typer.Option("--mode", help="native|raster (default: the profile's)")] = None,
    profile: Annotated[str, typer.Option("--profile", help="cn80, cn58 or tm512")] = DEFAULT_PROFILE,
    timeout: Timeout = 2.0,
    check_status: Annotated[
        bool, typer.Option("--check-status/--no-check-status", help="ask DLE EOT before and after")
    ] = True,
) -> None:
    """Print a Chinese test slip with a QR code."""
    from devices.printing import PrintingError, get_profile, print_slip
    from devices.printing.diagnostic import diagnostic_slip

    if mode is not None and mode not in ("native", "raster"):
        fail(f"--mode must be native or raster, not {mode!r}")
    try:
        prof = get_profile(profile)
    except ValueError as exc:
        fail(str(exc))
    slip = diagnostic_slip()
    try:
        result = print_slip(printer, slip, prof, mode, timeout=timeout, check_status=check_status)
    except PrintingError as exc:
        emit({"printer": printer, "error": type(exc).__name__, "message": str(exc), "job_sent": exc.job_sent})
        fail(str(exc))
    emit(
        {
            "printer": printer,
            "profile": prof.name,
            "mode": mode or prof.mode.value,
            "bytes": result.bytes_sent,
            "qr": slip.qr_token,
            "confirmed": result.confirmed,
            "status": result.status_after.as_dict(),
        }
    )
    say(f"test slip {slip.slip_number} sent ({result.bytes_sent} bytes)")


@app.command("status", cls=PlainHelpCommand)
def status(printer: PrinterUrl, timeout: Timeout = 2.0) -> None:
    """Ask the printer for its state; exits non-zero unless it answered and is ready to print."""
    from devices.printing import PrintingError, open_printer, query_status

    try:
        device = open_printer(printer, timeout)
    except PrintingError as exc:
        emit({"printer": printer, "online": False, "paper": "unknown", "cover": "unknown", "detail": str(exc)})
        fail(str(exc))
    try:
        result = query_status(device, timeout)
    finally:
        device.close()
    emit({"printer": printer, **result.as_dict()})
    if not result.ready:
        fail(f"printer not ready: online={result.online} paper={result.paper} cover={result.cover}")


@app.command("emulate", cls=PlainHelpCommand)
def emulate(
    listen: Annotated[str, typer.Option("--listen", help="HOST:PORT to listen on (port 0 picks one)")] = (
        "127.0.0.1:9100"
    ),
    out: Annotated[Path, typer.Option("--out", help="folder for job-N.bin and job-N.png")] = Path("var/printer"),
    state: Annotated[str, typer.Option("--state", help="ok|near_end|out|cover_open|silent")] = "ok",
    width: Annotated[int, typer.Option("--width", help="paper width in dots (576, 512, 384)")] = 576,
) -> None:
    """Run a virtual TCP-9100 printer: each job -> DIR/job-N.bin and job-N.png, one JSON line per job."""
    from devices.printing.virtual import PrinterState, VirtualPrinter

    host, sep, port = listen.rpartition(":")
    if not sep or not port.isdigit():
        fail(f"--listen must be HOST:PORT, e.g. 127.0.0.1:9100, not {listen!r}")
    try:
        printer_state = PrinterState(state)
    except ValueError:
        fail(f"--state must be one of {', '.join(s.value for s in PrinterState)}, not {state!r}")
    if width % 8 or not 64 <= width <= 2048:
        fail("--width must be a multiple of 8 dots between 64 and 2048")
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(message)s")
    printer = VirtualPrinter(
        out,
        host=host or "127.0.0.1",
        port=int(port),
        width=width,
        state=printer_state,
        on_job=lambda record: emit(record.as_dict()),
    )
    try:
        printer.start()
    except OSError as exc:
        fail(f"cannot listen on {listen}: {exc}")
    emit({"listen": printer.url, "out": str(out), "state": printer_state.value, "width": width})
    say(f"virtual printer on {printer.url}, jobs in {out}; Ctrl-C to stop")
    try:
        printer.serve_forever()
    except KeyboardInterrupt:
        say("stopped")
