"""The kill -9 test of tests/server/test_load.py on PostgreSQL, against `estate serve --workers 2`: every process of
the server is killed at once mid-burst (a crash, not a stop), and every release a client saw acknowledged is in the
database, each slip released once. The workers' batches are sent as one pipeline each, and answered only once
committed."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from server.db.models import Estate
from server.domain import audit
from tests.conftest import ROOT, free_port, wait_until
from tests.server.test_load import releases_through_a_kill_9

# Several workers are for PostgreSQL: SQLite is served by one process (tests/server/test_load.py kills it).
pytestmark = pytest.mark.parametrize(
    "database_url", [pytest.param("postgresql", marks=pytest.mark.postgres)], indirect=True
)


@pytest.fixture
def postgres_url(database_url: str) -> str:
    return database_url


@pytest.fixture
def workers(postgres_url: str, tmp_path: Path) -> Iterator[Callable[[], tuple[subprocess.Popen[bytes], str]]]:
    """`estate serve --workers 2` on the test's database, in a process group of its own; every one started is
    ended."""
    started: list[subprocess.Popen[bytes]] = []

    def start() -> tuple[subprocess.Popen[bytes], str]:
        port = free_port()
        env = os.environ | {"ESTATE_DATABASE_URL": postgres_url, "ESTATE_DATA_DIR": str(tmp_path / "data")}
        command = [sys.executable, "-m", "estate_cli", "serve", "--workers", "2", "--port", str(port)]
        log = (tmp_path / f"serve-{port}.log").open("wb")
        process = subprocess.Popen([*command, "--no-access-log"], cwd=ROOT, env=env, stderr=log, start_new_session=True)
        log.close()
        started.append(process)
        ready = tmp_path / f"serve-{port}.log"
        wait_until(lambda: ready.read_text().count("Application startup complete") == 2, 60, "two workers serving")
        httpx.get(f"http://127.0.0.1:{port}/api/v1/health", timeout=10).raise_for_status()
        return process, f"http://127.0.0.1:{port}"

    yield start
    for process in started:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)


def test_every_acknowledged_release_survives_a_kill_9_of_every_worker_and_none_is_doubled(
    workers: Callable[[], tuple[subprocess.Popen[bytes], str]],
    postgres_url: str,
    db: Session,
    estate: Estate,
    make_device: Callable[..., tuple],
) -> None:
    def kill(process: subprocess.Popen[bytes]) -> None:
        os.killpg(process.pid, signal.SIGKILL)  # the supervisor and both workers at once

    releases_through_a_kill_9(workers, kill, postgres_url, db, estate, make_device)
    db.rollback()
    assert audit.verify(db).ok
