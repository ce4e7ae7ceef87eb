"""`estate calendar …`: an estate's own working days over China's statutory schedule (server.domain.workdays).

Used for a typhoon closure or a local holiday, and for a year whose statutory holidays the calendar library does
not carry yet: `estate calendar list --year 2027` says which days are only guessed (Monday–Friday)."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer

from server.cli.context import estate_by_code, fail, transaction
from server.contract.fields import parse_day
from server.db.base import utcnow
from server.domain import workdays
from server.domain.actors import cli_actor

calendar_app = typer.Typer(no_args_is_help=True, help="An estate's working days: holidays, closures, make-up days.")
EstateOpt = Annotated[str | None, typer.Option("--estate", help="estate code (needed when there are several)")]


def _day(text: str) -> date:
    try:
        return parse_day(text)
    except ValueError:
        raise fail(f"not a date (YYYY-MM-DD): {text!r}") from None


@calendar_app.command("set")
def set_day(
    day: Annotated[str, typer.Argument(help="YYYY-MM-DD")],
    working: Annotated[bool, typer.Option("--working/--rest", help="a working day, or a day off")],
    name: Annotated[str, typer.Option("--name", help="why, e.g. 元旦 or 台风停工")] = "",
    estate: EstateOpt = None,
) -> None:
    """Say whether the estate works on DAY; it overrides the national schedule for that day."""
    when = _day(day)
    with transaction() as session:
        target = estate_by_code(session, estate)
        workdays.set_day(session, cli_actor("calendar set"), target, when, working=working, name=name, now=utcnow())
    typer.echo(json.dumps({"estate": target.code, "day": when.isoformat(), "working": working, "name": name}))


@calendar_app.command("clear")
def clear_day(day: Annotated[str, typer.Argument(help="YYYY-MM-DD")], estate: EstateOpt = None) -> None:
    """Drop the estate's own answer for DAY: the national schedule applies again."""
    when = _day(day)
    with transaction() as session:
        target = estate_by_code(session, estate)
        if not workdays.clear_day(session, cli_actor("calendar clear"), target, when):
            raise fail(f"{target.code} has no day of its own on {when}", 1)
    typer.echo(json.dumps({"estate": target.code, "day": when.isoformat(), "cleared": True}))


@calendar_app.command("list")
def list_days(
    year: Annotated[int, typer.Option("--year", min=2004, max=2999, help="the year to show")],
    estate: EstateOpt = None,
) -> None:
    """The year's days off (weekends aside) and make-up working days, one JSON object a line, with where each answer
    comes from; then how many days of the year are only guessed."""
    with transaction(reader=True) as session:
        target = estate_by_code(session, estate)
        work = workdays.estate_calendar(session, target)
    day, end = date(year, 1, 1), date(year, 12, 31)
    while day <= end:
        working, weekend = work.is_working_day(day), day.weekday() >= 5
        if working == weekend:  # a weekday off, or a weekend day worked
            source = "estate" if day in work.exceptions else "national" if work.known(day) else "guess"
            name = work.name(day)
            typer.echo(json.dumps({"day": day.isoformat(), "working": working, "source": source, "name": name}))
        day = date.fromordinal(day.toordinal() + 1)
    guessed = work.unknown_days(date(year, 1, 1), end)
    if guessed:
        typer.echo(
            f"{len(guessed)} days of {year} are guessed Monday–Friday: the statutory schedule for {year} is not in "
            f"the calendar library; enter its holidays with `estate calendar set DAY --rest --name …`",
            err=True,
        )
