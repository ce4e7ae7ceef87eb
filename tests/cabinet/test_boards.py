"""The agent's boards as its config file describes them (channels, feedback wiring, status-byte order) and its
return-point tag reader, over real pseudo-terminals with the board and reader simulators."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from cabinet.agent import open_cabinet, open_outbox
from cabinet.config import CabinetConfig
from devices.cabinet.driver import Cabinet
from devices.cabinet.profiles import BoardProfile, Feedback, StatusOrder
from devices.cabinet.reader import TagReaderSimulator
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from devices.cabinet.tags import ibutton_rom, tag_hex, tag_id
from tests.conftest import wait_until

WAIT = 10.0


def write_config(path: Path, url: str, boards: str, **extra: str) -> Path:
    lines = ["[cabinet]", f'cabinet = "{url}"', 'protocol = "xor485"', 'device_token = "edt_test"']
    lines += [f'{name} = "{value}"' for name, value in extra.items()]
    path.write_text("\n".join(lines) + "\n" + boards, encoding="utf-8")
    return path


MakeBoard = Callable[[BoardProfile, int, str], tuple[SimCabinet, Cabinet]]


@pytest.fixture
def board_driver(tmp_path: Path) -> Iterator[MakeBoard]:
    """A simulated board built as its profile says, and the agent's driver opened from a file describing it."""
    made: list[tuple[CabinetSimulator, Cabinet]] = []

    def make(profile: BoardProfile, address: int, boards: str) -> tuple[SimCabinet, Cabinet]:
        sim = SimCabinet(profile, [address], profile.channels or 24)
        simulator = CabinetSimulator(sim)
        url = simulator.start()
        settings = CabinetConfig.load(write_config(tmp_path / "cabinet.toml", url, boards)).check()
        driver = open_cabinet(settings)
        made.append((simulator, driver))
        return sim, driver

    yield make
    for simulator, driver in made:
        driver.close()
        simulator.stop()


def test_a_50_channel_xor_board_in_the_file_is_polled_and_online(board_driver: MakeBoard) -> None:
    sim, driver = board_driver(
        BoardProfile.default("xor485", channels=50), 7, "[[cabinet.boards]]\naddress = 7\nchannels = 50\n"
    )
    driver.poll_once()
    assert driver.watch.online(7) is True
    assert [s.slot for s in driver.status(7)] == list(range(1, 51))
    sim.open_door(7, 50)
    driver.poll_once()
    assert [s.slot for s in driver.status(7) if s.door == "open"] == [50]


def test_inverted_feedback_and_byte_order_from_the_file_read_the_right_door_state(board_driver: MakeBoard) -> None:
    """Opening-feedback locks (contact made while the door is open) on a board sending channels 1-8 first."""
    wired = BoardProfile.default("xor485", channels=16, feedback=Feedback.DOOR_OPENING, order=StatusOrder.LOW_FIRST)
    sim, driver = board_driver(
        wired,
        2,
        '[[cabinet.boards]]\naddress = 2\nchannels = 16\nfeedback = "door-opening"\norder = "low-first"\n',
    )
    sim.open_door(2, 3)
    driver.poll_once()
    assert {s.slot: s.door for s in driver.status(2)} == {n: "open" if n == 3 else "closed" for n in range(1, 17)}


def test_a_board_of_another_family_on_the_bus_is_refused(tmp_path: Path) -> None:
    path = write_config(tmp_path / "c.toml", "loop://", '[[cabinet.boards]]\naddress = 1\nprotocol = "kerong-cu16"\n')
    with pytest.raises(ValueError, match="one family per bus"):
        CabinetConfig.load(path).check()


def present_until_printed(reader: TagReaderSimulator, key: bytes, lines: queue.Queue[str]) -> str:
    for _ in range(int(WAIT / 0.05)):
        reader.present(key)
        try:
            return lines.get(timeout=0.05)
        except queue.Empty:
            continue
    raise AssertionError("the agent never printed the key read")


def test_tag_reads_at_the_return_point_reach_the_outbox(tmp_path: Path) -> None:
    key = ibutton_rom(0x186A1)
    sim = SimCabinet.stocked(BoardProfile.default("xor485"), boards=1, close_after=None)
    with CabinetSimulator(sim) as boards, TagReaderSimulator() as reader:
        config = write_config(
            tmp_path / "cabinet.toml",
            boards.url,
            "boards = [1]\n",
            server="http://127.0.0.1:9",  # nothing listens: the events wait in the outbox
            data_dir=str(tmp_path),
            tag_reader=reader.url,
        )
        agent = subprocess.Popen(
            [sys.executable, "-m", "estate_cli", "cabinet", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        lines: queue.Queue[str] = queue.Queue()
        assert agent.stdout is not None
        threading.Thread(target=lambda: [lines.put(line) for line in agent.stdout], daemon=True).start()  # type: ignore[union-attr]
        try:
            wait_until(lambda: len(sim.received) >= 2)  # the agent runs
            # The reader repeats while the key stays on the probe (one reading); until the agent has the port open
            # what it sends is lost, as on a real line.
            printed = [json.loads(present_until_printed(reader, key, lines))]
            reader.send(b"not a tag\r\n")
            reader.present(4242)  # an RFID tag
            printed += [json.loads(lines.get(timeout=WAIT)) for _ in range(2)]
        finally:
            agent.send_signal(signal.SIGTERM)
            agent.wait(timeout=20)
    assert agent.returncode == 0, agent.stderr.read() if agent.stderr else ""
    assert [(e["event"], e.get("tag")) for e in printed] == [
        ("tag_read", tag_id(key)),
        ("tag_read_failed", None),
        ("tag_read", "rfid:0000004242"),
    ]
    outbox = open_outbox(tmp_path / "outbox.db")
    kept = [json.loads(entry.body) for entry in outbox.pending()]
    outbox.close()
    # To the server a tag goes as the hex a reader types, as the key register holds it.
    assert [(e["event"], e["tag"]) for e in kept] == [
        ("tag_read", tag_hex(key)),
        ("tag_read_failed", None),
        ("tag_read", "0000001092"),
    ]
    assert kept[0]["reason"] == f"at the return-point reader {reader.url}"
