"""Device programs' logs: a rotating file beside stderr when not under systemd, none under it; tokens, bearer
headers, PINs and passwords never reach a line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from terminal.logs import redact

ROOT = Path(__file__).resolve().parents[2]
EMIT = """
import logging
from terminal import logs
print(logs.configure(program="kiosk"))
log = logging.getLogger("cabinet.control")
log.info("panel line: pin engineer 135790")
log.warning("refused: Authorization: Bearer edt_fwOSAUnVhHHUfKlPIEgoQJh0gRW device_token=edt_fwOSAUnVhHH")
try:
    raise ValueError("password: hunter22")
except ValueError:
    log.exception("could not sign in")
"""


def _run(tmp_path: Path, **env: str) -> tuple[str, list[str]]:
    base = {k: v for k, v in os.environ.items() if k not in ("JOURNAL_STREAM", "INVOCATION_ID")}
    run = subprocess.run(
        [sys.executable, "-c", EMIT],
        env=base | {"ESTATE_LOG_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)} | env,
        capture_output=True, text=True, timeout=60, cwd=tmp_path, check=True,
    )  # fmt: skip
    return run.stdout.strip(), run.stderr.splitlines()


def test_a_rotating_file_by_hand_none_under_systemd_and_no_secret_anywhere(tmp_path: Path) -> None:
    path, lines = _run(tmp_path)
    assert path == str(tmp_path / "kiosk.log")
    written = (tmp_path / "kiosk.log").read_text(encoding="utf-8").splitlines()
    assert written == lines and len(lines) == 3  # the traceback is folded onto its record's line
    text = "\n".join(lines)
    for secret in ("135790", "fwOSAUnVhHHUfKlPIEgoQJh0gRW", "hunter22", "edt_fwOSAU"):
        assert secret not in text
    assert "pin engineer ******" in text and "Bearer …" in text and "Traceback" in lines[2]

    (tmp_path / "kiosk.log").unlink()
    path, lines = _run(tmp_path, INVOCATION_ID="0f6d", JOURNAL_STREAM="8:1234")
    assert path == "None" and not (tmp_path / "kiosk.log").exists()
    assert lines[0] == "<6>cabinet.control: panel line: pin engineer ******"


def test_redaction_keeps_what_a_technician_needs() -> None:
    assert redact("token edt_abcd1234efgh revoked") == "token edt_abcd… revoked"
    assert redact("pin=1234, card=G0001") == "pin=******, card=G0001"
    assert redact("kiosk link: online (was offline)") == "kiosk link: online (was offline)"
