"""The simulated cabinet's physical side: boards, doors that open on a pulse and close again, keys, and faults.

The model is protocol-agnostic; `simulator.py` puts it on a line and speaks a protocol for it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from devices.cabinet.codec import Request, RequestKind
from devices.cabinet.profiles import BoardProfile

# A key as a reader sees it: an iButton ROM (8 bytes) or an RFID tag number.
RawKey = bytes | int
FAULT_KINDS = ("silence", "garbage", "split", "bad_checksum", "delay")
BURST_GAP = 0.010  # USB-RS485 adapters deliver a reply in bursts about this far apart


@dataclass
class SimSlot:
    door_open: bool = False
    key: RawKey | None = None
    jammed: bool = False  # the door does not open on a pulse
    opens_at: float | None = None
    closes_at: float | None = None


@dataclass
class Fault:
    """One switched-on fault. `requests`/`boards` None: all; `times` None: until cleared."""

    kind: str
    requests: frozenset[str] | None = None
    boards: frozenset[int] | None = None
    times: int | None = None
    garbage: bytes = b"\xff\x00\x55"
    bursts: int = 3
    delay: float = 0.3

    def applies(self, request: Request) -> bool:
        return (self.requests is None or request.kind in self.requests) and (
            self.boards is None or request.board in self.boards
        )


@dataclass(frozen=True)
class Received:
    at: float
    request: Request


@dataclass
class SimBoard:
    address: int
    profile: BoardProfile
    slots: list[SimSlot] = field(default_factory=list)


class SimCabinet:
    """Boards on one bus, their doors and keys. Thread-safe; time from `clock` (monotonic by default)."""

    def __init__(
        self,
        profile: BoardProfile,
        addresses: Sequence[int],
        slots: int,
        *,
        open_delay: float = 0.02,
        close_after: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        for address in addresses:
            profile.check_address(address)
        profile.check_slot(slots)
        self.profile = profile
        self.open_delay = open_delay
        self.close_after = close_after
        self.clock = clock
        self.boards = {a: SimBoard(a, profile, [SimSlot() for _ in range(slots)]) for a in addresses}
        self.faults: list[Fault] = []
        self.received: list[Received] = []
        self._cond = threading.Condition()

    @classmethod
    def stocked(
        cls, profile: BoardProfile, boards: int, slots: int | None = None, *, close_after: float | None = 3.0
    ) -> SimCabinet:
        """`boards` boards from the lowest address, every slot holding a tagged key (as a cabinet in use)."""
        from devices.cabinet.tags import ibutton_rom

        channels = slots or profile.channels or profile.protocol.default_channels
        addresses = list(profile.protocol.addresses)[:boards]
        if len(addresses) < boards:
            raise ValueError(
                f"{profile.protocol.name} allows at most {len(profile.protocol.addresses)} boards on one bus"
            )
        cabinet = cls(profile, addresses, channels, close_after=close_after)
        for board in addresses:
            for slot in range(1, channels + 1):
                cabinet.put_key(board, slot, ibutton_rom(board * 1000 + slot))
        return cabinet

    # The physical world ---------------------------------------------------------------------------------------
    def _slot(self, board: int, slot: int) -> SimSlot:
        try:
            return self.boards[board].slots[slot - 1]
        except (KeyError, IndexError):
            raise ValueError(f"no slot {slot} on board {board} in this simulator") from None

    def _settle(self, s: SimSlot, now: float) -> None:
        if s.opens_at is not None and now >= s.opens_at:
            s.door_open, s.opens_at = True, None
        if s.closes_at is not None and now >= s.closes_at and s.opens_at is None:
            s.door_open, s.closes_at = False, None

    def pulse(self, board: int, slot: int, after: float = 0.0) -> None:
        """The lock releases; a door that is not jammed springs open and, if configured, closes again."""
        with self._cond:
            s = self._slot(board, slot)
            now = self.clock()
            self._settle(s, now)
            if s.jammed or s.door_open:
                return
            s.opens_at = now + after + self.open_delay
            if self.close_after is not None:
                s.closes_at = s.opens_at + self.close_after

    def open_door(self, board: int, slot: int) -> None:
        """Someone opens the door without a command (forced, or a lock that failed)."""
        with self._cond:
            s = self._slot(board, slot)
            s.door_open, s.opens_at, s.closes_at = True, None, None

    def close_door(self, board: int, slot: int) -> None:
        with self._cond:
            s = self._slot(board, slot)
            s.door_open, s.opens_at, s.closes_at = False, None, None

    def jam(self, board: int, slot: int, jammed: bool = True) -> None:
        with self._cond:
            self._slot(board, slot).jammed = jammed

    def put_key(self, board: int, slot: int, key: RawKey) -> None:
        with self._cond:
            self._slot(board, slot).key = key

    def take_key(self, board: int, slot: int) -> RawKey | None:
        with self._cond:
            s = self._slot(board, slot)
            key, s.key = s.key, None
            return key

    def key_at(self, board: int, slot: int) -> RawKey | None:
        with self._cond:
            return self._slot(board, slot).key

    def doors_open(self, board: int) -> list[bool]:
        with self._cond:
            now = self.clock()
            slots = self.boards[board].slots
            for s in slots:
                self._settle(s, now)
            return [s.door_open for s in slots]

    def presence(self, board: int) -> list[bool]:
        with self._cond:
            return [s.key is not None for s in self.boards[board].slots]

    # Faults ---------------------------------------------------------------------------------------------------
    def inject(
        self,
        kind: str,
        *,
        requests: Sequence[str] | None = None,
        boards: Sequence[int] | None = None,
        times: int | None = None,
        **settings: object,
    ) -> Fault:
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault {kind!r}; known: {', '.join(FAULT_KINDS)}")
        fault = Fault(
            kind,
            frozenset(requests) if requests is not None else None,
            frozenset(boards) if boards is not None else None,
            times,
            **settings,  # type: ignore[arg-type]
        )
        with self._cond:
            self.faults.append(fault)
        return fault

    def clear_faults(self) -> None:
        with self._cond:
            self.faults.clear()

    def take_faults(self, request: Request) -> dict[str, Fault]:
        """The faults that hit the reply to `request`, counting down the limited ones."""
        hit: dict[str, Fault] = {}
        with self._cond:
            for fault in list(self.faults):
                if fault.kind in hit or not fault.applies(request):
                    continue
                hit[fault.kind] = fault
                if fault.times is not None:
                    fault.times -= 1
                    if fault.times <= 0:
                        self.faults.remove(fault)
        return hit

    # What reached the boards ----------------------------------------------------------------------------------
    def record(self, request: Request) -> None:
        with self._cond:
            self.received.append(Received(self.clock(), request))
            self._cond.notify_all()

    def unlock_frames(self, board: int, slot: int | None = None) -> list[Received]:
        """Every frame that could have opened `slot` on `board` (unlock, open-all, batch)."""
        kinds = {RequestKind.UNLOCK, RequestKind.OPEN_ALL, RequestKind.BATCH}
        with self._cond:
            return [
                r
                for r in self.received
                if r.request.board == board
                and r.request.kind in kinds
                and (slot is None or r.request.slot in (slot, None))
            ]

    def wait_received(self, predicate: Callable[[Request], bool], timeout: float, *, since: int = 0) -> Received | None:
        """The first request matching `predicate` among those received (from the `since`-th on), waiting for it."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for r in self.received[since:]:
                    if predicate(r.request):
                        return r
                left = deadline - time.monotonic()
                if left <= 0:
                    return None
                self._cond.wait(left)
