"""The kiosk's and the gate's log lines: one per event on stderr, with the journal's priority prefix when stderr
is connected to systemd's journal; the libraries' chatter only from warnings up."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EMIT = """
import logging
from terminal import logs
logs.configure()
logging.getLogger("gate.link").error("gate link: token refused")
logging.getLogger("kiosk.heartbeat").info("kiosk link: online")
logging.getLogger("root").info("Network printer enabled")
logging.getLogger("kivy").info("Kivy: v2")
logging.getLogger("httpx").warning("a library's warning")
"""


def emitted(**env: str) -> list[str]:
    base = {k: v for k, v in os.environ.items() if k != "JOURNAL_STREAM"}
    run = subprocess.run(
        [sys.executable, "-c", EMIT], env=base | env, capture_output=True, text=True, timeout=60, cwd=ROOT, check=True
    )
    return run.stderr.splitlines()


def test_one_line_per_event_ours_from_info_libraries_from_warning() -> None:
    lines = emitted()
    assert [line.split(" ", 2)[2] for line in lines] == [
        "ERROR gate.link: gate link: token refused",
        "INFO kiosk.heartbeat: kiosk link: online",
        "WARNING httpx: a library's warning",
    ]


def test_under_systemd_each_line_carries_its_priority() -> None:
    assert emitted(JOURNAL_STREAM="8:12345") == [
        "<3>gate.link: gate link: token refused",
        "<6>kiosk.heartbeat: kiosk link: online",
        "<4>httpx: a library's warning",
    ]
