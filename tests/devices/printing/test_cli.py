"""`estate devices printer test|status|emulate`: JSON lines on stdout, non-zero exit on failure."""

from __future__ import annotations

import json
import os
import selectors
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devices.cli.printer import app
from devices.printing import print_slip
from devices.printing.virtual import PrinterState, VirtualPrinter
from tests.devices.printing.conftest import decode_qr, make_slip

runner = CliRunner()


def lines(output: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in output.splitlines() if line.startswith("{")]


def test_status_of_a_ready_printer(virtual_printer: VirtualPrinter) -> None:
    result = runner.invoke(app, ["status", "--printer", virtual_printer.url])
    assert result.exit_code == 0, result.output
    assert lines(result.stdout) == [{"printer": virtual_printer.url, "online": True, "paper": "ok", "cover": "closed"}]


@pytest.mark.parametrize(
    ("state", "expected"),
    [
        (PrinterState.OUT, {"online": False, "paper": "out", "cover": "closed"}),
        (PrinterState.COVER_OPEN, {"online": False, "paper": "ok", "cover": "open"}),
        (PrinterState.SILENT, {"online": None, "paper": "unknown", "cover": "unknown"}),
    ],
)
def test_status_of_an_unfit_printer_fails(
    virtual_printer: VirtualPrinter, state: PrinterState, expected: dict[str, object]
) -> None:
    virtual_printer.state = state
    result = runner.invoke(app, ["status", "--printer", virtual_printer.url, "--timeout", "0.3"])
    assert result.exit_code != 0
    [reported] = lines(result.stdout)
    assert {k: reported[k] for k in expected} == expected


@pytest.mark.parametrize("mode", ["native", "raster"])
def test_test_slip_prints_chinese_and_a_readable_qr(virtual_printer: VirtualPrinter, mode: str) -> None:
    result = runner.invoke(app, ["test", "--printer", virtual_printer.url, "--mode", mode])
    assert result.exit_code == 0, result.output
    [reported] = lines(result.stdout)
    assert reported["mode"] == mode and reported["confirmed"] is True
    [job] = virtual_printer.wait_for_jobs(1)
    assert decode_qr(job.png_path) == [reported["qr"]]
    if mode == "native":
        assert any("测试放行条" in line for line in job.text_lines)


def test_test_slip_on_a_58mm_profile(virtual_printer: VirtualPrinter) -> None:
    virtual_printer.width = 384
    result = runner.invoke(app, ["test", "--printer", virtual_printer.url, "--profile", "cn58"])
    assert result.exit_code == 0, result.output
    [job] = virtual_printer.wait_for_jobs(1)
    assert not job.errors and job.printed


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--printer", "lp0"], "Accepted forms"),
        (["--printer", "dummy://", "--profile", "nope"], "known: cn80"),
        (["--printer", "dummy://", "--mode", "fancy"], "native or raster"),
    ],
)
def test_bad_arguments_fail_clearly(args: list[str], message: str) -> None:
    result = runner.invoke(app, ["test", *args])
    assert result.exit_code != 0
    assert message in result.output


def test_test_slip_to_a_printer_out_of_paper_fails_and_names_the_cause(virtual_printer: VirtualPrinter) -> None:
    virtual_printer.state = PrinterState.OUT
    result = runner.invoke(app, ["test", "--printer", virtual_printer.url])
    assert result.exit_code != 0
    [reported] = lines(result.stdout)
    assert reported["error"] == "PaperOut" and reported["job_sent"] is False


@pytest.mark.parametrize("command", ["status", "test"])
def test_an_unreachable_printer_is_one_line_naming_its_address(command: str) -> None:
    """The refusal reads as one line on stderr and in the JSON line, and keeps the port the technician typed."""
    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        url = f"tcp://127.0.0.1:{probe.getsockname()[1]}"
    result = runner.invoke(app, [command, "--printer", url, "--timeout", "1"])
    assert result.exit_code == 1
    [reported] = lines(result.stdout)
    detail = str(reported.get("detail") or reported.get("message"))
    assert "\n" not in detail and url in detail and detail.endswith("Connection refused")
    [error] = result.stderr.splitlines()
    assert error == f"error: {detail}"


def _read_json_line(proc: subprocess.Popen[str], deadline: float) -> dict[str, object]:
    assert proc.stdout is not None
    selector = selectors.DefaultSelector()
    selector.register(proc.stdout, selectors.EVENT_READ)
    while time.monotonic() < deadline:
        if selector.select(timeout=max(deadline - time.monotonic(), 0)):
            line = proc.stdout.readline()
            if not line:
                break
            return json.loads(line)
    raise AssertionError("the emulator printed no JSON line in time")


def test_emulate_command_serves_jobs_and_reports_each(tmp_path: Path) -> None:
    out = tmp_path / "jobs"
    code = "from estate_cli.main import main; main()"
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", code, "devices", "printer", "emulate", "--listen", "127.0.0.1:0", "--out", str(out)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    try:
        deadline = time.monotonic() + 30
        started = _read_json_line(proc, deadline)
        url = str(started["listen"])
        slip = make_slip()
        print_slip(url, slip)
        job = _read_json_line(proc, deadline)
        assert job["job"] == 1 and job["printed"] is True and job["qr"] == [slip.qr_token]
        assert Path(str(job["bin"])).is_file()
        assert decode_qr(Path(str(job["png"]))) == [slip.qr_token]
    finally:
        proc.terminate()
        proc.wait(timeout=10)
