"""Logging of the kiosk, the gate and the cabinet agent: one line per state change or error on stderr, which is what
systemd's journal keeps when they run as services (there the journal adds the time, and a `<N>` prefix gives each
line its priority). Not under systemd, the same lines also go to a rotating file (`var/log/<program>.log`, or in
`ESTATE_LOG_DIR`), so a program started by hand leaves a trail too. Device tokens, bearer headers, PINs and
passwords are masked in every line, whoever wrote it.
"""

from __future__ import annotations

import logging
import os
import re
import sys
from logging.handlers import RotatingFileHandler
from pathlib import Path

OURS = ("gate", "kiosk", "terminal", "devices", "cabinet", "server")
# syslog priorities of Python's levels, for systemd's SyslogLevelPrefix=
_PRIORITY = {logging.CRITICAL: 2, logging.ERROR: 3, logging.WARNING: 4, logging.INFO: 6, logging.DEBUG: 7}


LOG_DIR_ENV = "ESTATE_LOG_DIR"
FILE_BYTES, FILE_COUNT = 5_000_000, 5
_SECRETS = (
    (re.compile(r"\b(edt_[A-Za-z0-9]{0,4})[A-Za-z0-9_\-]+"), r"\1…"),  # a device token: its hint is enough
    (re.compile(r"(?i)\b(bearer)\s+\S+"), r"\1 …"),
    (re.compile(r"(?i)\b(pin\s+\S+\s+)\d+"), r"\1******"),  # the cabinet panel's `pin USER PIN`
    (re.compile(r"(?i)\b(pin|password|passwd|device_token|token)(\s*[=:]\s*)[^\s,;)]+"), r"\1\2******"),
)


def redact(text: str) -> str:
    """The line with every device token, bearer header, PIN and password masked."""
    for pattern, replacement in _SECRETS:
        text = pattern.sub(replacement, text)
    return text


class _LineFormatter(logging.Formatter):
    """One line (a traceback folded onto its record's line, so the journal keeps them together), secrets masked."""

    def format(self, record: logging.LogRecord) -> str:
        return " | ".join(redact(super().format(record)).splitlines())


class _JournalFormatter(_LineFormatter):
    def format(self, record: logging.LogRecord) -> str:
        return f"<{_PRIORITY.get(record.levelno, 6)}>{super().format(record)}"


def under_systemd() -> bool:
    return bool(os.environ.get("JOURNAL_STREAM") or os.environ.get("INVOCATION_ID"))


def _worth_a_line(record: logging.LogRecord) -> bool:
    """Our own records from the root level up; the libraries' (Kivy, httpx, python-escpos) only from warnings up."""
    return record.levelno >= logging.WARNING or record.name.split(".")[0] in OURS


def configure(level: int = logging.INFO, program: str = "estate") -> Path | None:
    """Send log records to stderr, one line each, and (not under systemd) to a rotating file, whose path is
    returned."""
    os.environ["KIVY_LOG_MODE"] = "PYTHON"  # Kivy must neither take over the root logger nor swallow stderr
    handler = logging.StreamHandler(sys.stderr)
    plain = _LineFormatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    if os.environ.get("JOURNAL_STREAM"):  # stderr is connected to the journal
        handler.setFormatter(_JournalFormatter("%(name)s: %(message)s"))
    else:
        handler.setFormatter(plain)
    handlers: list[logging.Handler] = [handler]
    path = None
    if not under_systemd():
        path = Path(os.environ.get(LOG_DIR_ENV) or "var/log") / f"{program}.log"
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            to_file = RotatingFileHandler(path, maxBytes=FILE_BYTES, backupCount=FILE_COUNT, encoding="utf-8")
        except OSError:  # a read-only place: stderr is still there
            path = None
        else:
            to_file.setFormatter(plain)
            handlers.append(to_file)
    for each in handlers:
        each.addFilter(_worth_a_line)
    root = logging.getLogger()
    root.handlers[:] = handlers
    root.setLevel(level)
    return path
