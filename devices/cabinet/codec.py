"""Frame codecs of the two board families: requests out, replies in, and the board's side for the simulator.

A codec only turns values into bytes and bytes into values; timing and retries belong to the bus.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from devices.cabinet.errors import FrameError, NoReply
from devices.cabinet.profiles import BoardProfile, Checksum, Feedback, Framing, StatusOrder


def bcc(data: bytes) -> int:
    """XOR of every byte (the "485 lock board" block check character)."""
    value = 0
    for byte in data:
        value ^= byte
    return value


def sum8(data: bytes) -> int:
    """Sum of every byte mod 256 (Kerong)."""
    return sum(data) & 0xFF


def checksum(kind: Checksum, data: bytes) -> int:
    return bcc(data) if kind is Checksum.XOR else sum8(data)


class RequestKind(StrEnum):
    UNLOCK = "unlock"
    OPEN_ALL = "open_all"
    BATCH = "batch"
    QUERY = "query"  # the whole board
    QUERY_ONE = "query_one"


@dataclass(frozen=True)
class Request:
    """One frame to send."""

    kind: RequestKind
    board: int
    frame: bytes
    slot: int | None = None


@dataclass(frozen=True)
class BoardStatus:
    """Door (and, where the board has sensors, presence) state of every slot; index 0 is slot 1."""

    board: int
    doors_open: tuple[bool, ...]
    presence: tuple[bool, ...] | None = None


@dataclass(frozen=True)
class Ack:
    """A board's answer to an unlock: the command was accepted (not: the door opened)."""

    board: int
    slot: int | None
    level: int | None = None


Reply = BoardStatus | Ack


