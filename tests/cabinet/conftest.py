"""Rigs for the agent's staff and unlock tests: the stand-in server served by uvicorn on a real port (stopped and
started again on the same port for "the server is away"), a simulated cabinet on a pseudo-terminal with a contact
reader in every slot, a panel on a pseudo-terminal, and the agent built on them in-process."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from cabinet.config import CabinetConfig
from cabinet.service import CabinetAgent
from devices.backoff import Backoff
from devices.cabinet.events import CabinetEvent
from devices.cabinet.lines import LineSimulator
from devices.cabinet.profiles import BoardProfile
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from devices.cabinet.tags import SimulatedKeyReader, ibutton_rom, tag_hex
from server.contract.cabinet import CabinetStaffEntry
from server.contract.client import EstateClient
from tests.cabinet.contract_server import TOKEN, EstateDouble, KeyHome, StaffMember, hashed
from tests.conftest import free_port, serve_in_thread, wait_until

SLOTS = 12
ENGINEER = StaffMember(7, "engineer", "周工程", "engineering", pin="135790", card="E0001")
CLERK = StaffMember(8, "records", "刘管理员", "records_admin", pin="246802", card="R0002")
PUMP_ROOM = KeyHome("水泵房（在用）", tag_hex(ibutton_rom(0x5005)), 1, 5)


def key_rom(slot: int) -> bytes:
    return ibutton_rom(0x5000 + slot)


@dataclass
class LiveDouble:
    """The stand-in server on a port of its own."""

    estate: EstateDouble
    port: int = field(default_factory=free_port)
    _stop: Callable[[], None] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> LiveDouble:
        if self._stop is None:
            self._stop = serve_in_thread(self.estate.app(), self.port)
        return self

    def stop(self) -> None:
        stop, self._stop = self._stop, None
        if stop is not None:
            stop()


@pytest.fixture(scope="module")
def roster_entries() -> list[CabinetStaffEntry]:
    return hashed([ENGINEER, CLERK])


@pytest.fixture
def server(roster_entries: list[CabinetStaffEntry]) -> Iterator[LiveDouble]:
    live = LiveDouble(EstateDouble(roster_entries, keys=[PUMP_ROOM])).start()
    yield live
    live.stop()


@dataclass
class Cupboard:
    """The simulated boards (one XOR board, a tagged key in every slot) and their pseudo-terminal."""

    sim: SimCabinet
    simulator: CabinetSimulator

    @property
    def url(self) -> str:
        return self.simulator.url

    def frames(self, slot: int) -> int:
        return len(self.sim.unlock_frames(1, slot))


@pytest.fixture
def cupboard() -> Iterator[Cupboard]:
    sim = SimCabinet(BoardProfile.default("xor485", channels=SLOTS), [1], SLOTS, close_after=0.3)
    for slot in range(1, SLOTS + 1):
        sim.put_key(1, slot, key_rom(slot))
    with CabinetSimulator(sim) as simulator:
        yield Cupboard(sim, simulator)


@pytest.fixture
def panel() -> Iterator[LineSimulator]:
    with LineSimulator("estate-panel-", "ttyPANEL") as line:
        yield line


@dataclass
class Running:
    agent: CabinetAgent
    client: EstateClient
    events: list[CabinetEvent]
    stopped: bool = False

    def names(self) -> list[str]:
        return [e.name for e in list(self.events)]

    def stop(self) -> None:
        if not self.stopped:
            self.stopped = True
            self.agent.stop()
            self.client.close()


AgentFactory = Callable[..., Running]


@pytest.fixture
def make_agent(tmp_path: Path, cupboard: Cupboard) -> Iterator[AgentFactory]:
    running: list[Running] = []

    def make(server_url: str, panel: LineSimulator | None = None, **settings: Any) -> Running:
        token = settings.pop("device_token", TOKEN)  # the stand-in's, unless a real server enrolled the cabinet
        options: dict[str, Any] = {
            "cabinet": cupboard.url,
            "protocol": "xor485",
            "server": server_url,
            "device_token": token,
            "boards": ({"address": 1, "channels": SLOTS},),
            "data_dir": tmp_path / "agent",
            "panel": panel.url if panel is not None else "",
            "poll_interval": 0.05,
            "sync_interval": 60.0,
        }
        config = CabinetConfig.load(None, **(options | settings)).check()
        client = EstateClient(server_url, token, timeout=2.0)
        seen: list[CabinetEvent] = []
        slots = [(1, s) for s in range(1, SLOTS + 1)]
        agent = CabinetAgent(
            config,
            client,
            listeners=(seen.append,),
            cabinet_options={
                "key_reader": SimulatedKeyReader(cupboard.sim, slots),
                "open_timeout": 2.0,
                "reply_timeout": 0.08,
                "status_retries": 1,
            },
            upload_backoff=Backoff(initial=0.05, maximum=0.2),
        ).start()
        run = Running(agent, client, seen)
        running.append(run)
        # Polling, and the first sync of the roster and unlocks tried, before the test goes on.
        wait_until(lambda: agent.driver.watch.online(1) is not None, what="the first poll")
        wait_until(lambda: agent.control.link.online is not None, what="the first sync")
        if agent.panel is not None:
            assert agent.panel.ready.wait(10), "the panel's line never opened"
        return run

    yield make
    for run in running:
        run.stop()
