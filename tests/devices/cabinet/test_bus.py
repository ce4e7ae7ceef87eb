"""The transaction layer on a real pseudo-terminal: late replies, the gap between frames, and what is refused."""

from __future__ import annotations

import itertools
from collections.abc import Iterator

import pytest

from devices.cabinet.bus import Bus
from devices.cabinet.codec import BoardStatus, codec_for
from devices.cabinet.driver import Cabinet
from devices.cabinet.errors import CabinetUrlError, LineDown, NoReply
from devices.cabinet.profiles import BoardProfile, UnknownProtocolError
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator

PROFILE = BoardProfile.default("xor485", channels=8)
CODEC = codec_for(PROFILE)


@pytest.fixture
def line() -> Iterator[tuple[SimCabinet, Bus]]:
    sim = SimCabinet(PROFILE, [1, 2], 8)
    with CabinetSimulator(sim) as simulator:
        bus = Bus(simulator.url, baudrate=PROFILE.baudrate, reply_timeout=0.15)
        yield sim, bus
        bus.close()


def _status(bus: Bus, board: int) -> BoardStatus:
    reply = bus.transact(CODEC.query(board), CODEC)
    assert isinstance(reply, BoardStatus)
    return reply


def test_late_reply_is_drained_not_taken_for_the_next_transaction(line) -> None:
    sim, bus = line
    # Answers after the 0.15 s timeout, inside the drain that follows the failure.
    sim.inject("delay", boards=[1], times=1, delay=0.2)
    with pytest.raises(NoReply):
        _status(bus, 1)
    sim.open_door(1, 4)
    # The late reply (door 4 still closed) must not stand in for this one.
    assert _status(bus, 1).doors_open[3] is True


def test_late_reply_from_one_board_is_skipped_while_waiting_for_another(line) -> None:
    sim, _ = line
    bus = Bus(line[1].url, baudrate=PROFILE.baudrate, reply_timeout=0.3)
    sim.open_door(1, 1)
    # Board 1 fails at 0.3 s, the drain ends at 0.6 s, board 1's reply comes at 0.7 s, in the middle of the
    # transaction with board 2, which answers (the simulated bus is one line, so after board 1) at about 0.75 s.
    sim.inject("delay", boards=[1], times=1, delay=0.7)
    sim.inject("delay", boards=[2], times=1, delay=0.05)
    with pytest.raises(NoReply):
        _status(bus, 1)
    status = _status(bus, 2)
    bus.close()
    assert status.board == 2 and not any(status.doors_open)


def test_minimum_gap_between_frames(line) -> None:
    sim, bus = line
    for _ in range(4):
        _status(bus, 1)
    arrivals = [r.at for r in sim.received]
    gaps = [b - a for a, b in itertools.pairwise(arrivals)]
    assert min(gaps) >= bus.min_gap


def test_an_unlock_is_never_retried() -> None:
    bus = Bus("loop://", baudrate=9600)
    with pytest.raises(ValueError, match="never retried"):
        bus.transact(CODEC.unlock(1, 1), CODEC, retries=1)


def test_line_that_cannot_be_opened_is_line_down() -> None:
    bus = Bus("serial:///dev/estate-no-such-port", baudrate=9600)
    with pytest.raises(LineDown, match="cannot open") as caught:
        bus.transact(CODEC.query(1), CODEC)
    assert caught.value.maybe_sent is False


@pytest.mark.parametrize(
    "url", ["", "ttyUSB0", "http://10.0.0.5", "socket://bridge", "serial://", "serial:///dev/x?baudrate=fast"]
)
def test_bad_cabinet_url_names_the_accepted_forms(url: str) -> None:
    with pytest.raises(CabinetUrlError, match="Accepted forms: serial:///dev/ttyUSB1"):
        Cabinet(url, "xor485", [1])


def test_url_forms() -> None:
    bus = Bus("serial:///dev/ttyUSB1?baudrate=4800", baudrate=9600)
    assert (bus.target.port_url, bus.baudrate) == ("/dev/ttyUSB1", 4800)
    assert Bus("socket://127.0.0.1:7000", baudrate=9600).target.port_url == "socket://127.0.0.1:7000"
    assert Bus("spy:///dev/ttyUSB1?file=log.txt", baudrate=9600).target.port_url == "spy:///dev/ttyUSB1?file=log.txt"


def test_bad_protocol_name() -> None:
    with pytest.raises(UnknownProtocolError, match="accepted: xor485, kerong-cu16"):
        Cabinet("loop://", "modbus", [1])


def test_bad_board_address_for_the_protocol() -> None:
    with pytest.raises(ValueError, match="addresses are 0-15"):
        Cabinet("loop://", "kerong-cu16", [16])
