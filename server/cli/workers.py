"""`estate serve --workers N`: N server processes on one address, each listening on a socket of its own
(SO_REUSEPORT), so that the kernel deals new connections out among them evenly.

With one listening socket shared by every worker (uvicorn's own `--workers`), whichever process wakes first accepts
every connection that is waiting. Gates, kiosks and a proxy keep their connections open, so they can all land on
one worker while the others idle: bench/slips.py saw all 32 of its connections on one of two workers, and half the
machine unused. Here each worker has its own queue of connections, filled by the kernel by a hash of the client's
address and port, from before the workers start.

The supervisor starts the workers, starts a new one in place of a worker that dies, and stops them all on SIGINT or
SIGTERM. Linux (SO_REUSEPORT with load balancing between sockets, since 3.9) and the BSDs' SO_REUSEPORT_LB.
"""

from __future__ import annotations

import ctypes
import ctypes.util
import logging
import logging.config
import multiprocessing
import os
import signal
import socket
import threading
import time
from dataclasses import dataclass, field
from multiprocessing.process import BaseProcess
from typing import Any

import uvicorn

APP = "server.web.app:create_app"
QUICK_EXIT = 10.0  # seconds: a worker that ends sooner after its start failed to start
QUICK_EXITS = 3  # that many in a row and the server stops: a new one would fail as well
STOP_WAIT = 30.0  # seconds a worker is given to finish its requests after SIGTERM
BACKLOG = 2048  # uvicorn's
PR_SET_PDEATHSIG = 1  # linux/prctl.h
log = logging.getLogger("uvicorn.error")


class PortInUse(RuntimeError):
    pass


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def claim_port(host: str, port: int) -> int:
    """The port, checked free by a bind without SO_REUSEPORT, which fails where anything listens already, a group
    of sharing sockets included (another `estate serve` on the port): without this check the two servers would
    silently share the connections. Port 0 gives a free port."""
    with socket.socket(_family(host), socket.SOCK_STREAM) as probe:
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise PortInUse(f"{host}:{port} is in use ({exc.strerror})") from None
        return int(probe.getsockname()[1])


def shared_socket(host: str, port: int, backlog: int = BACKLOG) -> socket.socket:
    """A listening socket for one worker, on an address that the other workers' sockets listen on too."""
    sock = socket.socket(_family(host), socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, getattr(socket, "SO_REUSEPORT_LB", socket.SO_REUSEPORT), 1)
    sock.bind((host, port))
    sock.listen(backlog)
    return sock


def serve_worker(sock: socket.socket, host: str, port: int, options: dict[str, Any], parent: int) -> None:
    """A worker's process: the app on its socket, for as long as the supervisor `parent` lives."""
    _end_with(parent)
    config = uvicorn.Config(APP, factory=True, host=host, port=port, backlog=BACKLOG, **options)
    uvicorn.Server(config).run(sockets=[sock])


def _end_with(parent: int) -> None:
    """Have the kernel send SIGTERM to this process when its parent ends (Linux), so that a supervisor that was
    killed leaves no worker serving on its own; elsewhere, nothing."""
    try:
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (OSError, AttributeError):
        return
    if os.getppid() != parent:  # it ended before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class _Worker:
    process: BaseProcess
    started: float = field(default_factory=time.monotonic)


class Workers:
    """The supervisor of `count` workers on host:port; `options` are uvicorn.Config's (log level, access log)."""

    def __init__(self, count: int, host: str, port: int, options: dict[str, Any]) -> None:
        self.count = count
        self.host = host
        self.port = claim_port(host, port)
        self.options = options
        # The sockets are the supervisor's, made before any worker starts and kept while it runs: the kernel deals
        # connections to every one from the first, and a worker's share waits in its socket while the worker
        # starts, or while a new one replaces it.
        self.sockets = [shared_socket(host, self.port) for _ in range(count)]
        self.stopping = threading.Event()
        logging.config.dictConfig(uvicorn.config.LOGGING_CONFIG)  # the supervisor logs as its workers do
        log.setLevel(logging.INFO)
        self._context = multiprocessing.get_context("spawn")  # each worker imports the app afresh
        self._workers: list[_Worker] = []

    def _start(self, i: int) -> _Worker:
        process = self._context.Process(
            target=serve_worker,
            args=(self.sockets[i], self.host, self.port, self.options, os.getpid()),
            name="estate-worker",
        )
        process.start()
        log.info("Started worker process [%s]", process.pid)
        return _Worker(process)

    def run(self) -> int:
        """Serve until SIGINT or SIGTERM (0), or until workers keep failing to start (1)."""
        for signum in (signal.SIGINT, signal.SIGTERM):
            signal.signal(signum, lambda *_: self.stopping.set())
        self._workers = [self._start(i) for i in range(self.count)]
        quick_exits = 0
        try:
            while not self.stopping.wait(0.5):
                for i, worker in enumerate(self._workers):
                    if worker.process.is_alive():
                        continue
                    lived = time.monotonic() - worker.started
                    log.error(
                        "worker process [%s] ended (exit code %s) after %.0f s; starting another",
                        worker.process.pid,
                        worker.process.exitcode,
                        lived,
                    )
                    quick_exits = quick_exits + 1 if lived < QUICK_EXIT else 0
                    if quick_exits >= QUICK_EXITS:
                        log.error("workers end as soon as they start: stopping the server")
                        return 1
                    self._workers[i] = self._start(i)
            return 0
        finally:
            self._stop()

    def _stop(self) -> None:
        for worker in self._workers:
            if worker.process.is_alive():
                worker.process.terminate()  # SIGTERM: uvicorn finishes the requests in hand
        deadline = time.monotonic() + STOP_WAIT
        for worker in self._workers:
            worker.process.join(max(0.0, deadline - time.monotonic()))
            if worker.process.is_alive():
                worker.process.kill()
                worker.process.join()
        for sock in self.sockets:
            sock.close()
        log.info("Stopped %d worker processes", len(self._workers))
