"""Key-cabinet benchmark: unlock latency to the wire (also with a dead board in the poll list), poll-cycle time
against wire time, door-open detection.

Runs the real driver over a pseudo-terminal against the board simulator (which paces its replies at the wire
time their bytes need) and prints one JSON line of figures. Targets (issue: key cabinet): unlock request -> frame
on the wire <= 20 ms, also while a dead board is polled; a poll cycle <= 1.3 x its wire time; a door opening seen
<= 300 ms after it happens.
"""

from __future__ import annotations

import json
import queue
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from devices.cabinet.codec import RequestKind, codec_for
from devices.cabinet.driver import Cabinet
from devices.cabinet.events import DoorOpened
from devices.cabinet.ledger import SqliteLedger
from devices.cabinet.profiles import BoardProfile
from devices.cabinet.sim_model import SimCabinet
from devices.cabinet.simulator import CabinetSimulator, wire_time

BOARDS = 8
UNLOCKS = 20
POLL_CYCLES = 20
DOOR_OPENINGS = 20


def _ms(seconds: float) -> float:
    return round(seconds * 1000, 2)


def _summary(samples: list[float]) -> dict[str, float]:
    ordered = sorted(samples)
    return {
        "median_ms": _ms(statistics.median(ordered)),
        "p95_ms": _ms(ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]),
        "max_ms": _ms(ordered[-1]),
    }


def unlock_beside_a_dead_board(protocol: str) -> dict[str, float]:
    """Unlocks sent while the poller waits on a board that never answers (an address nobody has on the bus): the
    unlock is requested just as that board's status query reaches the line, the worst moment."""
    profile = BoardProfile.default(protocol)
    channels = profile.channels or profile.protocol.default_channels
    live, dead = list(profile.protocol.addresses)[:2], list(profile.protocol.addresses)[-1]
    sim = SimCabinet(profile, live, channels)
    codec = codec_for(profile)
    samples = []
    with CabinetSimulator(sim) as simulator:
        cabinet = Cabinet(simulator.url, protocol, [*live, dead], profile=profile)
        cabinet.poll_once()  # the dead board is known offline from here on
        cabinet.start()
        for n in range(UNLOCKS):
            board, slot = live[n % len(live)], n // len(live) + 1
            polled = sim.wait_received(
                lambda r: r.kind is RequestKind.QUERY and r.board == dead, 5, since=len(sim.received)
            )
            assert polled is not None, "the dead board was never polled"
            time.sleep(n % 5 * 0.002)  # at different points of the wait for its reply
            since = len(sim.received)
            start = time.monotonic()
            cabinet.open_slot(board, slot, f"bench-dead-{n}")
            got = sim.wait_received(
                lambda r, b=board, s=slot: r.kind is RequestKind.UNLOCK and (r.board, r.slot) == (b, s), 5, since=since
            )
            assert got is not None, "unlock frame never reached the board"
            samples.append(got.at + wire_time(len(codec.unlock(board, slot).frame), profile.baudrate) - start)
            sim.close_door(board, slot)
        cabinet.close()
    return _summary(samples)


def unlock_with_the_agents_ledger(protocol: str) -> dict[str, float]:
    """Unlocks as the cabinet agent sends them: each request id committed to its SQLite ledger (synchronous=FULL,
    on disk) before the frame goes out, with the poller running."""
    profile = BoardProfile.default(protocol)
    channels = profile.channels or profile.protocol.default_channels
    addresses = list(profile.protocol.addresses)[:2]
    sim = SimCabinet(profile, addresses, channels)
    codec = codec_for(profile)
    samples = []
    with tempfile.TemporaryDirectory() as folder, CabinetSimulator(sim) as simulator:
        ledger = SqliteLedger(Path(folder) / "unlocks.db")
        cabinet = Cabinet(simulator.url, protocol, addresses, profile=profile, ledger=ledger)
        cabinet.start()
        for n in range(UNLOCKS):
            board, slot = addresses[n % len(addresses)], n // len(addresses) + 1
            start = time.monotonic()
            cabinet.open_slot(board, slot, f"bench-ledger-{n}")
            got = sim.wait_received(
                lambda r, b=board, s=slot: r.kind is RequestKind.UNLOCK and (r.board, r.slot) == (b, s), 5
            )
            assert got is not None, "unlock frame never reached the board"
            samples.append(got.at + wire_time(len(codec.unlock(board, slot).frame), profile.baudrate) - start)
            sim.close_door(board, slot)
        cabinet.close()
        ledger.close()
    return _summary(samples)


