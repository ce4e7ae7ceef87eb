"""The driver through a real pseudo-terminal against the simulator: both protocols, both feedback polarities."""

from __future__ import annotations

import time

import pytest

from devices.cabinet.codec import RequestKind
from devices.cabinet.errors import RequestIdConflict
from devices.cabinet.events import (
    BoardOffline,
    BoardOnline,
    DoorClosed,
    DoorHeldOpen,
    DoorNotOpened,
    DoorOpened,
    DoorOpenedWithoutCommand,
    KeyRemoved,
    KeyReturned,
    KeyReturnedToWrongSlot,
    TagUnreadable,
    UnknownTag,
)
from devices.cabinet.profiles import Feedback
from devices.cabinet.tags import ibutton_rom, tag_id
from tests.devices.cabinet.conftest import WAIT

PROTOCOLS = ["xor485", "kerong-cu16"]


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_open_slot_door_opens_then_closes(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    assert rig.cabinet.status(rig.board)[2].door == "closed"

    result = rig.cabinet.open_slot(rig.board, 3, "req-1")

    assert result.accepted and not result.duplicate
    rig.wait_for(DoorOpened, board=rig.board, slot=3, request_id="req-1")
    assert rig.cabinet.status(rig.board)[2].door == "open"
    rig.sim.close_door(rig.board, 3)
    rig.wait_for(DoorClosed, board=rig.board, slot=3)
    assert rig.unlock_frames(3) == 1
    assert not any(isinstance(e, DoorOpenedWithoutCommand) for e in rig.seen)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_repeated_request_id_never_sends_a_second_unlock(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    first = rig.cabinet.open_slot(rig.board, 2, "same-id")
    rig.wait_for(DoorOpened, slot=2, request_id="same-id")
    rig.sim.close_door(rig.board, 2)
    rig.wait_for(DoorClosed, slot=2)

    again = rig.cabinet.open_slot(rig.board, 2, "same-id")

    assert first.accepted and again.accepted and again.duplicate
    assert rig.unlock_frames(2) == 1
    with pytest.raises(RequestIdConflict):
        rig.cabinet.open_slot(rig.board, 5, "same-id")
    assert rig.unlock_frames(5) == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_key_removed_returned_and_returned_to_wrong_slot(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    b = rig.board
    tag1, tag2 = tag_id(rig.sim.key_at(b, 1)), tag_id(rig.sim.key_at(b, 2))
    assert rig.cabinet.key_at(b, 1) == tag1

    rom1 = rig.sim.take_key(b, 1)
    rig.wait_for(KeyRemoved, board=b, slot=1, tag=tag1)
    rig.sim.put_key(b, 1, rom1)
    rig.wait_for(KeyReturned, board=b, slot=1, tag=tag1)

    rom2 = rig.sim.take_key(b, 2)
    rig.wait_for(KeyRemoved, board=b, slot=2, tag=tag2)
    rig.sim.take_key(b, 4)
    rig.wait_for(KeyRemoved, board=b, slot=4)
    rig.sim.put_key(b, 4, rom2)
    wrong = rig.wait_for(KeyReturnedToWrongSlot, board=b, slot=4, tag=tag2)
    assert (wrong.home_board, wrong.home_slot) == (b, 2)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unknown_and_unreadable_tags(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    b = rig.board
    rig.sim.take_key(b, 6)
    rig.wait_for(KeyRemoved, slot=6)
    stranger = ibutton_rom(0xABCDEF)
    rig.sim.put_key(b, 6, stranger)
    rig.wait_for(UnknownTag, slot=6, tag=tag_id(stranger))
    corrupt = stranger[:7] + bytes([stranger[7] ^ 0xFF])
    rig.sim.put_key(b, 7, corrupt)
    event = rig.wait_for(TagUnreadable, slot=7)
    assert "CRC" in event.reason


def test_kerong_ir_sensor_as_presence_without_a_reader(make_rig, feedback: Feedback) -> None:
    rig = make_rig("kerong-cu16", reader=False, feedback=feedback).start()
    b = rig.board
    assert rig.cabinet.status(b)[0].key == "present"
    rom = rig.sim.take_key(b, 1)
    rig.wait_for(KeyRemoved, board=b, slot=1, tag=None)
    assert rig.cabinet.status(b)[0].key == "absent"
    rig.sim.put_key(b, 1, rom)
    rig.wait_for(KeyReturned, board=b, slot=1, tag=None)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_door_opened_without_command_is_tamper(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    rig.sim.open_door(rig.board, 8)
    rig.wait_for(DoorOpened, slot=8, request_id=None)
    rig.wait_for(DoorOpenedWithoutCommand, board=rig.board, slot=8)
    assert rig.unlock_frames() == 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_door_that_does_not_open(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    rig.sim.jam(rig.board, 4)
    result = rig.cabinet.open_slot(rig.board, 4, "jammed")
    assert result.accepted  # the board took the command; only polling says the door stayed shut
    rig.wait_for(DoorNotOpened, slot=4, request_id="jammed")
    assert rig.unlock_frames(4) == 1
    assert not any(isinstance(e, DoorOpened) for e in rig.seen)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_door_held_open(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    rig.cabinet.open_slot(rig.board, 5, "held")
    rig.wait_for(DoorOpened, slot=5, request_id="held")
    event = rig.wait_for(DoorHeldOpen, slot=5)
    assert event.open_s >= 0.6
    rig.sim.close_door(rig.board, 5)
    rig.wait_for(DoorClosed, slot=5)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_simulated_doors_close_again_by_themselves(make_rig, protocol: str, feedback: Feedback) -> None:
    # Open long enough to be seen by a poll even on a loaded machine: door state only comes from polling.
    rig = make_rig(protocol, close_after=1.0, feedback=feedback).start()
    rig.cabinet.open_slot(rig.board, 1, "spring")
    rig.wait_for(DoorOpened, slot=1, request_id="spring")
    rig.wait_for(DoorClosed, slot=1)


@pytest.mark.parametrize(("protocol", "frames"), [("xor485", 1), ("kerong-cu16", 16)])
def test_open_board_opens_every_slot_once(make_rig, protocol: str, frames: int, feedback: Feedback) -> None:
    # XOR boards have an open-all command; a Kerong board gets one unlock per lock.
    rig = make_rig(protocol, feedback=feedback).start()
    result = rig.cabinet.open_board(rig.board, "all")
    assert result.accepted
    for slot in (1, 2):
        rig.wait_for(DoorOpened, slot=slot, request_id="all")
    assert rig.unlock_frames() == frames
    assert rig.cabinet.open_board(rig.board, "all").duplicate
    assert rig.unlock_frames() == frames


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_bad_board_or_slot_is_refused_before_anything_is_sent(make_rig, protocol: str) -> None:
    rig = make_rig(protocol)
    with pytest.raises(ValueError, match="not part of this cabinet"):
        rig.cabinet.open_slot(9, 1, "no-such-board")
    with pytest.raises(ValueError, match=r"slots 1-\d+, not 40"):
        rig.cabinet.open_slot(rig.board, 40, "no-such-slot")
    with pytest.raises(ValueError, match="request id"):
        rig.cabinet.open_slot(rig.board, 1, "")
    assert rig.sim.received == []


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_an_unlock_does_not_queue_behind_a_dead_boards_timeouts(make_rig, protocol: str) -> None:
    """While the poller waits on a board known dead, an unlock for another board goes out at once instead of after
    that board's reply timeout and drain (the latency itself is measured in bench/cabinet.py)."""
    rig = make_rig(protocol, reply_timeout=1.0, status_retries=0, open_timeout=WAIT)
    live, dead = rig.boards
    rig.sim.inject("silence", boards=[dead])
    rig.cabinet.poll_once()
    rig.wait_for(BoardOffline, board=dead)
    rig.cabinet.start()
    since = len(rig.sim.received)
    polled = rig.sim.wait_received(lambda r: r.kind is RequestKind.QUERY and r.board == dead, WAIT, since=since)
    assert polled is not None  # the poller is now waiting on the dead board

    started = time.monotonic()
    result = rig.cabinet.open_slot(live, 3, "past-the-dead-board")
    assert time.monotonic() - started < rig.cabinet.bus.reply_timeout  # it did not wait out the dead board
    assert result.accepted, result.detail
    rig.wait_for(DoorOpened, board=live, slot=3, request_id="past-the-dead-board")
    # The dead board stays offline: no second offline event, no false online.
    assert [e.name for e in rig.seen if isinstance(e, (BoardOffline, BoardOnline))] == ["board_offline"]
