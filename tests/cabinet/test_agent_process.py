"""`estate cabinet` as it runs on the cabinet's machine: a separate process reading its config file, its panel on a
pseudo-terminal, its boards on another, talking to the stand-in server. Stopped and started again it opens nothing
twice; started while the server is away it signs staff in from the roster it kept."""

from __future__ import annotations

import json
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from devices.cabinet.lines import LineSimulator
from tests.cabinet.conftest import ENGINEER, SLOTS, Cupboard, LiveDouble
from tests.cabinet.contract_server import TOKEN

WAIT = 30.0


class Agent:
    """A running `estate cabinet` with its stdout (JSON events) and stderr (state changes) read as they come."""

    def __init__(self, config: Path) -> None:
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "estate_cli", "cabinet", "--config", str(config)],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.events: queue.Queue[dict[str, object]] = queue.Queue()
        self.log: queue.Queue[str] = queue.Queue()
        self.log_lines: list[str] = []
        self._matched: set[int] = set()
        assert self.proc.stdout is not None and self.proc.stderr is not None
        out, err = self.proc.stdout, self.proc.stderr
        threading.Thread(target=lambda: [self.events.put(json.loads(line)) for line in out], daemon=True).start()
        threading.Thread(target=lambda: [self.log.put(line) for line in err], daemon=True).start()

    def said(self, text: str) -> str:
        """The first line of the log not matched before that contains `text`, waiting for it (the agent's threads
        log in their own order)."""
        for index, line in enumerate(self.log_lines):
            if index not in self._matched and text in line:
                self._matched.add(index)
                return line
        while True:
            try:
                line = self.log.get(timeout=WAIT)
            except queue.Empty:
                raise AssertionError(f"the agent never said {text!r}; it said {self.log_lines}") from None
            self.log_lines.append(line)
            if text in line:
                self._matched.add(len(self.log_lines) - 1)
                return line

    def event(self, name: str, **match: object) -> dict[str, object]:
        while True:
            event = self.events.get(timeout=WAIT)
            if event["event"] == name and all(event.get(k) == v for k, v in match.items()):
                return event

    def stop(self) -> int:
        self.proc.send_signal(signal.SIGTERM)
        return self.proc.wait(timeout=WAIT)


@contextmanager
def running(config: Path) -> Iterator[Agent]:
    agent = Agent(config)
    try:
        yield agent
    finally:
        if agent.proc.poll() is None:
            agent.proc.kill()
            agent.proc.wait()


def test_estate_cabinet_opens_an_authorised_unlock_once_across_restarts_and_offline(
    server: LiveDouble, cupboard: Cupboard, panel: LineSimulator, tmp_path: Path
) -> None:
    unlock = server.estate.authorise(ENGINEER.id, 1, 3, "1-1A 入户门")
    config = tmp_path / "cabinet.toml"
    config.write_text(
        "\n".join(
            [
                "[cabinet]",
                f'cabinet = "{cupboard.url}"',
                'protocol = "xor485"',
                f'server = "{server.url}"',
                f'device_token = "{TOKEN}"',
                f'data_dir = "{tmp_path / "agent"}"',
                f'panel = "{panel.url}"',
                "poll_interval = 0.1",
                "[[cabinet.boards]]",
                "address = 1",
                f"channels = {SLOTS}",
            ]
        )
        + "\n",
        encoding="utf-8",
    )

    with running(config) as first:
        first.said(f"panel: reading {panel.url}")
        panel.type_line(ENGINEER.card)
        first.said("signed in: 周工程 (engineer, staff 7) by card")
        assert f"unlock {unlock.request_id} of board 1 slot 3" in first.said("accepted by the board")
        first.event("door_opened", slot=3, request_id=unlock.request_id)
        assert first.stop() == 0
    assert cupboard.frames(3) == 1

    with running(config) as again:  # restarted: the ledger on disk knows the request id
        again.said(f"panel: reading {panel.url}")
        panel.type_line(ENGINEER.card)
        panel.type_line("out")
        again.said("signed out: 周工程 (engineer, staff 7) (signed out at the panel)")
        assert again.stop() == 0
    assert cupboard.frames(3) == 1

    server.stop()
    with running(config) as offline:  # no server, and a fresh start: the roster kept on disk signs people in
        offline.said("server away")
        offline.said(f"panel: reading {panel.url}")
        panel.type_line(f"pin engineer {ENGINEER.pin}")
        offline.said("signed in: 周工程 (engineer, staff 7) by pin (offline, from the synced roster)")
        panel.type_line("out")
        offline.said("signed out")
        assert offline.stop() == 0
    assert cupboard.frames(3) == 1
    assert not any(ENGINEER.pin in line or ENGINEER.card in line for line in offline.log_lines + first.log_lines)
