"""The lock-board simulator: a `SimCabinet` answering on a pseudo-terminal or a TCP port, byte for byte.

On a pseudo-terminal the driver opens a stable symlink to the slave side with pyserial, as it would open
/dev/ttyUSB0; unplugging closes the pair and removes the link, replugging makes a new pair behind the same link.
Replies are paced at the wire time their bytes need at the board's baud rate.
"""

from __future__ import annotations

import contextlib
import os
import select
import socket
import tempfile
import threading
import time
import tty
from abc import ABC, abstractmethod
from collections.abc import Callable

from devices.cabinet.codec import Codec, Request, RequestKind, XorCodec, codec_for
from devices.cabinet.sim_model import BURST_GAP, SimCabinet

Burst = tuple[float, bytes]  # (seconds after the request arrived, bytes to send then)


def wire_time(nbytes: int, baudrate: int) -> float:
    """8N1: ten bits per byte."""
    return nbytes * 10 / baudrate


class BoardResponder:
    """What the boards on the bus do with one request: act on the doors, then answer (or not, under faults)."""

    def __init__(self, cabinet: SimCabinet, codec: Codec, turnaround: float = 0.0005) -> None:
        self.cabinet = cabinet
        self.codec = codec
        self.turnaround = turnaround
        self.baudrate = codec.profile.baudrate

    def _act(self, request: Request) -> None:
        board = self.cabinet.boards[request.board]
        pulse = self.codec.profile.pulse_ms / 1000
        if request.kind is RequestKind.UNLOCK:
            assert request.slot is not None
            if request.slot <= len(board.slots):
                self.cabinet.pulse(request.board, request.slot)
        elif request.kind is RequestKind.OPEN_ALL:
            # The board opens its locks one after another, one pulse each.
            for index in range(len(board.slots)):
                self.cabinet.pulse(request.board, index + 1, after=index * pulse)
        elif request.kind is RequestKind.BATCH:
            assert isinstance(self.codec, XorCodec)
            for index, slot in enumerate(s for s in self.codec.batch_slots(request) if s <= len(board.slots)):
                self.cabinet.pulse(request.board, slot, after=index * pulse)

    def _reply(self, request: Request) -> bytes:
        doors = self.cabinet.doors_open(request.board)
        presence = self.cabinet.presence(request.board)
        if request.kind is RequestKind.QUERY:
            return self.codec.status_reply(request.board, doors, presence)
        if request.kind is RequestKind.QUERY_ONE:
            assert isinstance(self.codec, XorCodec)
            return self.codec.query_one_reply(request, doors)
        return self.codec.unlock_reply(request, doors, presence)

    def handle(self, request: Request) -> list[Burst]:
        self.cabinet.record(request)
        if request.board not in self.cabinet.boards:
            return []  # nobody at that address on the bus
        self._act(request)
        faults = self.cabinet.take_faults(request)
        if "silence" in faults:
            return []
        reply = self._reply(request)
        if "bad_checksum" in faults:
            reply = reply[:-1] + bytes([reply[-1] ^ 0x5A])
        if "garbage" in faults:
            reply = faults["garbage"].garbage + reply
        start = wire_time(len(request.frame), self.baudrate) + self.turnaround
        if "delay" in faults:
            start += faults["delay"].delay
        if "split" not in faults:
            return [(start + wire_time(len(reply), self.baudrate), reply)]
        count = max(1, min(faults["split"].bursts, len(reply)))
        size = -(-len(reply) // count)
        bursts: list[Burst] = []
        at = start
        for index in range(0, len(reply), size):
            chunk = reply[index : index + size]
            at += wire_time(len(chunk), self.baudrate)
            bursts.append((at, chunk))
            at += BURST_GAP
        return bursts


class _Line(ABC):
    """One end of the bus the simulator sits on."""

    def __init__(self, responder: BoardResponder) -> None:
        self.responder = responder
        self._stop = threading.Event()

    def _serve(self, read: Callable[[], bytes], write: Callable[[bytes], None], gone: threading.Event) -> None:
        buf = bytearray()
        while not (self._stop.is_set() or gone.is_set()):
            try:
                data = read()
            except OSError:
                return
            if not data:
                continue
            arrived = time.monotonic()
            buf += data
            while True:
                request, used = self.responder.codec.parse_request(bytes(buf))
                del buf[:used]
                if request is None:
                    break
                for at, chunk in self.responder.handle(request):
                    delay = arrived + at - time.monotonic()
                    if delay > 0:
                        time.sleep(delay)  # paces the reply at its wire time
                    if gone.is_set():
                        return
                    try:
                        write(chunk)
                    except OSError:
                        return

    @property
    @abstractmethod
    def url(self) -> str: ...

    @abstractmethod
    def start(self) -> None: ...

    @abstractmethod
    def unplug(self) -> None: ...

    @abstractmethod
    def replug(self) -> None: ...

    @abstractmethod
    def stop(self) -> None: ...


class PtyLine(_Line):
    def __init__(self, responder: BoardResponder) -> None:
        super().__init__(responder)
        self._dir = tempfile.mkdtemp(prefix="estate-cabinet-")
        self._link = os.path.join(self._dir, "ttyCABINET")
        self._fds: tuple[int, int] | None = None
        self._gone = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        return self._link

    def start(self) -> None:
        master, slave = os.openpty()
        tty.setraw(slave)
        self._fds = (master, slave)
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._link)
        os.symlink(os.ttyname(slave), self._link)
        self._gone = gone = threading.Event()

        def read() -> bytes:
            ready, _, _ = select.select([master], [], [], 0.05)
            return os.read(master, 4096) if ready else b""

        def write(data: bytes) -> None:
            os.write(master, data)

        self._thread = threading.Thread(target=self._serve, args=(read, write, gone), daemon=True)
        self._thread.start()

    def unplug(self) -> None:
        self._gone.set()
        if self._thread is not None:
            self._thread.join()
        with contextlib.suppress(FileNotFoundError):
            os.unlink(self._link)
        if self._fds is not None:
            for fd in self._fds:
                os.close(fd)
            self._fds = None

    def replug(self) -> None:
        if self._fds is None:
            self.start()

    def stop(self) -> None:
        self._stop.set()
        self.unplug()
        with contextlib.suppress(OSError):
            os.rmdir(self._dir)