def pack_bits(bits: Sequence[bool], nbytes: int, order: StatusOrder) -> bytes:
    """Channels (index 0 = channel 1) into status bytes; bit 0 is the lowest channel of its group."""
    groups = bytearray(nbytes)
    for index, bit in enumerate(bits):
        if bit:
            groups[index // 8] |= 1 << (index % 8)
    return bytes(reversed(groups)) if order is StatusOrder.HIGH_FIRST else bytes(groups)


def unpack_bits(data: bytes, channels: int, order: StatusOrder) -> tuple[bool, ...]:
    groups = bytes(reversed(data)) if order is StatusOrder.HIGH_FIRST else data
    return tuple(bool(groups[i // 8] >> (i % 8) & 1) for i in range(channels))


def contacts_to_open(contacts: Sequence[bool], feedback: Feedback) -> tuple[bool, ...]:
    return tuple(c if feedback is Feedback.DOOR_OPENING else not c for c in contacts)


def open_to_contacts(doors_open: Sequence[bool], feedback: Feedback) -> tuple[bool, ...]:
    return contacts_to_open(doors_open, feedback)  # the mapping is its own inverse


class Codec(ABC):
    """Encode requests and find replies for one profile; and the board's side of the same protocol."""

    def __init__(self, profile: BoardProfile) -> None:
        self.profile = profile
        self.spec = profile.protocol

    def _seal(self, body: bytes) -> bytes:
        return body + bytes([checksum(self.spec.checksum, body)])

    def _sealed(self, frame: bytes) -> bool:
        return len(frame) >= 2 and frame[-1] == checksum(self.spec.checksum, frame[:-1])

    @abstractmethod
    def unlock(self, board: int, slot: int) -> Request: ...

    @abstractmethod
    def query(self, board: int) -> Request: ...

    @abstractmethod
    def reply_lengths(self, request: Request, final: bool) -> Sequence[int]:
        """Lengths a reply to `request` may have. Not final: only lengths that make a frame certainly complete."""

    @abstractmethod
    def decode(self, request: Request, frame: bytes) -> Reply | None:
        """The reply in a checksum-valid candidate frame, or None if it does not answer `request`."""

    @abstractmethod
    def reply_header(self, request: Request) -> bytes: ...

    def find_reply(self, request: Request, buf: bytes | bytearray, *, final: bool) -> Reply | None:
        """The first valid reply to `request` in `buf`, skipping bytes before it.

        Not final (bytes may still come): None until a complete frame is there. Final (the line went quiet):
        NoReply if nothing came, FrameError naming what was wrong if bytes came but no valid reply.
        """
        header = self.reply_header(request)
        bad_checksum = False
        start = buf.find(header)
        while start >= 0:
            for length in self.reply_lengths(request, final):
                frame = bytes(buf[start : start + length])
                if len(frame) < length:
                    continue
                if not self._sealed(frame):
                    bad_checksum = True
                    continue
                reply = self.decode(request, frame)
                if reply is not None:
                    return reply
            start = buf.find(header, start + 1)
        if not final:
            return None
        if not buf:
            raise NoReply(f"board {request.board} did not answer ({request.kind}) (锁控板无应答)")
        what = "bad checksum" if bad_checksum else "no valid reply frame"
        raise FrameError(f"board {request.board}: {what} in {len(buf)} bytes: {bytes(buf).hex(' ')} (应答帧无效)")

    # The board's side, used by the simulator.
    @abstractmethod
    def parse_request(self, buf: bytes) -> tuple[Request | None, int]:
        """The first valid request in `buf` and the index just past it (or None and how many bytes to drop)."""

    @abstractmethod
    def status_reply(self, board: int, doors_open: Sequence[bool], presence: Sequence[bool]) -> bytes: ...

    @abstractmethod
    def unlock_reply(self, request: Request, doors_open: Sequence[bool], presence: Sequence[bool]) -> bytes: ...

    def _scan_requests(self, buf: bytes, lengths: Sequence[int]) -> tuple[Request | None, int]:
        for start in range(len(buf)):
            for length in lengths:
                frame = bytes(buf[start : start + length])
                if len(frame) == length and self._sealed(frame):
                    request = self._request_from(frame)
                    if request is not None:
                        return request, start + length
        # Keep a tail that could still be the start of a frame.
        keep = max(lengths) - 1
        return None, max(0, len(buf) - keep)

    @abstractmethod
    def _request_from(self, frame: bytes) -> Request | None: ...


class XorCodec(Codec):
    """The common "485 lock board": `8A BB LL 11 BCC` unlock, `80 BB LL 33 BCC` query, `90 BB S1 S2 S3` batch."""

    def _cmd(self, name: str) -> int:
        return self.spec.commands[name]

    def unlock(self, board: int, slot: int) -> Request:
        self.profile.check_address(board)
        self.profile.check_slot(slot)
        frame = self._seal(bytes([self._cmd("unlock"), board, slot, self._cmd("unlock_arg")]))
        return Request(RequestKind.UNLOCK, board, frame, slot)

    def open_all(self, board: int) -> Request:
        self.profile.check_address(board)
        return Request(
            RequestKind.OPEN_ALL, board, self._seal(bytes([self._cmd("unlock"), board, 0, self._cmd("unlock_arg")]))
        )

    def batch(self, board: int, slots: Sequence[int]) -> Request:
        self.profile.check_address(board)
        bits = [False] * 24
        for slot in slots:
            if not 1 <= slot <= 24:
                raise ValueError(f"a batch open reaches slots 1-24, not {slot}")
            bits[slot - 1] = True
        body = bytes([self._cmd("batch"), board]) + pack_bits(bits, 3, self.profile.order)
        return Request(RequestKind.BATCH, board, self._seal(body))

    def query(self, board: int) -> Request:
        self.profile.check_address(board)
        return Request(
            RequestKind.QUERY, board, self._seal(bytes([self._cmd("query"), board, 0, self._cmd("query_arg")]))
        )

    def query_one(self, board: int, slot: int) -> Request:
        self.profile.check_address(board)
        self.profile.check_slot(slot)
        frame = self._seal(bytes([self._cmd("query"), board, slot, self._cmd("query_arg")]))
        return Request(RequestKind.QUERY_ONE, board, frame, slot)

    def reply_header(self, request: Request) -> bytes:
        return request.frame[:2]

    def reply_lengths(self, request: Request, final: bool) -> Sequence[int]:
        if request.kind is RequestKind.BATCH:
            return (6,)
        if request.kind is not RequestKind.QUERY:
            return (5,)
        known = self.profile.status_bytes
        if known is not None:
            return (known + 4,)
        # Channel count unknown: any group count is possible, so only the quiet period can end the frame.
        max_groups = (self.spec.max_channels + 7) // 8
        return tuple(range(max_groups + 4, 4, -1)) if final else ()

    def decode(self, request: Request, frame: bytes) -> Reply | None:
        if request.kind is RequestKind.QUERY:
            if frame[-2] != self._cmd("query_arg"):
                return None
            groups = frame[2:-2]
            channels = self.profile.channels or len(groups) * 8
            contacts = unpack_bits(groups, channels, self.profile.order)
            return BoardStatus(request.board, contacts_to_open(contacts, self.profile.feedback))
        if request.kind is RequestKind.QUERY_ONE:
            if frame[2] != request.slot:
                return None
            is_open = contacts_to_open([frame[3] == self._cmd("level_high")], self.profile.feedback)[0]
            return BoardStatus(request.board, (is_open,))
        if request.kind is RequestKind.BATCH:
            return Ack(request.board, None) if frame == request.frame else None
        expected_slot = 0 if request.kind is RequestKind.OPEN_ALL else request.slot
        if frame[2] != expected_slot:
            return None
        return Ack(request.board, request.slot, frame[3])

    def _request_from(self, frame: bytes) -> Request | None:
        head, board = frame[0], frame[1]
        if len(frame) == 6:
            return Request(RequestKind.BATCH, board, frame) if head == self._cmd("batch") else None
        channel, arg = frame[2], frame[3]
        if head == self._cmd("unlock") and arg == self._cmd("unlock_arg"):
            return (
                Request(RequestKind.OPEN_ALL, board, frame)
                if channel == 0
                else Request(RequestKind.UNLOCK, board, frame, channel)
            )
        if head == self._cmd("query") and arg == self._cmd("query_arg"):
            return (
                Request(RequestKind.QUERY, board, frame)
                if channel == 0
                else Request(RequestKind.QUERY_ONE, board, frame, channel)
            )
        return None

    def parse_request(self, buf: bytes) -> tuple[Request | None, int]:
        return self._scan_requests(buf, (5, 6))

    def batch_slots(self, request: Request) -> list[int]:
        bits = unpack_bits(request.frame[2:5], 24, self.profile.order)
        return [i + 1 for i, bit in enumerate(bits) if bit]

    def _level(self, is_open: bool) -> int:
        contact = open_to_contacts([is_open], self.profile.feedback)[0]
        return self._cmd("level_high") if contact else self._cmd("level_low")

    def status_reply(self, board: int, doors_open: Sequence[bool], presence: Sequence[bool]) -> bytes:
        contacts = open_to_contacts(doors_open, self.profile.feedback)
        groups = pack_bits(contacts, (len(doors_open) + 7) // 8, self.profile.order)
        return self._seal(bytes([self._cmd("query"), board]) + groups + bytes([self._cmd("query_arg")]))

    def unlock_reply(self, request: Request, doors_open: Sequence[bool], presence: Sequence[bool]) -> bytes:
        if request.kind is RequestKind.BATCH:
            return request.frame
        if request.kind is RequestKind.OPEN_ALL:
            return self._seal(bytes([self._cmd("unlock"), request.board, 0, self._cmd("unlock_arg")]))
        assert request.slot is not None
        level = self._level(doors_open[request.slot - 1])
        return self._seal(bytes([request.frame[0], request.board, request.slot, level]))

    def query_one_reply(self, request: Request, doors_open: Sequence[bool]) -> bytes:
        assert request.slot is not None
        level = self._level(doors_open[request.slot - 1])
        return self._seal(bytes([self._cmd("query"), request.board, request.slot, level]))


class KerongCodec(Codec):
    """Kerong KR-CU16: `02 ADDR CMD 03 SUM`, ADDR = board×16 + lock index; status reply of 9 bytes."""

    def _frame(self, board: int, lock_index: int, cmd: int) -> bytes:
        c = self.spec.commands
        return self._seal(bytes([c["stx"], board * 16 + lock_index, cmd, c["etx"]]))

    def unlock(self, board: int, slot: int) -> Request:
        self.profile.check_address(board)
        self.profile.check_slot(slot)
        return Request(RequestKind.UNLOCK, board, self._frame(board, slot - 1, self.spec.commands["unlock"]), slot)

    def query(self, board: int) -> Request:
        self.profile.check_address(board)
        return Request(RequestKind.QUERY, board, self._frame(board, 0, self.spec.commands["status"]))

    def reply_header(self, request: Request) -> bytes:
        return bytes([self.spec.commands["stx"]])

    def reply_lengths(self, request: Request, final: bool) -> Sequence[int]:
        return (9,)

    def decode(self, request: Request, frame: bytes) -> Reply | None:
        c = self.spec.commands
        if frame[1] >> 4 != request.board or frame[2] != c["status_reply"] or frame[7] != c["etx"]:
            return None
        if request.kind is RequestKind.UNLOCK:
            # The board acknowledges an unlock by answering with its status; silence means it did not take it.
            return Ack(request.board, request.slot)
        channels = self.profile.channels or 16
        locks, sensors = frame[3:5], frame[5:7]
        doors = contacts_to_open(unpack_bits(locks, channels, self.profile.order), self.profile.feedback)
        return BoardStatus(request.board, doors, unpack_bits(sensors, channels, self.profile.order))

    def _request_from(self, frame: bytes) -> Request | None:
        c = self.spec.commands
        if frame[0] != c["stx"] or frame[3] != c["etx"]:
            return None
        board, index = frame[1] >> 4, frame[1] & 0x0F
        if frame[2] == c["unlock"]:
            return Request(RequestKind.UNLOCK, board, frame, index + 1)
        if frame[2] == c["status"]:
            return Request(RequestKind.QUERY, board, frame)
        return None

    def parse_request(self, buf: bytes) -> tuple[Request | None, int]:
        return self._scan_requests(buf, (5,))

    def status_reply(self, board: int, doors_open: Sequence[bool], presence: Sequence[bool]) -> bytes:
        c = self.spec.commands
        locks = pack_bits(open_to_contacts(doors_open, self.profile.feedback), 2, self.profile.order)
        sensors = pack_bits(presence, 2, self.profile.order)
        return self._seal(bytes([c["stx"], board * 16, c["status_reply"]]) + locks + sensors + bytes([c["etx"]]))

    def unlock_reply(self, request: Request, doors_open: Sequence[bool], presence: Sequence[bool]) -> bytes:
        # The board acknowledges an unlock with its status.
        return self.status_reply(request.board, doors_open, presence)


CODECS: dict[Framing, type[Codec]] = {Framing.XOR485: XorCodec, Framing.KERONG: KerongCodec}


def codec_for(profile: BoardProfile) -> Codec:
    """The codec the profile's protocol names (its framing, not its checksum: families share checksum kinds)."""
    return CODECS[profile.protocol.framing](profile)
