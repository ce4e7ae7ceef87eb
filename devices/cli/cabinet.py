"""`estate devices cabinet …`: simulate a lock-board bus, read slot status, open a slot."""

from __future__ import annotations

import signal
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from devices.cabinet.driver import Cabinet
from devices.cabinet.errors import CabinetError
from devices.cabinet.ledger import MemoryLedger, SqliteLedger
from devices.cabinet.profiles import PROTOCOLS, BoardProfile, Feedback, StatusOrder, protocol_by_name
from devices.cabinet.sim_model import FAULT_KINDS, SimCabinet
from devices.cabinet.simulator import CabinetSimulator
from devices.cli._output import PlainHelpCommand, PlainHelpGroup, emit, fail, say

app = typer.Typer(no_args_is_help=True, cls=PlainHelpGroup, help="cabinet diagnostics")
SCAN_TIMEOUT = 0.06

ProtocolOpt = Annotated[str, typer.Option("--protocol", help="xor485 | kerong-cu16")]
ADDRESSES = ", ".join(f"{p.name} {p.addresses.start}-{p.addresses.stop - 1}" for p in PROTOCOLS.values())
CabinetOpt = Annotated[
    str, typer.Option("--cabinet", help="serial:///dev/ttyUSB1?baudrate=9600, /dev/ttyUSB1, socket://HOST:PORT")
]
FeedbackOpt = Annotated[
    Feedback | None, typer.Option("--feedback", help="how the lock feedback contact is wired (default per protocol)")
]
OrderOpt = Annotated[StatusOrder | None, typer.Option("--order", help="status-byte order (default per protocol)")]


def _profile(
    protocol: str, slots: int | None, feedback: Feedback | None, order: StatusOrder | None, *, learn: bool = False
) -> BoardProfile:
    spec = protocol_by_name(protocol)
    changes: dict[str, object] = {}
    if slots is not None or learn:
        changes["channels"] = slots
    if feedback is not None:
        changes["feedback"] = feedback
    if order is not None:
        changes["order"] = order
    return BoardProfile.default(spec, **changes)


@contextmanager
def _errors_reported() -> Iterator[None]:
    try:
        yield
    except (CabinetError, ValueError) as exc:
        fail(str(exc))


@app.command(cls=PlainHelpCommand)
def simulate(
    protocol: ProtocolOpt,
    boards: Annotated[int, typer.Option("--boards", min=1, help="boards on the bus, from the lowest address")] = 1,
    slots: Annotated[int | None, typer.Option("--slots", help="slots per board (default per protocol)")] = None,
    listen: Annotated[str | None, typer.Option("--listen", help="HOST:PORT for a TCP bridge; default a pty")] = None,
    feedback: FeedbackOpt = None,
    order: OrderOpt = None,
    close_after: Annotated[float, typer.Option("--close-after", help="seconds until an opened door closes")] = 3.0,
    keys: Annotated[bool, typer.Option("--keys/--no-keys", help="a tagged key in every slot")] = True,
    fault: Annotated[
        list[str] | None,
        typer.Option("--fault", help=f"switch a fault on for every reply ({', '.join(FAULT_KINDS)}); repeatable"),
    ] = None,
) -> None:
    """Serve simulated lock boards; prints {"url": ...} first, then serves until interrupted."""
    with _errors_reported():
        profile = _profile(protocol, slots, feedback, order)
        cabinet = SimCabinet.stocked(profile, boards, slots, close_after=close_after or None)
        addresses, channels = sorted(cabinet.boards), len(next(iter(cabinet.boards.values())).slots)
        if not keys:
            for board in addresses:
                for slot in range(1, channels + 1):
                    cabinet.take_key(board, slot)
        for kind in fault or []:
            cabinet.inject(kind)
        simulator = CabinetSimulator(cabinet, listen=listen)
        try:
            url = simulator.start()
        except OSError as exc:
            raise ValueError(f"cannot listen on {listen}: {exc}") from exc
    stop = threading.Event()

    def interrupted(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGINT, interrupted)
    signal.signal(signal.SIGTERM, interrupted)
    emit({"url": url})
    say(f"{profile.protocol.title}: boards {addresses}, {channels} slots each, on {url}; Ctrl-C stops")
    try:
        while not stop.wait(0.5):
            pass
    finally:
        simulator.stop()
        say("simulator stopped")


