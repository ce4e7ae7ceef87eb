"""What the agent synced, kept on disk: read back after a restart, readable by the agent alone (the roster holds
credential hashes), and a damaged file only means downloading it again."""

from __future__ import annotations

import stat
from datetime import UTC, datetime
from pathlib import Path

from cabinet.cache import Cached
from server.contract.cabinet import CabinetRosterOut, CabinetStaffEntry

ROSTER = CabinetRosterOut(
    estate="GH",
    staff=[CabinetStaffEntry(id=7, username="engineer", display_name="周工程", role="engineering", pin_hash="x")],
)


def test_a_synced_copy_outlives_a_restart_and_is_private(tmp_path: Path) -> None:
    path = tmp_path / "roster.json"
    at = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)
    Cached(path, CabinetRosterOut).save(ROSTER, '"v1"', at)
    again = Cached(path, CabinetRosterOut)
    assert (again.value, again.etag, again.fetched_at) == (ROSTER, '"v1"', at)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert not path.with_name("roster.json.new").exists()


def test_a_damaged_copy_is_fetched_again(tmp_path: Path, caplog) -> None:
    path = tmp_path / "roster.json"
    path.write_text('{"etag": "\\"v1\\"", "body": {"estate": "GH"', encoding="utf-8")
    damaged = Cached(path, CabinetRosterOut)
    assert damaged.value is None and damaged.etag is None  # no ETag either: the next download is a whole one
    assert "fetched again from the server" in caplog.text