def bench_protocol(protocol: str) -> dict[str, Any]:
    profile = BoardProfile.default(protocol)
    channels = profile.channels or profile.protocol.default_channels
    addresses = list(profile.protocol.addresses)[:BOARDS]
    sim = SimCabinet(profile, addresses, channels)
    codec = codec_for(profile)
    with CabinetSimulator(sim) as simulator:
        # Poll cycle against the wire time of its bytes (one status query and reply per board).
        cabinet = Cabinet(simulator.url, protocol, addresses, profile=profile)
        request_bytes = len(codec.query(addresses[0]).frame)
        reply_bytes = len(codec.status_reply(addresses[0], [False] * channels, [False] * channels))
        cycle_wire = len(addresses) * wire_time(request_bytes + reply_bytes, profile.baudrate)
        cabinet.poll_once()
        cycles = []
        for _ in range(POLL_CYCLES):
            start = time.monotonic()
            cabinet.poll_once()
            cycles.append(time.monotonic() - start)
        cycle = statistics.median(cycles)

        # With the poller running, as in service: unlock latency and door-opening detection.
        events: queue.Queue[Any] = cabinet.event_queue()
        cabinet.start()
        unlock = []
        for n in range(UNLOCKS):
            board, slot = addresses[n % len(addresses)], n // len(addresses) + 1
            frame = codec.unlock(board, slot).frame
            start = time.monotonic()
            cabinet.open_slot(board, slot, f"bench-{n}")
            got = sim.wait_received(
                lambda r, b=board, s=slot: r.kind is RequestKind.UNLOCK and (r.board, r.slot) == (b, s), 5
            )
            assert got is not None, "unlock frame never reached the board"
            # The pty delivers at once; a real line needs the frame's byte time before its last byte is out.
            unlock.append(got.at + wire_time(len(frame), profile.baudrate) - start)
            sim.close_door(board, slot)
        seen = []
        for n in range(DOOR_OPENINGS):
            board, slot = addresses[n % len(addresses)], channels - n // len(addresses)
            while not events.empty():
                events.get_nowait()
            start = time.monotonic()
            sim.open_door(board, slot)
            while True:
                event = events.get(timeout=5)
                if isinstance(event, DoorOpened) and (event.board, event.slot) == (board, slot):
                    seen.append(time.monotonic() - start)
                    break
            sim.close_door(board, slot)
        cabinet.close()
    return {
        "baud": profile.baudrate,
        "boards": len(addresses),
        "slots_per_board": channels,
        "unlock_to_wire": _summary(unlock),
        "unlock_to_wire_dead_board": unlock_beside_a_dead_board(protocol),
        "unlock_to_wire_agent_ledger": unlock_with_the_agents_ledger(protocol),
        "poll_cycle_ms": _ms(cycle),
        "poll_cycle_wire_ms": _ms(cycle_wire),
        "poll_cycle_ratio": round(cycle / cycle_wire, 3),
        "poll_interval_ms": _ms(cabinet.poll_interval),
        "door_open_seen": _summary(seen),
    }


def main() -> int:
    figures: dict[str, Any] = {"bench": "cabinet"}
    for protocol in ("xor485", "kerong-cu16"):
        figures[protocol] = bench_protocol(protocol)
    figures["targets"] = {"unlock_to_wire_ms": 20, "poll_cycle_ratio": 1.3, "door_open_seen_ms": 300}
    # The worst unlock is one that queues behind a poll transaction already on the wire (half-duplex RS485
    # cannot interrupt a board mid-reply), so both the typical (p95) and the worst case are judged.
    figures["meets_targets"] = {
        protocol: {
            "unlock_to_wire_p95": f["unlock_to_wire"]["p95_ms"] <= 20,
            "unlock_to_wire_max": f["unlock_to_wire"]["max_ms"] <= 20,
            "unlock_to_wire_dead_board_max": f["unlock_to_wire_dead_board"]["max_ms"] <= 20,
            "unlock_to_wire_agent_ledger_p95": f["unlock_to_wire_agent_ledger"]["p95_ms"] <= 20,
            "poll_cycle": f["poll_cycle_ratio"] <= 1.3,
            "door_open_seen_max": f["door_open_seen"]["max_ms"] <= 300,
        }
        for protocol, f in ((p, figures[p]) for p in ("xor485", "kerong-cu16"))
    }
    sys.stdout.write(json.dumps(figures) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