@app.command(cls=PlainHelpCommand)
def status(
    cabinet: CabinetOpt,
    protocol: ProtocolOpt,
    board: Annotated[
        int | None, typer.Option("--board", help=f"DIP address ({ADDRESSES}); default: every address")
    ] = None,
    slots: Annotated[int | None, typer.Option("--slots", help="channels per board (default: as reported)")] = None,
    feedback: FeedbackOpt = None,
    order: OrderOpt = None,
    timeout: Annotated[float, typer.Option("--timeout", help="reply timeout, seconds")] = 0.15,
) -> None:
    """Print {"board","slot","door","key"} for every slot of the answering boards."""
    with _errors_reported():
        profile = _profile(protocol, slots, feedback, order, learn=profile_learns(protocol, slots))
        addresses = list(profile.protocol.addresses) if board is None else [board]
        if board is None:
            # A scan asks every address once; a silent one costs its timeout twice (wait, then drain).
            timeout = min(timeout, SCAN_TIMEOUT)
            say(f"scanning addresses {addresses[0]}-{addresses[-1]}…")
        driver = Cabinet(
            cabinet,
            profile.protocol,
            addresses,
            profile=profile,
            reply_timeout=timeout,
            status_retries=2 if board is not None else 0,
        )
        try:
            driver.bus.open()  # a line that cannot open is said as such, not as boards that did not answer
            driver.poll_once()
            answering = [b for b in addresses if driver.watch.online(b)]
            if not answering:
                fail(f"no board answered at {'address ' + str(board) if board is not None else 'any address'}")
            for b in answering:
                for slot in driver.status(b):
                    # Nothing here tells a key's presence on boards without sensors: say so, not null.
                    emit({**slot.to_dict(), "key": slot.key or "unknown"})
            say(f"{len(answering)} board(s) answered: {answering}")
            if not profile.protocol.reports_presence:
                say(
                    f"{profile.protocol.name} boards report doors only: keys show as unknown here; the cabinet "
                    "agent sees them through its key reader (锁控板不检测钥匙)"
                )
        finally:
            driver.close()


def profile_learns(protocol: str, slots: int | None) -> bool:
    """Without --slots, an XOR board's channel count is learned from its reply."""
    return slots is None and protocol_by_name(protocol).name == "xor485"


@app.command("open", cls=PlainHelpCommand)
def open_slot(
    cabinet: CabinetOpt,
    protocol: ProtocolOpt,
    board: Annotated[int, typer.Option("--board", help=f"DIP address of the board ({ADDRESSES})")],
    slot: Annotated[int, typer.Option("--slot", help="slot number on the board, from 1")],
    request_id: Annotated[
        str | None, typer.Option("--request-id", help="idempotency key (default: a fresh one)")
    ] = None,
    ledger: Annotated[
        Path | None,
        typer.Option(
            "--ledger",
            dir_okay=False,
            help="the unlock ledger file (the cabinet agent's is <data dir>/unlocks.db): a request id it has seen "
            "sends nothing",
        ),
    ] = None,
    timeout: Annotated[float, typer.Option("--timeout", help="reply timeout, seconds")] = 0.15,
) -> None:
    """Send one unlock and print {"board","slot","accepted"}; accepted means the board took the command. A request
    id handled before (in this ledger) sends no frame: its earlier result is printed with "duplicate": true."""
    with _errors_reported():
        spec = protocol_by_name(protocol)
        profile = BoardProfile.default(spec, channels=None) if spec.name == "xor485" else BoardProfile.default(spec)
        try:
            unlocks = SqliteLedger(ledger) if ledger is not None else MemoryLedger()
        except sqlite3.Error as exc:
            raise ValueError(f"cannot use the ledger {ledger}: {exc}") from exc
        driver = Cabinet(cabinet, spec, [board], profile=profile, reply_timeout=timeout, ledger=unlocks)
        try:
            result = driver.open_slot(board, slot, request_id or uuid.uuid4().hex)
        finally:
            driver.close()
            unlocks.close()
    answer: dict[str, object] = {"board": board, "slot": slot, "accepted": result.accepted}
    if result.duplicate:
        answer |= {"duplicate": True, "outcome": result.outcome.value, "request_id": result.request_id}
    emit(answer)
    if result.duplicate:
        say(
            f"request id {result.request_id} was handled before ({result.outcome.value}"
            f"{': ' + result.detail if result.detail else ''}); no frame sent this time (请求编号已处理，未再开锁)"
        )
        if not result.accepted:
            raise typer.Exit(1)
        return
    if not result.accepted:
        fail(f"unlock {result.outcome.value}: {result.detail}")
    say(f"board {board} accepted the unlock of slot {slot}; whether the door opened shows in status")
