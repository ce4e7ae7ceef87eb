"""`estate devices cabinet simulate|status|open` as a technician runs them: separate processes, JSON lines."""

from __future__ import annotations

import json
import os
import queue
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from devices.cabinet.events import BoardOffline, BoardOnline
from devices.cabinet.profiles import BoardProfile
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from devices.cli.cabinet import app
from tests.conftest import wait_until

ESTATE = str(Path(sys.executable).parent / "estate")


def cabinet_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [ESTATE, "devices", "cabinet", *args], capture_output=True, text=True, timeout=60, check=False
    )


def json_lines(text: str) -> list[dict[str, object]]:
    return [json.loads(line) for line in text.splitlines() if line.strip()]


@pytest.fixture
def running_simulator(request: pytest.FixtureRequest) -> Iterator[tuple[str, str]]:
    protocol, listen, *faults = request.param
    args = [ESTATE, "devices", "cabinet", "simulate", "--protocol", protocol, "--boards", "2", "--close-after", "0"]
    if listen:
        args += ["--listen", listen]
    for fault in faults:
        args += ["--fault", fault]
    proc = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: queue.Queue[str] = queue.Queue()
    assert proc.stdout is not None
    threading.Thread(target=lambda: [lines.put(line) for line in proc.stdout], daemon=True).start()  # type: ignore[union-attr]
    try:
        first = json.loads(lines.get(timeout=30))
        assert set(first) == {"url"}
        yield protocol, str(first["url"])
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=30) == 0


@pytest.mark.parametrize(
    "running_simulator",
    [("xor485", None), ("kerong-cu16", "127.0.0.1:0"), ("xor485", None, "garbage", "split")],
    ids=["xor485-pty", "kerong-socket", "xor485-noisy-line"],
    indirect=True,
)
def test_open_and_query_a_running_simulator(running_simulator: tuple[str, str]) -> None:
    protocol, url = running_simulator
    board = 1
    before = cabinet_cli("status", "--cabinet", url, "--protocol", protocol, "--board", str(board))
    assert before.returncode == 0, before.stderr
    slots = json_lines(before.stdout)
    assert [s["slot"] for s in slots] == list(range(1, len(slots) + 1))
    assert all(set(s) == {"board", "slot", "door", "key"} and s["board"] == board for s in slots)
    assert all(s["door"] == "closed" for s in slots)
    expected_key = "present" if protocol == "kerong-cu16" else "unknown"  # Kerong IR sensors; XOR boards have none
    assert all(s["key"] == expected_key for s in slots)
    assert ("report doors only" in before.stderr) is (protocol == "xor485")

    opened = cabinet_cli("open", "--cabinet", url, "--protocol", protocol, "--board", str(board), "--slot", "3")
    assert opened.returncode == 0, opened.stderr
    assert json_lines(opened.stdout) == [{"board": board, "slot": 3, "accepted": True}]

    after = json_lines(cabinet_cli("status", "--cabinet", url, "--protocol", protocol, "--board", "1").stdout)
    assert [s["slot"] for s in after if s["door"] == "open"] == [3]


@pytest.mark.parametrize("running_simulator", [("xor485", None)], indirect=True)
def test_status_scans_every_address_and_reports_the_answering_boards(running_simulator: tuple[str, str]) -> None:
    protocol, url = running_simulator
    scanned = cabinet_cli("status", "--cabinet", f"serial://{url}?baudrate=9600", "--protocol", protocol)
    assert scanned.returncode == 0, scanned.stderr
    assert sorted({s["board"] for s in json_lines(scanned.stdout)}) == [1, 2]

    missing = cabinet_cli("status", "--cabinet", url, "--protocol", protocol, "--board", "7")
    assert missing.returncode != 0 and missing.stdout == ""
    assert "no board answered" in missing.stderr


@pytest.mark.parametrize("running_simulator", [("xor485", None)], indirect=True)
def test_a_slot_the_board_does_not_have_is_refused_with_the_boards_own_range(
    running_simulator: tuple[str, str],
) -> None:
    protocol, url = running_simulator  # the simulator's XOR boards have 24 slots; the protocol allows 50
    refused = cabinet_cli("open", "--cabinet", url, "--protocol", protocol, "--board", "1", "--slot", "99")
    assert refused.returncode != 0 and refused.stdout == ""
    assert "board 1 has slots 1-24, not 99" in refused.stderr and "1-50" not in refused.stderr


