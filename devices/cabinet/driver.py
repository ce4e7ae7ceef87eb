"""The key-cabinet driver: open a slot once per request id, poll door (and presence) state, read key tags,
and report events to whoever listens (the cabinet service enforcing R-KEY rules).
"""

from __future__ import annotations

import contextlib
import logging
import queue
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from devices.cabinet.bus import Bus
from devices.cabinet.codec import Ack, BoardStatus, Codec, Request, XorCodec, codec_for
from devices.cabinet.doors import DoorWatch
from devices.cabinet.errors import CabinetError, FrameError, LineDown, NoReply, Preempted
from devices.cabinet.events import CabinetEvent
from devices.cabinet.ledger import MemoryLedger, UnlockLedger, UnlockOutcome, UnlockResult
from devices.cabinet.profiles import BoardProfile, ProtocolSpec, protocol_by_name
from devices.cabinet.tags import KeyReader, KeyTracker, SlotRef

log = logging.getLogger(__name__)
Listener = Callable[[CabinetEvent], None]


@dataclass(frozen=True)
class SlotStatus:
    board: int
    slot: int
    door: str  # open | closed | unknown
    key: str | None  # a tag id, "present"/"absent" where only a sensor exists, None if nothing tells

    def to_dict(self) -> dict[str, Any]:
        return {"board": self.board, "slot": self.slot, "door": self.door, "key": self.key}


