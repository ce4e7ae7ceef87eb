"""Starting the server: migrations on an empty database, and one clear message for a bad database URL."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import inspect

from server.db.engine import DatabaseConfigError, make_engine
from server.db.migrate import current_revision, head_revision, upgrade


def test_migrations_upgrade_an_empty_database(database_url: str) -> None:
    """The fixture's database was migrated from empty on this backend; check the result, then upgrade again."""
    engine = make_engine(database_url)
    assert current_revision(engine) == head_revision()
    tables = set(inspect(engine).get_table_names())
    assert {"estates", "units", "occupancies", "staff_users", "devices", "audit_log"} <= tables
    upgrade(engine)  # idempotent
    assert current_revision(engine) == head_revision()
    engine.dispose()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("not a url", "invalid database URL"),
        ("mysql://root@localhost/x", "unsupported database 'mysql'"),
        ("postgresql+psycopg://nobody@127.0.0.1:1/estate", "cannot open database"),
    ],
)
def test_bad_database_url_is_one_clear_error(url: str, expected: str) -> None:
    with pytest.raises(DatabaseConfigError) as exc:
        make_engine(url)
    assert expected in str(exc.value)


def test_serve_with_a_bad_database_url_prints_one_line_and_exits(tmp_path: Path) -> None:
    env = os.environ | {
        "ESTATE_DATABASE_URL": "postgresql+psycopg://nobody@127.0.0.1:1/estate",
        "ESTATE_DATA_DIR": str(tmp_path),
    }
    run = subprocess.run(
        [sys.executable, "-m", "estate_cli", "serve", "--port", "1"],
        capture_output=True,
        text=True,
        env=env,
        timeout=60,
        check=False,
    )
    assert run.returncode == 2
    lines = [line for line in run.stderr.splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("error: cannot open database")
    assert "Traceback" not in run.stderr


def test_settings_come_from_a_toml_file_and_the_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from server.config import Settings

    config = tmp_path / "estate.toml"
    config.write_text('port = 8123\ntimezone = "Asia/Hong_Kong"\n', encoding="utf-8")
    monkeypatch.setenv("ESTATE_CONFIG", str(config))
    monkeypatch.setenv("ESTATE_PORT", "9000")
    settings = Settings()
    assert settings.port == 9000 and settings.timezone == "Asia/Hong_Kong"
