"""`estate calendar`: an estate's own days over the national schedule, and a warning for an unpublished year."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from datetime import date
from pathlib import Path

import pytest
import typer
from sqlalchemy.orm import Session
from typer.testing import CliRunner, Result

from server.cli import calendar
from server.config import get_settings
from server.db.models import CalendarDay, Estate


@pytest.fixture
def calendar_cli(database_url: str, tmp_path: Path, estate: Estate) -> Iterator[Callable[..., Result]]:
    app = typer.Typer()
    app.add_typer(calendar.calendar_app, name="calendar")

    def run(*args: str) -> Result:
        get_settings.cache_clear()
        env = {"ESTATE_DATABASE_URL": database_url, "ESTATE_DATA_DIR": str(tmp_path)}
        return CliRunner().invoke(app, ["calendar", *args], env=env)

    yield run
    get_settings.cache_clear()


def lines(result: Result) -> list[dict[str, object]]:
    return [json.loads(line) for line in result.stdout.splitlines()]


def test_national_days_are_listed_with_their_source(calendar_cli: Callable[..., Result]) -> None:
    result = calendar_cli("list", "--year", "2026")
    assert result.exit_code == 0, result.output
    days = {d["day"]: d for d in lines(result)}
    assert days["2026-10-01"] == {"day": "2026-10-01", "working": False, "source": "national", "name": "National Day"}
    assert days["2026-10-10"]["working"] is True  # the make-up Saturday
    assert "guessed" not in result.stderr


def test_a_year_not_yet_published_is_flagged_and_can_be_entered(
    calendar_cli: Callable[..., Result], db: Session, estate: Estate
) -> None:
    listed = calendar_cli("list", "--year", "2027")
    assert listed.exit_code == 0 and "365 days of 2027 are guessed" in listed.stderr
    entered = calendar_cli("set", "2027-01-01", "--rest", "--name", "元旦")
    assert entered.exit_code == 0, entered.output
    db.expire_all()
    assert db.get_one(CalendarDay, (estate.id, date(2027, 1, 1))).name == "元旦"
    again = calendar_cli("list", "--year", "2027")
    assert {"day": "2027-01-01", "working": False, "source": "estate", "name": "元旦"} in lines(again)
    assert "364 days of 2027 are guessed" in again.stderr


def test_bad_dates_and_clearing_nothing_are_clear_errors(calendar_cli: Callable[..., Result]) -> None:
    bad = calendar_cli("set", "2027-02-30", "--rest")
    assert bad.exit_code == 2 and "not a date" in bad.stderr
    nothing = calendar_cli("clear", "2027-03-01")
    assert nothing.exit_code == 1 and "no day of its own" in nothing.stderr