class Cabinet:
    """Boards of one protocol on one bus. Call `start()` to poll in the background, or `poll_once()` yourself."""

    def __init__(
        self,
        url: str,
        protocol: str | ProtocolSpec,
        boards: Sequence[int],
        *,
        profile: BoardProfile | None = None,
        profiles: Mapping[int, BoardProfile] | None = None,
        key_reader: KeyReader | None = None,
        key_homes: Callable[[str], SlotRef | None] | None = None,
        poll_interval: float = 0.1,
        open_timeout: float = 5.0,
        held_open_after: float = 60.0,
        status_retries: int = 2,
        reply_timeout: float = 0.15,
        quiet: float = 0.025,
        ledger: UnlockLedger | None = None,
    ) -> None:
        spec = protocol_by_name(protocol) if isinstance(protocol, str) else protocol
        base = profile or BoardProfile.default(spec)
        if base.protocol is not spec:
            raise ValueError(f"profile is for {base.protocol.name}, the cabinet speaks {spec.name}")
        if not boards:
            raise ValueError("a cabinet needs at least one board address")
        self.profiles = {b: (profiles or {}).get(b, base) for b in boards}
        for board, board_profile in self.profiles.items():
            board_profile.check_address(board)
            if board_profile.baudrate != base.baudrate:
                raise ValueError("every board on one bus runs at the same baud rate")
        self.spec = spec
        self.boards = list(boards)
        self._codecs: dict[int, Codec] = {b: codec_for(p) for b, p in self.profiles.items()}
        self.bus = Bus(url, baudrate=base.baudrate, reply_timeout=reply_timeout, quiet=quiet)
        self.ledger = ledger or MemoryLedger()
        self.watch = DoorWatch(open_timeout, held_open_after)
        self.keys = KeyTracker(key_homes)
        self.key_reader = key_reader
        self.poll_interval = poll_interval
        self.status_retries = status_retries
        self._state_lock = threading.Lock()
        self._slot_count: dict[int, int] = {}
        self._listeners: list[Listener] = []
        self._stop = threading.Event()
        self.last_cycle = time.monotonic()  # when a poll cycle last ended: a watchdog's sign the poller runs
        self._thread: threading.Thread | None = None

    # Events ---------------------------------------------------------------------------------------------------
    def subscribe(self, listener: Listener) -> Callable[[], None]:
        """Call `listener` with every event (on the polling thread); returns a function that unsubscribes."""
        with self._state_lock:
            self._listeners.append(listener)

        def unsubscribe() -> None:
            with self._state_lock:
                self._listeners.remove(listener)

        return unsubscribe

    def event_queue(self) -> queue.Queue[CabinetEvent]:
        events: queue.Queue[CabinetEvent] = queue.Queue()
        self.subscribe(events.put)
        return events

    def _emit(self, events: Sequence[CabinetEvent]) -> None:
        with self._state_lock:
            listeners = list(self._listeners)
        for event in events:
            for listener in listeners:
                try:
                    listener(event)
                except Exception:
                    log.exception("cabinet event listener failed on %s", event.name)

    # Unlocking ------------------------------------------------------------------------------------------------
    def open_slot(self, board: int, slot: int, request_id: str) -> UnlockResult:
        """Open one slot. The same request id never sends a second frame; the door state comes from polling."""
        codec = self._codec(board)
        self._check_slot(board, slot)
        request = codec.unlock(board, slot)
        earlier = self.ledger.claim(request_id, (board, slot))
        if earlier is not None:
            return earlier
        result = UnlockResult(request_id, board, slot, UnlockOutcome.NOT_SENT, "not attempted")
        try:
            result = self._send_unlock(codec, request, request_id, slot)
            if result.sent:
                with self._state_lock:
                    self.watch.unlock_sent(board, slot, request_id, time.monotonic())
        finally:
            self.ledger.settle(result)
        return result

    def open_board(self, board: int, request_id: str) -> UnlockResult:
        """Open every slot of a board (the board pulses them one after another)."""
        codec = self._codec(board)
        earlier = self.ledger.claim(request_id, (board, None))
        if earlier is not None:
            return earlier
        result = UnlockResult(request_id, board, None, UnlockOutcome.NOT_SENT, "not attempted")
        count = self._slots_on(board)
        try:
            if isinstance(codec, XorCodec):
                result = self._send_unlock(codec, codec.open_all(board), request_id, None)
            else:
                result = self._open_each(codec, board, count, request_id)
            if result.sent:
                pulse = self.profiles[board].pulse_ms / 1000
                with self._state_lock:
                    for index in range(count):
                        self.watch.unlock_sent(board, index + 1, request_id, time.monotonic(), index * pulse)
        finally:
            self.ledger.settle(result)
        return result

    def _open_each(self, codec: Codec, board: int, count: int, request_id: str) -> UnlockResult:
        outcome = UnlockOutcome.ACCEPTED
        sent_any = False
        for slot in range(1, count + 1):
            one = self._send_unlock(codec, codec.unlock(board, slot), request_id, slot)
            sent_any = sent_any or one.sent
            if not one.accepted:
                outcome = UnlockOutcome.UNCONFIRMED if sent_any else UnlockOutcome.NOT_SENT
                return UnlockResult(request_id, board, None, outcome, f"stopped at slot {slot}: {one.detail}")
        return UnlockResult(request_id, board, None, outcome)

    def _send_unlock(self, codec: Codec, request: Request, request_id: str, slot: int | None) -> UnlockResult:
        """Accepted only when the board acknowledged the frame; sent but unanswered is unconfirmed, never retried."""
        board = request.board
        try:
            reply = self.bus.transact(request, codec)
            if not isinstance(reply, Ack):
                raise FrameError(f"board {board} answered an unlock with {reply!r}")
        except LineDown as exc:
            outcome = UnlockOutcome.UNCONFIRMED if exc.maybe_sent else UnlockOutcome.NOT_SENT
            return UnlockResult(request_id, board, slot, outcome, str(exc))
        except (NoReply, FrameError) as exc:
            return UnlockResult(request_id, board, slot, UnlockOutcome.UNCONFIRMED, str(exc))
        return UnlockResult(request_id, board, slot, UnlockOutcome.ACCEPTED)

    # Polling --------------------------------------------------------------------------------------------------
    def _codec(self, board: int) -> Codec:
        try:
            return self._codecs[board]
        except KeyError:
            raise ValueError(f"board {board} is not part of this cabinet ({self.boards})") from None

    def _check_slot(self, board: int, slot: int) -> None:
        """Refuse a slot the board does not have, naming its real range. A board whose count is learnt from its
        replies is asked once first (a status query, never an unlock); one that does not answer is held to its
        protocol's limit, and the unlock itself reports the silence."""
        if self.profiles[board].channels is None and board not in self._slot_count:
            with contextlib.suppress(CabinetError):
                status = self._query(board)
                with self._state_lock:
                    self._slot_count[board] = len(status.doors_open)
        count = self._slots_on(board)
        if not 1 <= slot <= count:
            whose = f"board {board} has" if count != self.spec.max_channels else f"{self.spec.name} boards have"
            raise ValueError(f"{whose} slots 1-{count}, not {slot} (没有 {slot} 号格口)")

    def _slots_on(self, board: int) -> int:
        return self.profiles[board].channels or self._slot_count.get(board) or self.spec.max_channels

    def _query(self, board: int, *, dead: bool = False) -> BoardStatus:
        """A board's status. `dead` (known offline): asked once, and an unlock may cut the wait short."""
        codec = self._codec(board)
        retries = 0 if dead else self.status_retries
        reply = self.bus.transact(codec.query(board), codec, retries=retries, preemptible=dead)
        assert isinstance(reply, BoardStatus)
        return reply

    def query_board(self, board: int) -> BoardStatus:
        """One status query, straight from the board (retried as status queries may be)."""
        return self._query(board)

    def poll_once(self) -> list[CabinetEvent]:
        """Poll every board (and the key reader) once; emit and return the events."""
        events: list[CabinetEvent] = []
        for board in self.boards:
            try:
                status = self._query(board, dead=self.watch.online(board) is False)
            except Preempted:
                continue  # still offline; asked again next cycle
            except CabinetError as exc:
                with self._state_lock:
                    events += self.watch.board_failed(board, str(exc))
                continue
            with self._state_lock:
                self._slot_count[board] = len(status.doors_open)
                events += self.watch.observe(board, status.doors_open, time.monotonic())
                if status.presence is not None and self.key_reader is None:
                    events += self.keys.observe_presence(board, status.presence)
        if self.key_reader is not None:
            readings = self.key_reader.read()
            with self._state_lock:
                events += self.keys.observe_tags(readings)
        with self._state_lock:
            events += self.watch.tick(time.monotonic())
        self._emit(events)
        self.last_cycle = time.monotonic()
        return events

    def status(self, board: int | None = None) -> list[SlotStatus]:
        """The last polled state of every slot (of one board, if given)."""
        boards = self.boards if board is None else [board]
        result: list[SlotStatus] = []
        with self._state_lock:
            for b in boards:
                self._codec(b)
                for slot in range(1, self._slot_count.get(b, self.profiles[b].channels or 0) + 1):
                    result.append(SlotStatus(b, slot, self.watch.door(b, slot), self._key_text(b, slot)))
        return result

    def key_at(self, board: int, slot: int) -> str | None:
        """The tag id of the key in a slot, as last read (None: empty or no reader)."""
        with self._state_lock:
            return self.keys.tag_at((board, slot))

    def _key_text(self, board: int, slot: int) -> str | None:
        ref = (board, slot)
        if self.key_reader is not None:
            return self.keys.tag_at(ref)
        present = self.keys.present.get(ref)
        return None if present is None else ("present" if present else "absent")

    # Lifecycle ------------------------------------------------------------------------------------------------
    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(target=self._run, name="cabinet-poller", daemon=True)
        self._thread.start()

    def _run(self) -> None:
        # `poll_interval` is the period between cycle starts: a slow cycle is followed at once by the next, so a
        # door change is seen within one period (or one cycle, if longer) plus a transaction.
        while not self._stop.is_set():
            started = time.monotonic()
            self.poll_once()
            self._stop.wait(max(0.0, started + self.poll_interval - time.monotonic()))

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None
        self.bus.close()

    def __enter__(self) -> Cabinet:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
