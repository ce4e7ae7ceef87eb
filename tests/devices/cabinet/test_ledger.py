"""The persistent unlock ledger: a request id is on disk before its frame goes out, and a request id seen before never
sends a second frame — across threads, across processes (the agent and `estate devices cabinet open --ledger`),
after a restart, and after a crash between writing the id and learning what became of the frame. Frames are counted
where they arrive, at the simulated board on a pseudo-terminal."""

from __future__ import annotations

import json
import os
import socket
import sqlite3
import subprocess
import sys
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import closing
from pathlib import Path

import pytest

from devices.cabinet.driver import Cabinet
from devices.cabinet.errors import RequestIdConflict
from devices.cabinet.events import DoorOpened
from devices.cabinet.ledger import SENDING, MemoryLedger, SqliteLedger, UnlockLedger, UnlockOutcome, UnlockResult
from devices.cabinet.profiles import BoardProfile
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from tests.devices.cabinet.test_cli import ESTATE, json_lines

SLOTS = 12


@pytest.fixture
def board() -> Iterator[tuple[SimCabinet, str]]:
    sim = SimCabinet(BoardProfile.default("xor485", channels=SLOTS), [1], SLOTS)
    simulator = CabinetSimulator(sim)
    url = simulator.start()
    yield sim, url
    simulator.stop()


def driver_on(url: str, ledger: UnlockLedger) -> Cabinet:
    return Cabinet(url, "xor485", [1], profile=BoardProfile.default("xor485", channels=SLOTS), ledger=ledger)


def accepted(request_id: str, slot: int = 3) -> UnlockResult:
    return UnlockResult(request_id, 1, slot, UnlockOutcome.ACCEPTED)


@pytest.mark.parametrize("kind", ["memory", "sqlite"])
def test_both_ledgers_keep_the_same_promise(kind: str, tmp_path: Path) -> None:
    ledger = MemoryLedger() if kind == "memory" else SqliteLedger(tmp_path / "unlocks.db")
    assert ledger.claim("r-1", (1, 3)) is None
    assert ledger.known("r-1") is not None  # being sent: already counts as possibly sent
    ledger.settle(accepted("r-1"))
    again = ledger.claim("r-1", (1, 3))
    assert again == UnlockResult("r-1", 1, 3, UnlockOutcome.ACCEPTED, duplicate=True)
    with pytest.raises(RequestIdConflict, match="board 1 slot 3"):
        ledger.claim("r-1", (1, 4))
    # A frame that never reached the wire (the line was down) leaves the id free to be tried again.
    assert ledger.claim("r-2", (1, 5)) is None
    ledger.settle(UnlockResult("r-2", 1, 5, UnlockOutcome.NOT_SENT, "cannot open"))
    assert ledger.known("r-2") is None and ledger.claim("r-2", (1, 5)) is None
    with pytest.raises(ValueError, match="request id"):
        ledger.claim("", (1, 1))
    ledger.close()


def test_an_id_outlives_a_restart(tmp_path: Path, board: tuple[SimCabinet, str]) -> None:
    sim, url = board
    path = tmp_path / "var" / "unlocks.db"
    first = SqliteLedger(path)
    with driver_on(url, first) as driver:
        assert driver.open_slot(1, 3, "loan-1").accepted
    first.close()

    reopened = SqliteLedger(path)  # as after a restart of the agent
    with driver_on(url, reopened) as driver:
        events = driver.event_queue()
        again = driver.open_slot(1, 3, "loan-1")
        assert driver.open_slot(1, 4, "loan-2").accepted
        opened = events.get(timeout=5)
        while not (isinstance(opened, DoorOpened) and opened.slot == 4):  # slot 3 may still stand open from before
            opened = events.get(timeout=5)
    reopened.close()
    assert again.duplicate and again.accepted
    assert opened.request_id == "loan-2"
    assert len(sim.unlock_frames(1, 3)) == 1 and len(sim.unlock_frames(1, 4)) == 1


