"""Shared rigs: a simulated cabinet on a real pseudo-terminal (or TCP port) and the driver opened on it."""

from __future__ import annotations

import queue
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import pytest

from devices.cabinet.driver import Cabinet
from devices.cabinet.events import CabinetEvent
from devices.cabinet.profiles import BoardProfile, Feedback
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from devices.cabinet.tags import SimulatedKeyReader, ibutton_rom, tag_id

ADDRESSES = {"xor485": [1, 2], "kerong-cu16": [0, 1]}
SLOTS = {"xor485": 12, "kerong-cu16": 16}
WAIT = 5.0  # generous upper bound for an expected event; tests end as soon as it comes


def key_serial(board: int, slot: int) -> int:
    return 0x10000 + board * 100 + slot


@dataclass
class Rig:
    sim: SimCabinet
    simulator: CabinetSimulator
    cabinet: Cabinet
    events: queue.Queue[CabinetEvent]
    boards: list[int]
    seen: list[CabinetEvent] = field(default_factory=list)
    unclaimed: list[CabinetEvent] = field(default_factory=list)

    @property
    def board(self) -> int:
        return self.boards[0]

    def wait_for(self, kind: type[CabinetEvent], timeout: float = WAIT, **match: object) -> CabinetEvent:
        """The first event of `kind` whose fields equal `match`, in any order relative to other events.

        Every event is kept in `seen`; one that no wait has claimed yet stays available to later waits.
        """

        def matches(event: CabinetEvent) -> bool:
            return isinstance(event, kind) and all(getattr(event, k) == v for k, v in match.items())

        for event in self.unclaimed:
            if matches(event):
                self.unclaimed.remove(event)
                return event
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                names = [e.name for e in self.seen]
                raise AssertionError(f"no {kind.__name__} {match} within {timeout}s; saw {names}")
            try:
                event = self.events.get(timeout=left)
            except queue.Empty:
                continue
            self.seen.append(event)
            if matches(event):
                return event
            self.unclaimed.append(event)

    def start(self) -> Rig:
        """Start polling and wait until every board has answered once."""
        self.cabinet.start()
        deadline = time.monotonic() + WAIT
        while any(self.cabinet.watch.online(b) is not True for b in self.boards):
            assert time.monotonic() < deadline, "boards never answered"
            time.sleep(0.01)  # polling a condition against a deadline
        return self

    def unlock_frames(self, slot: int | None = None, board: int | None = None) -> int:
        return len(self.sim.unlock_frames(self.board if board is None else board, slot))


RigFactory = Callable[..., Rig]


@pytest.fixture(params=list(Feedback), ids=lambda f: f.value)
def feedback(request: pytest.FixtureRequest) -> Feedback:
    """Both ways a lock's feedback contact can be wired."""
    return request.param


@pytest.fixture
def make_rig() -> Iterator[RigFactory]:
    made: list[Rig] = []

    def make(
        protocol: str,
        *,
        feedback: Feedback | None = None,
        listen: str | None = None,
        keys: bool = True,
        reader: bool = True,
        close_after: float | None = None,
        **cabinet_options: object,
    ) -> Rig:
        overrides: dict[str, object] = {"channels": SLOTS[protocol]}
        if feedback is not None:
            overrides["feedback"] = feedback
        profile = BoardProfile.default(protocol, **overrides)
        boards = ADDRESSES[protocol]
        sim = SimCabinet(profile, boards, SLOTS[protocol], close_after=close_after)
        homes: dict[str, tuple[int, int]] = {}
        if keys:
            for board in boards:
                for slot in range(1, SLOTS[protocol] + 1):
                    rom = ibutton_rom(key_serial(board, slot))
                    sim.put_key(board, slot, rom)
                    homes[tag_id(rom)] = (board, slot)
        simulator = CabinetSimulator(sim, listen=listen)
        url = simulator.start()
        slots = [(b, s) for b in boards for s in range(1, SLOTS[protocol] + 1)]
        options: dict[str, object] = {
            "poll_interval": 0.02,
            "open_timeout": 0.6,
            "held_open_after": 0.6,
            "reply_timeout": 0.08,
            "status_retries": 1,
        }
        options.update(cabinet_options)
        cabinet = Cabinet(
            url,
            protocol,
            boards,
            profile=profile,
            key_reader=SimulatedKeyReader(sim, slots) if reader else None,
            key_homes=homes.get,
            **options,  # type: ignore[arg-type]
        )
        rig = Rig(sim, simulator, cabinet, cabinet.event_queue(), boards)
        made.append(rig)
        return rig

    yield make
    for rig in made:
        rig.cabinet.close()
        rig.simulator.stop()