@pytest.mark.parametrize("command", ["status", "open"])
def test_board_help_gives_each_protocols_addresses(command: str) -> None:
    result = CliRunner().invoke(app, [command, "--help"], terminal_width=200)
    assert "xor485 1-31" in result.stdout and "kerong-cu16 0-15" in result.stdout


def test_simulate_refuses_an_unknown_fault() -> None:
    result = CliRunner().invoke(app, ["simulate", "--protocol", "xor485", "--fault", "lightning"])
    assert result.exit_code != 0
    assert "unknown fault 'lightning'" in result.stderr
    assert result.stdout == ""


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["status", "--cabinet", "http://x", "--protocol", "xor485"], "Accepted forms"),
        (["open", "--cabinet", "/dev/null", "--protocol", "modbus", "--board", "1", "--slot", "1"], "accepted:"),
        (["open", "--cabinet", "/dev/estate-none", "--protocol", "xor485", "--board", "1", "--slot", "1"], "not_sent"),
        (["open", "--cabinet", "loop://", "--protocol", "kerong-cu16", "--board", "16", "--slot", "1"], "0-15"),
    ],
)
def test_cli_errors_are_clear_and_non_zero(args: list[str], message: str) -> None:
    result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert message in result.stderr
    # Only an unlock that was tried reports its (failed) result as a JSON line.
    expected = [{"board": 1, "slot": 1, "accepted": False}] if message == "not_sent" else []
    assert json_lines(result.stdout) == expected


def test_status_on_a_port_nothing_listens_on_says_connection_refused() -> None:
    with socket.socket() as probe:  # a free port, closed again: nothing listens there
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    url = f"socket://127.0.0.1:{port}"
    result = CliRunner().invoke(app, ["status", "--cabinet", url, "--protocol", "xor485", "--board", "1"])
    assert result.exit_code != 0 and result.stdout == ""
    assert "connection refused" in result.stderr and url in result.stderr
    assert "no board answered" not in result.stderr


def test_kerong_open_is_not_accepted_when_the_board_ignored_the_unlock() -> None:
    """A Kerong board acknowledges an unlock with its status frame; one that stays silent did not take it, even if
    it answers the status queries around it."""
    sim = SimCabinet.stocked(BoardProfile.default("kerong-cu16"), boards=1, close_after=None)
    sim.inject("silence", requests=["unlock"])
    with CabinetSimulator(sim) as simulator:
        args = ["open", "--cabinet", simulator.url, "--protocol", "kerong-cu16", "--board", "0", "--slot", "2"]
        result = CliRunner().invoke(app, args)
    assert result.exit_code != 0
    assert json_lines(result.stdout) == [{"board": 0, "slot": 2, "accepted": False}]
    assert "unconfirmed" in result.stderr and "did not answer" in result.stderr


@pytest.mark.parametrize("listen", [None, "127.0.0.1:0"], ids=["pty", "socket"])
def test_a_command_beside_a_running_agent_is_refused_naming_the_holder(make_rig, listen: str | None) -> None:
    """A second program on the line would interleave its frames with the agent's polls: it is refused, told who
    holds the line, and the agent sees no false offline/online pair."""
    # Polling as the agent does, with patience to spare: on a machine busy starting the two commands, a reply late
    # by a few scheduler ticks is not the false offline (frames interleaved on the line) this test looks for.
    rig = make_rig("xor485", listen=listen, reply_timeout=0.5, status_retries=2).start()
    url = rig.simulator.url
    for args in (["status", "--board", "1"], ["open", "--board", "1", "--slot", "2"]):
        result = cabinet_cli(args[0], "--cabinet", url, "--protocol", "xor485", *args[1:])
        assert result.returncode != 0
        assert f"in use by PID {os.getpid()}" in result.stderr and url in result.stderr
    assert rig.unlock_frames() == 0
    polled = len(rig.sim.received)
    wait_until(lambda: len(rig.sim.received) >= polled + 4)  # the agent keeps polling undisturbed
    assert not any(isinstance(e, (BoardOffline, BoardOnline)) for e in rig.seen + list(rig.events.queue))