def test_threads_asking_for_one_id_send_one_frame(tmp_path: Path, board: tuple[SimCabinet, str]) -> None:
    sim, url = board
    ledger = SqliteLedger(tmp_path / "unlocks.db")
    results: list[UnlockResult] = []
    start = threading.Barrier(8)
    with driver_on(url, ledger) as driver:

        def ask() -> None:
            start.wait()
            results.append(driver.open_slot(1, 6, "the-one"))

        threads = [threading.Thread(target=ask) for _ in range(8)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    ledger.close()
    assert len(sim.unlock_frames(1, 6)) == 1
    assert sorted(r.duplicate for r in results) == [False] + [True] * 7
    assert all(r.accepted for r in results)


CLAIMER = """
import json, sys
from pathlib import Path
from devices.cabinet.ledger import SqliteLedger, UnlockOutcome, UnlockResult
ledger = SqliteLedger(Path(sys.argv[1]))
sys.stdin.readline()  # both programs start claiming together
mine = []
for n in range(int(sys.argv[2])):
    if ledger.claim(f"id-{n}", (1, 1)) is None:
        mine.append(n)
        ledger.settle(UnlockResult(f"id-{n}", 1, 1, UnlockOutcome.ACCEPTED))
print(json.dumps(mine))
"""


def test_two_programs_never_both_own_an_id(tmp_path: Path) -> None:
    path, count = tmp_path / "unlocks.db", 300
    SqliteLedger(path).close()  # the file exists before either starts
    programs = [
        subprocess.Popen(
            [sys.executable, "-c", CLAIMER, str(path), str(count)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    for program in programs:
        assert program.stdin is not None
        program.stdin.write("go\n")
        program.stdin.flush()
    owned = [json.loads(program.communicate(timeout=120)[0]) for program in programs]
    assert all(program.returncode == 0 for program in programs)
    assert Counter(owned[0] + owned[1]) == Counter(range(count))  # each id owned by exactly one program


CRASH = """
import os, sys
from pathlib import Path
from devices.cabinet.ledger import SqliteLedger
ledger = SqliteLedger(Path(sys.argv[1]))
assert ledger.claim(sys.argv[2], (1, int(sys.argv[3]))) is None
os._exit(9)  # killed after writing the id, before the frame's answer came
"""


def test_an_id_a_crash_left_sending_counts_as_possibly_sent(tmp_path: Path, board: tuple[SimCabinet, str]) -> None:
    sim, url = board
    path = tmp_path / "unlocks.db"
    for request_id, slot in (("crashed-a", 2), ("crashed-b", 3)):
        died = subprocess.run([sys.executable, "-c", CRASH, str(path), request_id, str(slot)], check=False)
        assert died.returncode == 9
    ledger = SqliteLedger(path)
    with driver_on(url, ledger) as driver:
        # Asked for again without looking first: reported unconfirmed, no frame.
        again = driver.open_slot(1, 2, "crashed-a")
        # Found at start-up, as the agent looks.
        found = ledger.interrupted()
        later = driver.open_slot(1, 3, "crashed-b")
    ledger.close()
    assert again.duplicate and again.outcome is UnlockOutcome.UNCONFIRMED and "possibly sent" in again.detail
    assert [(r.request_id, r.outcome) for r in found] == [("crashed-b", UnlockOutcome.UNCONFIRMED)]
    assert later.duplicate and later.outcome is UnlockOutcome.UNCONFIRMED
    assert len(sim.unlock_frames(1)) == 0


def test_a_program_waits_for_another_sending_the_same_id(tmp_path: Path) -> None:
    """Two ledgers on one file stand for two programs: the second gets the first's result, never a claim."""
    path = tmp_path / "unlocks.db"
    agent, technician = SqliteLedger(path), SqliteLedger(path, other_sender_wait=30)
    assert agent.claim("shared", (1, 8)) is None
    answers: list[UnlockResult | None] = []
    asking = threading.Thread(target=lambda: answers.append(technician.claim("shared", (1, 8))))
    asking.start()
    agent.settle(accepted("shared", 8))
    asking.join()
    assert answers == [UnlockResult("shared", 1, 8, UnlockOutcome.ACCEPTED, duplicate=True)]
    impatient = SqliteLedger(path, other_sender_wait=0.05)
    assert agent.claim("slow", (1, 9)) is None
    still = impatient.claim("slow", (1, 9))  # the first program is alive and still sending: not sent again
    assert still is not None and still.duplicate and still.outcome is UnlockOutcome.UNCONFIRMED
    for ledger in (agent, technician, impatient):
        ledger.close()


def test_the_cli_shares_the_agents_ledger(tmp_path: Path, board: tuple[SimCabinet, str]) -> None:
    """`estate devices cabinet open --request-id … --ledger` with the agent's ledger: an id the agent carried out,
    or an earlier command, sends nothing; a new one sends one frame."""
    sim, url = board
    path = tmp_path / "cabinet" / "unlocks.db"
    agent = SqliteLedger(path)
    with driver_on(url, agent) as driver:
        assert driver.open_slot(1, 5, "from-the-agent").accepted
    agent.close()

    def cli_open(slot: int, request_id: str) -> subprocess.CompletedProcess[str]:
        command = ["devices", "cabinet", "open", "--cabinet", url, "--protocol", "xor485", "--board", "1"]
        command += ["--slot", str(slot), "--request-id", request_id, "--ledger", str(path)]
        return subprocess.run([ESTATE, *command], capture_output=True, text=True, timeout=60, check=False)

    by_agent = cli_open(5, "from-the-agent")
    first = cli_open(7, "by-hand")
    second = cli_open(7, "by-hand")
    for run in (by_agent, first, second):
        assert run.returncode == 0, run.stderr
    assert json_lines(first.stdout) == [{"board": 1, "slot": 7, "accepted": True}]
    duplicate = {"accepted": True, "duplicate": True, "outcome": "accepted"}
    assert json_lines(by_agent.stdout) == [{"board": 1, "slot": 5, "request_id": "from-the-agent", **duplicate}]
    assert json_lines(second.stdout) == [{"board": 1, "slot": 7, "request_id": "by-hand", **duplicate}]
    assert "no frame sent this time" in second.stderr
    assert len(sim.unlock_frames(1, 5)) == 1 and len(sim.unlock_frames(1, 7)) == 1
    conflict = cli_open(8, "by-hand")
    assert conflict.returncode == 1 and "board 1 slot 7" in conflict.stderr and conflict.stdout == ""
    assert len(sim.unlock_frames(1, 8)) == 0


def test_a_claim_from_before_a_reboot_or_by_a_pid_now_reused_is_taken_as_stopped(tmp_path: Path) -> None:
    """After a power cut the agent may come back with the pid its dead predecessor had, or another program may have
    it: the claim is still recognised as left by a program that stopped (possibly sent, never waited for)."""
    path = tmp_path / "unlocks.db"
    ledger = SqliteLedger(path, other_sender_wait=30)
    here = f"{os.getpid()}@{socket.gethostname()}"
    boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
    owners = {"reused-pid": f"{here}:{boot}:1:0000aaaa", "before-reboot": f"{here}:another-boot:1:0000bbbb"}
    with closing(sqlite3.connect(path)) as conn, conn:
        for request_id, owner in owners.items():
            conn.execute(
                "INSERT INTO unlocks (request_id, board, slot, state, owner, claimed_at) VALUES (?, 1, 2, ?, ?, '')",
                (request_id, SENDING, owner),
            )
    for request_id in owners:
        again = ledger.claim(request_id, (1, 2))
        assert again is not None and again.outcome is UnlockOutcome.UNCONFIRMED
        assert "stopped before an answer: possibly sent" in again.detail
    ledger.close()