class SocketLine(_Line):
    """A TCP port, as a TCP↔RS485 bridge offers; one client at a time (a newer one replaces the older)."""

    def __init__(self, responder: BoardResponder, host: str, port: int) -> None:
        super().__init__(responder)
        self._server = socket.create_server((host, port))
        self._server.settimeout(0.05)
        self._client: socket.socket | None = None
        self._client_gone = threading.Event()
        self._unplugged = threading.Event()
        self._lock = threading.Lock()
        self._threads: list[threading.Thread] = []

    @property
    def url(self) -> str:
        host, port = self._server.getsockname()[:2]
        return f"socket://{host}:{port}"

    def start(self) -> None:
        thread = threading.Thread(target=self._accept, daemon=True)
        thread.start()
        self._threads.append(thread)

    def _accept(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._server.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            conn.settimeout(0.05)
            # A bridge forwards each burst as it comes off the RS485 side; Nagle would merge or hold them.
            conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
            gone = threading.Event()
            old: socket.socket | None = None
            old_gone = threading.Event()
            with self._lock:  # decided together with unplug(), so an unplugged bridge never takes a client
                refused = self._unplugged.is_set()
                if not refused:
                    old, old_gone = self._client, self._client_gone
                    self._client, self._client_gone = conn, gone
            if refused:
                conn.close()
                continue
            self._close(old, old_gone)

            def read(conn: socket.socket = conn, gone: threading.Event = gone) -> bytes:
                try:
                    data = conn.recv(4096)
                except TimeoutError:
                    return b""
                if not data:
                    gone.set()
                return data

            thread = threading.Thread(target=self._serve, args=(read, conn.sendall, gone), daemon=True)
            thread.start()
            self._threads.append(thread)

    @staticmethod
    def _close(client: socket.socket | None, gone: threading.Event) -> None:
        gone.set()
        if client is not None:
            with contextlib.suppress(OSError):
                client.shutdown(socket.SHUT_RDWR)
            client.close()

    def _drop_client(self, unplug: bool = False) -> None:
        with self._lock:
            if unplug:
                self._unplugged.set()
            client, gone = self._client, self._client_gone
            self._client = None
        self._close(client, gone)

    def unplug(self) -> None:
        self._drop_client(unplug=True)

    def replug(self) -> None:
        self._unplugged.clear()

    def stop(self) -> None:
        self._stop.set()
        self._drop_client()
        self._server.close()
        for thread in self._threads:
            thread.join()


class CabinetSimulator:
    """A simulated cabinet on a line: `start()` returns the URL the driver opens."""

    def __init__(self, cabinet: SimCabinet, *, listen: str | None = None) -> None:
        self.cabinet = cabinet
        self.codec = codec_for(cabinet.profile)
        responder = BoardResponder(cabinet, self.codec)
        if listen is None:
            self.line: _Line = PtyLine(responder)
        else:
            host, _, port = listen.rpartition(":")
            if not host or not port.isdigit():
                raise ValueError(f"--listen wants HOST:PORT, not {listen!r}")
            self.line = SocketLine(responder, host, int(port))

    @property
    def url(self) -> str:
        return self.line.url

    def start(self) -> str:
        self.line.start()
        return self.url

    def unplug(self) -> None:
        self.line.unplug()

    def replug(self) -> None:
        self.line.replug()

    def stop(self) -> None:
        self.line.stop()

    def __enter__(self) -> CabinetSimulator:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
