"""`estate estates add`: a new estate's zone comes from --timezone, else from ESTATE_TIMEZONE; unknown zones fail."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import typer
from sqlalchemy import select
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from server.cli import admin
from server.config import get_settings
from server.db.models import Estate


@pytest.fixture
def estates_cli(database_url: str, tmp_path: Path) -> Iterator[Callable[..., Result]]:
    app = typer.Typer()
    app.add_typer(admin.estates_app, name="estates")

    def run(*args: str, zone: str | None = None) -> Result:
        env = {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path), "ESTATE_TIMEZONE": zone}
        get_settings.cache_clear()  # the settings are read once per process; each run reads its own environment
        return CliRunner().invoke(app, ["estates", "add", *args], env=env)

    yield run
    get_settings.cache_clear()


def _zone(db: Session, code: str) -> str:
    db.expire_all()
    return db.scalars(select(Estate.timezone).where(Estate.code == code)).one()


def test_timezone_option_sets_the_new_estates_zone(estates_cli: Callable[..., Result], db: Session) -> None:
    result = estates_cli("HY", "海韵", "--timezone", "Asia/Urumqi", zone="Asia/Hong_Kong")
    assert result.exit_code == 0, result.output
    assert _zone(db, "HY") == "Asia/Urumqi"


def test_estate_timezone_setting_is_the_default_zone(estates_cli: Callable[..., Result], db: Session) -> None:
    assert estates_cli("HY", "海韵", zone="Asia/Hong_Kong").exit_code == 0
    assert estates_cli("BY", "碧云轩").exit_code == 0  # neither the option nor the setting: Asia/Shanghai
    assert (_zone(db, "HY"), _zone(db, "BY")) == ("Asia/Hong_Kong", "Asia/Shanghai")


def test_an_unknown_zone_is_a_clear_error_and_adds_nothing(estates_cli: Callable[..., Result], db: Session) -> None:
    result = estates_cli("HY", "海韵", "--timezone", "Asia/Atlantis")
    assert result.exit_code == 1
    assert "unknown time zone 'Asia/Atlantis'" in result.output
    assert db.scalar(select(Estate).where(Estate.code == "HY")) is None
