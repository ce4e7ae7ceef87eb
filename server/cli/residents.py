"""`estate residents …` for one resident at a time: add and edit a person, move in and out (R-REL-5 reads the
move-out), issue or replace a kiosk card, set or reset a kiosk PIN (printed once), unlock a locked PIN. Each
command prints one JSON object on stdout."""

from __future__ import annotations

import json
from datetime import date
from typing import Annotated

import typer
from sqlalchemy.orm import Session

from server.cli.admin import EstateOpt
from server.cli.context import estate_by_code, fail, transaction
from server.db.models import OccupancyKind, Person
from server.domain import residents
from server.domain.actors import cli_actor

PersonId = Annotated[int, typer.Argument(help="The person's id (`estate residents show` or the console's page).")]
Day = Annotated[str, typer.Option(help="A date, YYYY-MM-DD.")]


def _day(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise fail(f"{text!r} is not a date like 2026-12-01") from None


def _person(session: Session, estate: EstateOpt, person_id: int) -> Person:
    return residents.get_person(session, estate_by_code(session, estate), person_id)


def _echo(**fields: object) -> None:
    typer.echo(json.dumps(fields, ensure_ascii=False, default=str))


def add(
    name: str,
    phone: Annotated[str, typer.Option()] = "",
    id_tail: Annotated[str, typer.Option("--id-tail", help="The ID card's last four characters.")] = "",
    unit: Annotated[str, typer.Option(help="Also record a move-in to this unit, e.g. 5-8B.")] = "",
    kind: Annotated[OccupancyKind, typer.Option()] = OccupancyKind.owner,
    starts_on: Annotated[str, typer.Option("--from", help="Move-in date, YYYY-MM-DD (with --unit).")] = "",
    estate: EstateOpt = None,
) -> None:
    """Add a person, and with --unit their occupancy from --from."""
    with transaction() as session:
        target = estate_by_code(session, estate)
        actor = cli_actor("residents add")
        person = residents.create_person(session, actor, target, residents.PersonDetails(name, phone, id_tail))
        occupancy = None
        if unit:
            if not starts_on:
                raise fail("--unit needs --from (the move-in date)")
            occupancy = residents.move_in(session, actor, target, person, unit, kind, _day(starts_on))
        session.flush()
        _echo(person=person.id, name=person.name, occupancy=occupancy.id if occupancy else None)


def edit(
    person_id: PersonId,
    name: Annotated[str | None, typer.Option()] = None,
    phone: Annotated[str | None, typer.Option()] = None,
    id_tail: Annotated[str | None, typer.Option("--id-tail")] = None,
    estate: EstateOpt = None,
) -> None:
    """Change a person's name, phone or ID tail (what is not given stays)."""
    with transaction() as session:
        person = _person(session, estate, person_id)
        details = residents.PersonDetails(
            name if name is not None else person.name,
            phone if phone is not None else person.phone,
            id_tail if id_tail is not None else person.id_tail,
        )
        residents.update_person(session, cli_actor("residents edit"), person, details)
        _echo(person=person.id, name=person.name, phone=person.phone, id_tail=person.id_tail)


def show(person_id: PersonId, estate: EstateOpt = None) -> None:
    """A person, their occupancies and whether they have a card and a PIN (never the PIN itself)."""
    with transaction(reader=True) as session:
        person = _person(session, estate, person_id)
        cred = residents.credential(session, person)
        _echo(
            person=person.id,
            name=person.name,
            phone=person.phone,
            card=bool(cred and cred.card_digest),
            pin=bool(cred and cred.pin_hash),
            locked_until=cred.locked_until if cred else None,
            occupancies=[
                {"id": o.id, "unit": o.unit.code, "kind": o.kind.value, "from": o.starts_on, "to": o.ends_on}
                for o in person.occupancies
            ],
        )


def move_in(
    person_id: PersonId,
    unit: str,
    kind: Annotated[OccupancyKind, typer.Option()],
    starts_on: Annotated[str, typer.Option("--from", help="Move-in date, YYYY-MM-DD.")],
    estate: EstateOpt = None,
) -> None:
    """Record that the person owns or lives in UNIT from --from."""
    with transaction() as session:
        person = _person(session, estate, person_id)
        target = estate_by_code(session, estate)
        occupancy = residents.move_in(
            session, cli_actor("residents move-in"), target, person, unit, kind, _day(starts_on)
        )
        session.flush()
        _echo(occupancy=occupancy.id, unit=occupancy.unit.code, kind=kind.value, starts_on=occupancy.starts_on)


def move_out(
    occupancy_id: Annotated[int, typer.Argument(help="The occupancy's id (`estate residents show`).")],
    ends_on: Annotated[str, typer.Option("--on", help="The move-out date, YYYY-MM-DD.")],
    estate: EstateOpt = None,
) -> None:
    """End an occupancy on its move-out date (a tenant's move-out slip then needs the arrears check, R-REL-5)."""
    with transaction() as session:
        occupancy = residents.get_occupancy(session, estate_by_code(session, estate), occupancy_id)
        residents.end_occupancy(session, cli_actor("residents move-out"), occupancy, _day(ends_on))
        _echo(occupancy=occupancy.id, unit=occupancy.unit.code, ends_on=occupancy.ends_on)


def card(person_id: PersonId, number: str, estate: EstateOpt = None) -> None:
    """Issue or replace the person's kiosk card; the previous card stops working."""
    with transaction() as session:
        person = _person(session, estate, person_id)
        residents.issue_card(session, cli_actor("residents card"), person, number)
        _echo(person=person.id, card=True)


def pin(
    person_id: PersonId,
    value: Annotated[
        str | None, typer.Option("--pin", help="6–8 digits; omit for a random 6-digit PIN, printed once.")
    ] = None,
    estate: EstateOpt = None,
) -> None:
    """Set or reset the person's kiosk PIN (this also lifts a lock-out). The PIN is printed this once only."""
    with transaction() as session:
        person = _person(session, estate, person_id)
        chosen = residents.set_pin(session, cli_actor("residents pin"), person, value)
    _echo(person=person_id, pin=chosen)


def unlock(person_id: PersonId, estate: EstateOpt = None) -> None:
    """Lift the lock-out of a PIN after too many wrong tries."""
    with transaction() as session:
        person = _person(session, estate, person_id)
        residents.unlock(session, cli_actor("residents unlock"), person)
        _echo(person=person.id, unlocked=True)


def mount(app: typer.Typer) -> None:
    """Add these commands to `estate residents`."""
    for name, command in (
        ("add", add),
        ("edit", edit),
        ("show", show),
        ("move-in", move_in),
        ("move-out", move_out),
        ("card", card),
        ("pin", pin),
        ("unlock", unlock),
    ):
        app.command(name)(command)
