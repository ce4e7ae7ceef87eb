"""`estate serve --workers N` on PostgreSQL: each worker listens on a socket of its own on the same port, so the
kernel deals the connections out among them; a worker that dies is replaced; a second server on the port is
refused; SIGTERM stops every worker."""

from __future__ import annotations

import os
import select
import signal
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import free_port, wait_until

ROOT = Path(__file__).resolve().parents[2]
CONNECTIONS = 16  # all on one of two workers by chance: 2 in 2**16


# Several workers are for PostgreSQL: SQLite is served by one process.
pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def postgres_url(database_url: str) -> str:
    return database_url


def _serve(url: str, port: int, log: Path) -> subprocess.Popen[str]:
    env = os.environ | {"ESTATE_DATABASE_URL": url, "ESTATE_DATA_DIR": str(log.parent / "data")}
    command = [sys.executable, "-m", "estate_cli", "serve", "--workers", "2", "--port", str(port), "--no-access-log"]
    with log.open("w") as err:
        return subprocess.Popen(command, cwd=ROOT, env=env, stderr=err, text=True)


def _started(log: Path) -> int:
    """How many workers have started serving, by the server's log."""
    return log.read_text().count("Application startup complete")


@pytest.fixture
def server(postgres_url: str, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[str], int, Path]]:
    port, log = free_port(), tmp_path / "serve.log"
    process = _serve(postgres_url, port, log)
    try:
        wait_until(lambda: _started(log) == 2, 60, "two workers serving")
        yield process, port, log
    finally:
        if process.poll() is None:
            process.kill()  # its workers end with it
            process.wait()


def _answers(port: int, timeout: float = 2) -> bool:
    try:
        return httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=timeout).status_code == 200
    except httpx.HTTPError:
        return False


def _workers(pid: int) -> list[int]:
    """The server's worker processes (not multiprocessing's resource tracker, its other child)."""
    try:
        children = [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except FileNotFoundError:
        return []
    return [child for child in children if b"spawn_main" in _cmdline(child)]


def _cmdline(pid: int) -> bytes:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return b""


def _sockets(pid: int, port: int, state: str = "01") -> int:
    """How many sockets on `port` in `state` process `pid` holds, from /proc (its sockets' inodes): 01 connections
    established."""
    inodes = set()
    try:
        fds = list(Path(f"/proc/{pid}/fd").iterdir())
    except OSError:  # the process has ended
        return 0
    for fd in fds:
        try:
            target = os.readlink(fd)
        except OSError:
            continue
        if target.startswith("socket:["):
            inodes.add(target[8:-1])
    count = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            local_port = int(fields[1].rsplit(":", 1)[1], 16)
            if local_port == port and fields[3] == state and fields[9] in inodes:
                count += 1
    return count


def _burst(port: int) -> list[socket.socket]:
    """CONNECTIONS connections opened at once, as a load generator or a proxy opens them."""
    clients = []
    for _ in range(CONNECTIONS):
        client = socket.socket()
        client.setblocking(False)
        client.connect_ex(("127.0.0.1", port))
        clients.append(client)
    for client in clients:
        select.select([], [client], [], 10)
        client.setblocking(True)
        client.settimeout(10)
    return clients


@pytest.mark.skipif(not Path("/proc/net/tcp").exists(), reason="reads connections from Linux's /proc")
def test_the_workers_share_the_connections_and_stop_together_on_sigterm(
    server: tuple[subprocess.Popen[str], int, Path],
) -> None:
    process, port, _ = server
    workers = _workers(process.pid)
    # One worker is busy (stopped) while the connections arrive: each worker's own socket keeps those the kernel
    # dealt to it until its worker takes them (a shared socket would hand every one to the worker that is free).
    os.kill(workers[0], signal.SIGSTOP)
    try:
        clients = _burst(port)
    finally:
        os.kill(workers[0], signal.SIGCONT)
    try:
        for client in clients:  # each connection answered, and kept open (HTTP/1.1)
            client.sendall(f"GET /api/v1/health HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n\r\n".encode())
        for client in clients:
            assert client.recv(4096).startswith(b"HTTP/1.1 200")
        held = {pid: _sockets(pid, port) for pid in workers}
        assert sum(held.values()) == CONNECTIONS
        assert all(n > 0 for n in held.values()), held
    finally:
        for client in clients:
            client.close()
    process.send_signal(signal.SIGTERM)
    assert process.wait(timeout=60) == 0
    assert not [pid for pid in workers if Path(f"/proc/{pid}").exists()]


def test_a_worker_that_dies_is_replaced(server: tuple[subprocess.Popen[str], int, Path]) -> None:
    """The connections the kernel deals to the dead worker's socket meanwhile wait there for its replacement."""
    process, port, log = server
    first, second = _workers(process.pid)
    os.kill(first, signal.SIGKILL)
    wait_until(lambda: set(_workers(process.pid)) - {first, second}, 60, "a new worker")
    answers = [_answers(port, timeout=60) for _ in range(8)]  # some wait in the socket while the new worker starts
    assert all(answers) and _started(log) == 3
    assert process.poll() is None


def test_the_workers_end_when_the_supervisor_is_killed(server: tuple[subprocess.Popen[str], int, Path]) -> None:
    """No worker serves on with nobody to replace or stop it."""
    process, port, _ = server
    workers = _workers(process.pid)
    process.kill()
    process.wait()
    wait_until(lambda: not [pid for pid in workers if _alive(pid)], 30, "the workers ended")
    assert not _answers(port)


def _alive(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_a_second_server_on_the_same_port_is_refused(
    server: tuple[subprocess.Popen[str], int, Path], postgres_url: str, tmp_path: Path
) -> None:
    """Sockets that share a port would share it with another server too, silently: the port is checked first."""
    _, port, _ = server
    second = _serve(postgres_url, port, tmp_path / "second.log")
    assert second.wait(timeout=60) == 2
    assert f"127.0.0.1:{port} is in use" in (tmp_path / "second.log").read_text()
