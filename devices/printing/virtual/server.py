"""The virtual printer's TCP server: each connection is a byte stream; each job becomes job-N.bin and job-N.png."""

from __future__ import annotations

import contextlib
import logging
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from devices.printing.virtual.interpreter import Interpreter, Job
from devices.printing.virtual.status import PrinterState

log = logging.getLogger(__name__)
DOTS_PER_MM = 8  # 203 dpi


@dataclass(frozen=True)
class JobRecord:
    """What the virtual printer did with one job."""

    number: int
    bin_path: Path
    png_path: Path | None  # None when nothing came out (paper out, cover open, hung)
    size: int
    text_lines: tuple[str, ...]
    qr_payloads: tuple[bytes, ...]
    errors: tuple[str, ...]
    cut: bool

    @property
    def printed(self) -> bool:
        return self.png_path is not None

    def as_dict(self) -> dict[str, object]:
        return {
            "job": self.number,
            "bin": str(self.bin_path),
            "png": str(self.png_path) if self.png_path else None,
            "bytes": self.size,
            "printed": self.printed,
            "cut": self.cut,
            "text": list(self.text_lines),
            "qr": [p.decode("latin-1") for p in self.qr_payloads],
            "errors": list(self.errors),
        }


@dataclass
class VirtualPrinter:
    """Listens on `host:port` (0 picks a free port); `state` sets what DLE EOT answers and whether jobs print."""

    out_dir: Path
    host: str = "127.0.0.1"
    port: int = 0
    width: int = 576
    state: PrinterState = PrinterState.OK
    on_job: Callable[[JobRecord], None] | None = None
    # Image rows take paper time on a real printer: 0 prints at once; e.g. 150 mm/s paces raster data (and the
    # answers to status queries behind it) as a thermal printer does.
    print_speed_mm_s: float = 0.0
    jobs: list[JobRecord] = field(default_factory=list)
    _sock: socket.socket | None = field(default=None, init=False)
    _threads: list[threading.Thread] = field(default_factory=list, init=False)
    _cond: threading.Condition = field(default_factory=threading.Condition, init=False)
    _counter: int = field(default=0, init=False)
    _stopping: threading.Event = field(default_factory=threading.Event, init=False)
    _conns: set[socket.socket] = field(default_factory=set, init=False)

    @property
    def address(self) -> tuple[str, int]:
        assert self._sock is not None, "start() the virtual printer first"
        host, port = self._sock.getsockname()[:2]
        return host, port

    @property
    def url(self) -> str:
        host, port = self.address
        return f"tcp://{host}:{port}"

    def start(self) -> VirtualPrinter:
        """Bind and listen (connections are accepted from the moment this returns), serve in the background.
        Jobs are numbered on from the last job-N already in `out_dir`, so earlier printouts are never overwritten."""
        self.out_dir.mkdir(parents=True, exist_ok=True)
        earlier = (p.stem.removeprefix("job-") for p in self.out_dir.glob("job-*.bin"))
        self._counter = max((int(n) for n in earlier if n.isdigit()), default=0)
        self._sock = socket.create_server((self.host, self.port), reuse_port=False)
        thread = threading.Thread(target=self._accept_loop, name="virtual-printer", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def serve_forever(self) -> None:
        """Serve until interrupted (for the CLI)."""
        if self._sock is None:
            self.start()
        try:
            self._stopping.wait()
        finally:
            self.stop()

    def stop(self) -> None:
        self._stopping.set()
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)
            self._sock.close()
        with self._cond:
            conns = list(self._conns)
        for conn in conns:  # end connections a client left open, so their threads finish
            with contextlib.suppress(OSError):
                conn.shutdown(socket.SHUT_RDWR)
        for thread in list(self._threads):
            if thread is not threading.current_thread():
                thread.join(timeout=5)

    def __enter__(self) -> VirtualPrinter:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for_jobs(self, count: int, timeout: float = 10.0) -> list[JobRecord]:
        """Block until at least `count` jobs are finished; raise TimeoutError otherwise."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.jobs) < count:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or not self._cond.wait(remaining):
                    raise TimeoutError(f"{len(self.jobs)} of {count} jobs arrived within {timeout}s")
            return list(self.jobs)

    # --- serving --------------------------------------------------------------------------------------

    def _next_number(self) -> int:
        with self._cond:
            self._counter += 1
            return self._counter

    def _accept_loop(self) -> None:
        assert self._sock is not None
        while not self._stopping.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                return
            thread = threading.Thread(target=self._serve, args=(conn,), daemon=True)
            thread.start()
            self._threads = [t for t in self._threads if t.is_alive()] + [thread]

    def _serve(self, conn: socket.socket) -> None:
        interpreter = Interpreter(self.width, lambda: self.state, self._finish_job, self._next_number)
        with self._cond:
            self._conns.add(conn)
        with conn:
            while True:
                try:
                    data = conn.recv(65536)
                except OSError:
                    break
                if not data:
                    break
                rows_before = interpreter.image_rows
                replies = interpreter.feed(data)
                if self.print_speed_mm_s > 0 and interpreter.image_rows > rows_before:
                    self._stopping.wait((interpreter.image_rows - rows_before) / (DOTS_PER_MM * self.print_speed_mm_s))
                if replies:
                    try:
                        conn.sendall(replies)
                    except OSError:
                        break
        with self._cond:
            self._conns.discard(conn)
        interpreter.close()

    def _finish_job(self, job: Job) -> None:
        bin_path = self.out_dir / f"job-{job.number}.bin"
        bin_path.write_bytes(bytes(job.data))
        errors = list(job.errors)
        png_path: Path | None = None
        state = self.state
        if not state.prints:
            errors.append(f"not printed: printer state is {state.value}")
            log.error("virtual printer job %d not printed: state %s", job.number, state.value)
        elif job.paper is not None:
            png_path = self.out_dir / f"job-{job.number}.png"
            job.paper.image().save(png_path)
        assert job.paper is not None
        record = JobRecord(
            number=job.number,
            bin_path=bin_path,
            png_path=png_path,
            size=len(job.data),
            text_lines=tuple(job.paper.text_lines) if png_path else (),
            qr_payloads=tuple(job.qr_payloads),
            errors=tuple(errors),
            cut=job.cut,
        )
        with self._cond:
            self.jobs.append(record)
            self.jobs.sort(key=lambda r: r.number)
            self._cond.notify_all()
        if self.on_job is not None:
            self.on_job(record)
