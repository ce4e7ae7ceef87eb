"""Door state from polls alone, with a hand-driven clock."""

from __future__ import annotations

from devices.cabinet.doors import DoorWatch
from devices.cabinet.events import (
    BoardOffline,
    BoardOnline,
    DoorClosed,
    DoorHeldOpen,
    DoorNotOpened,
    DoorOpened,
    DoorOpenedWithoutCommand,
)

CLOSED = (False, False)


def test_unlock_then_poll_sees_open_and_close() -> None:
    watch = DoorWatch(open_timeout=5, held_open_after=30)
    assert watch.observe(1, CLOSED, 0.0) == []
    watch.unlock_sent(1, 2, "r1", 1.0)
    assert watch.door(1, 2) == "closed"  # an accepted unlock does not make a door open
    assert watch.observe(1, (False, True), 1.2) == [DoorOpened(board=1, slot=2, request_id="r1")]
    assert watch.observe(1, CLOSED, 3.0) == [DoorClosed(board=1, slot=2)]
    # The next opening has no command behind it.
    assert watch.observe(1, (False, True), 4.0) == [
        DoorOpened(board=1, slot=2, request_id=None),
        DoorOpenedWithoutCommand(board=1, slot=2),
    ]


def test_not_opened_and_held_open() -> None:
    watch = DoorWatch(open_timeout=5, held_open_after=30)
    watch.observe(1, CLOSED, 0.0)
    watch.unlock_sent(1, 1, "r1", 1.0)
    assert watch.tick(5.9) == []
    assert watch.tick(6.0) == [DoorNotOpened(board=1, slot=1, request_id="r1", waited_s=5.0)]
    assert watch.tick(7.0) == []
    watch.observe(1, (True, False), 10.0)
    assert watch.tick(39.0) == []
    assert watch.tick(40.0) == [DoorHeldOpen(board=1, slot=1, open_s=30.0)]
    assert watch.tick(80.0) == []  # reported once per opening


def test_no_verdict_while_the_board_is_silent() -> None:
    watch = DoorWatch(open_timeout=5, held_open_after=30)
    watch.observe(1, CLOSED, 0.0)
    watch.unlock_sent(1, 1, "r1", 1.0)
    assert watch.board_failed(1, "no reply") == [BoardOffline(board=1, reason="no reply")]
    assert watch.board_failed(1, "no reply") == []
    assert watch.door(1, 1) == "unknown"
    assert watch.tick(20.0) == []
    assert watch.observe(1, (True, False), 21.0) == [
        BoardOnline(board=1),
        DoorOpened(board=1, slot=1, request_id="r1"),
    ]


def test_first_failure_reports_offline() -> None:
    watch = DoorWatch(open_timeout=5, held_open_after=30)
    assert watch.board_failed(3, "no reply") == [BoardOffline(board=3, reason="no reply")]
    assert watch.observe(3, CLOSED, 1.0) == [BoardOnline(board=3)]
