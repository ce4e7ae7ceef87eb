"""Door state from polling alone (an unlock reply means "accepted", never "opened"), and the door events."""

from __future__ import annotations

from dataclasses import dataclass

from devices.cabinet.events import (
    BoardOffline,
    BoardOnline,
    CabinetEvent,
    DoorClosed,
    DoorHeldOpen,
    DoorNotOpened,
    DoorOpened,
    DoorOpenedWithoutCommand,
)


@dataclass
class _PendingUnlock:
    request_id: str
    sent_at: float
    deadline: float


@dataclass
class _Door:
    is_open: bool | None = None
    opened_at: float | None = None
    held_reported: bool = False
    pending: _PendingUnlock | None = None


class DoorWatch:
    """Per-slot door state of a cabinet, fed by polls and by unlocks sent. Times are monotonic seconds."""

    def __init__(self, open_timeout: float, held_open_after: float) -> None:
        self.open_timeout = open_timeout
        self.held_open_after = held_open_after
        self._doors: dict[tuple[int, int], _Door] = {}
        self._online: dict[int, bool] = {}

    def _door(self, board: int, slot: int) -> _Door:
        return self._doors.setdefault((board, slot), _Door())

    def door(self, board: int, slot: int) -> str:
        """ "open", "closed" or "unknown" (never polled, or its board is not answering)."""
        state = self._doors.get((board, slot))
        if state is None or state.is_open is None or not self._online.get(board, False):
            return "unknown"
        return "open" if state.is_open else "closed"

    def online(self, board: int) -> bool | None:
        return self._online.get(board)

    def unlock_sent(self, board: int, slot: int, request_id: str, now: float, extra: float = 0.0) -> None:
        """Expect the door to open within the timeout (plus `extra`, for boards that open locks one by one)."""
        door = self._door(board, slot)
        if door.is_open:
            return  # already open: nothing for a poll to see
        door.pending = _PendingUnlock(request_id, now, now + self.open_timeout + extra)

    def board_failed(self, board: int, reason: str) -> list[CabinetEvent]:
        if self._online.get(board) is False:
            return []
        self._online[board] = False
        return [BoardOffline(board=board, reason=reason)]

    def observe(self, board: int, doors_open: tuple[bool, ...], now: float) -> list[CabinetEvent]:
        events: list[CabinetEvent] = []
        if self._online.get(board) is not True:
            if self._online.get(board) is False:
                events.append(BoardOnline(board=board))
            self._online[board] = True
        for index, is_open in enumerate(doors_open):
            slot = index + 1
            door = self._door(board, slot)
            before, door.is_open = door.is_open, is_open
            if before is None or before == is_open:
                if before is None and is_open:
                    door.opened_at = now
                continue
            if is_open:
                door.opened_at, door.held_reported = now, False
                pending, door.pending = door.pending, None
                request_id = None if pending is None else pending.request_id
                events.append(DoorOpened(board=board, slot=slot, request_id=request_id))
                if pending is None:
                    events.append(DoorOpenedWithoutCommand(board=board, slot=slot))
            else:
                door.opened_at = None
                events.append(DoorClosed(board=board, slot=slot))
        return events + self.tick(now)

    def tick(self, now: float) -> list[CabinetEvent]:
        """Time-driven events: doors that did not open after an unlock, doors held open too long."""
        events: list[CabinetEvent] = []
        for (board, slot), door in self._doors.items():
            pending = door.pending
            # While the board is silent the door's state is unknown: decide once it answers again.
            decidable = self._online.get(board) is True
            if pending is not None and decidable and now >= pending.deadline and not door.is_open:
                door.pending = None
                waited = round(now - pending.sent_at, 3)
                events.append(DoorNotOpened(board=board, slot=slot, request_id=pending.request_id, waited_s=waited))
            if (
                door.is_open
                and door.opened_at is not None
                and not door.held_reported
                and now - door.opened_at >= self.held_open_after
            ):
                door.held_reported = True
                events.append(DoorHeldOpen(board=board, slot=slot, open_s=round(now - door.opened_at, 3)))
        return events
