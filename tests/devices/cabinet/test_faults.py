"""Every simulator fault ends in the right event and never in a second unlock frame."""

from __future__ import annotations

import pytest

from devices.cabinet.events import BoardOffline, BoardOnline, DoorOpened, DoorOpenedWithoutCommand
from devices.cabinet.ledger import UnlockOutcome
from devices.cabinet.profiles import Feedback

PROTOCOLS = ["xor485", "kerong-cu16"]
# What an unlock returns when its reply is hit by a fault: accepted only when the board's acknowledgement came
# through (a Kerong board acknowledges with its status frame); a lost or corrupt one leaves it unconfirmed.
UNLOCK_REPLY_FAULTS = {
    ("xor485", "garbage"): UnlockOutcome.ACCEPTED,
    ("xor485", "split"): UnlockOutcome.ACCEPTED,
    ("xor485", "bad_checksum"): UnlockOutcome.UNCONFIRMED,
    ("xor485", "silence"): UnlockOutcome.UNCONFIRMED,
    ("kerong-cu16", "garbage"): UnlockOutcome.ACCEPTED,
    ("kerong-cu16", "split"): UnlockOutcome.ACCEPTED,
    ("kerong-cu16", "bad_checksum"): UnlockOutcome.UNCONFIRMED,
    ("kerong-cu16", "silence"): UnlockOutcome.UNCONFIRMED,
}


@pytest.mark.parametrize(("protocol", "fault"), list(UNLOCK_REPLY_FAULTS))
def test_fault_on_the_unlock_reply(make_rig, protocol: str, fault: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    rig.sim.inject(fault, requests=["unlock"], times=1)

    result = rig.cabinet.open_slot(rig.board, 2, f"req-{fault}")

    assert result.outcome is UNLOCK_REPLY_FAULTS[(protocol, fault)], result.detail
    # Whatever the reply said, the poll sees the door open and ties it to the request.
    rig.wait_for(DoorOpened, board=rig.board, slot=2, request_id=f"req-{fault}")
    assert rig.unlock_frames(2) == 1
    again = rig.cabinet.open_slot(rig.board, 2, f"req-{fault}")
    assert again.duplicate and again.outcome is result.outcome
    assert rig.unlock_frames(2) == 1


@pytest.mark.parametrize("fault", ["garbage", "split"])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_polling_works_through_garbage_and_split_replies(
    make_rig, protocol: str, fault: str, feedback: Feedback
) -> None:
    rig = make_rig(protocol, feedback=feedback)
    rig.sim.inject(fault)  # every reply, from the first poll on
    rig.start()
    rig.cabinet.open_slot(rig.board, 1, "through-noise")
    rig.wait_for(DoorOpened, slot=1, request_id="through-noise")
    rig.sim.open_door(rig.board, 9)
    rig.wait_for(DoorOpenedWithoutCommand, slot=9)
    assert not any(isinstance(e, BoardOffline) for e in rig.seen)
    assert rig.unlock_frames() == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_one_bad_checksum_on_a_poll_is_retried(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    rig.sim.inject("bad_checksum", requests=["query"], times=1)
    rig.sim.open_door(rig.board, 3)
    rig.wait_for(DoorOpenedWithoutCommand, slot=3)
    assert not any(isinstance(e, BoardOffline) for e in rig.seen)


@pytest.mark.parametrize(("fault", "reason"), [("silence", "did not answer"), ("bad_checksum", "bad checksum")])
@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_board_not_answering_and_answering_again(
    make_rig, protocol: str, fault: str, reason: str, feedback: Feedback
) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    quiet_board, other = rig.boards
    rig.sim.inject(fault, boards=[quiet_board])

    offline = rig.wait_for(BoardOffline, board=quiet_board)
    assert reason in offline.reason
    assert rig.cabinet.status(quiet_board)[0].door == "unknown"
    assert rig.cabinet.status(other)[0].door == "closed"

    rig.sim.clear_faults()
    rig.wait_for(BoardOnline, board=quiet_board)
    assert rig.cabinet.status(quiet_board)[0].door == "closed"
    assert not any(isinstance(e, BoardOffline) and e.board == other for e in rig.seen)


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unplugged_serial_adapter(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback).start()
    rig.simulator.unplug()
    for board in rig.boards:
        rig.wait_for(BoardOffline, board=board)

    # The device node is gone: the port cannot even be opened, so nothing reached the wire.
    down = rig.cabinet.open_slot(rig.board, 1, "while-unplugged")
    assert down.outcome is UnlockOutcome.NOT_SENT
    assert "cannot open" in down.detail

    rig.simulator.replug()
    for board in rig.boards:
        rig.wait_for(BoardOnline, board=board)
    retry = rig.cabinet.open_slot(rig.board, 1, "while-unplugged")
    assert retry.accepted and not retry.duplicate
    rig.wait_for(DoorOpened, slot=1, request_id="while-unplugged")
    assert rig.unlock_frames(1) == 1


@pytest.mark.parametrize("protocol", PROTOCOLS)
def test_unplugged_network_bridge(make_rig, protocol: str, feedback: Feedback) -> None:
    rig = make_rig(protocol, feedback=feedback, listen="127.0.0.1:0").start()
    rig.simulator.unplug()
    for board in rig.boards:
        rig.wait_for(BoardOffline, board=board)

    # The bridge still accepts a connection but drops it: the frame may have left, so it is never sent again.
    down = rig.cabinet.open_slot(rig.board, 1, "bridge-down")
    assert down.outcome is UnlockOutcome.UNCONFIRMED

    rig.simulator.replug()
    for board in rig.boards:
        rig.wait_for(BoardOnline, board=board)
    assert rig.cabinet.open_slot(rig.board, 1, "bridge-down").duplicate
    assert rig.unlock_frames(1) == 0
    assert rig.cabinet.open_slot(rig.board, 1, "bridge-up").accepted
    rig.wait_for(DoorOpened, slot=1, request_id="bridge-up")
    assert rig.unlock_frames(1) == 1
