"""Logging of the kiosk and the gate: one line per state change or error on stderr, which is what systemd's journal
keeps when they run as services (there the journal adds the time, and a `<N>` prefix gives each line its priority).
"""

from __future__ import annotations

import logging
import os
import sys

OURS = ("gate", "kiosk", "terminal", "devices", "cabinet", "server")
# syslog priorities of Python's levels, for systemd's SyslogLevelPrefix=
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


class _JournalFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_PRIORITY.get(record.levelno, 6)}>{super().format(record)}"


def _worth_a_line(record: logging.LogRecord) -> bool:
    """Our own records from the root level up; the libraries' (Kivy, httpx, python-escpos) only from warnings up."""
    return record.levelno >= logging.WARNING or record.name.split(".")[0] in OURS


def configure(level: int = logging.INFO) -> None:
    """Send log records to stderr, one line each."""
    os.environ["KIVY_LOG_MODE"] = "PYTHON"  # Kivy must neither take over the root logger nor swallow stderr
    handler = logging.StreamHandler(sys.stderr)
    if os.environ.get("JOURNAL_STREAM"):  # stderr is connected to the journal
        handler.setFormatter(_JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s"))
    handler.addFilter(_worth_a_line)
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
