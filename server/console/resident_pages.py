"""One resident at a time in the console: a new person, their details and occupancies (moving in, and out — the
date R-REL-5 reads for a tenant's move-out slip), their kiosk card read by the desk's reader, their kiosk PIN
(shown once, printable as a PIN slip) and lifting a PIN lock-out."""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.pages import form_action
from server.console.registry_pages import flash_key, view
from server.contract.fields import Text, parse_day
from server.db.base import utcnow
from server.db.models import OccupancyKind, Person
from server.domain import clock, residents
from server.domain.errors import DomainError
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, Now, require
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.registry_view)]
Editor = Annotated[Console, require(Perm.registry_edit)]
Desk = Annotated[Console, require(Perm.residents_credentials)]

DONE = frozenset(
    {"person_created", "person_saved", "occupancy_added", "occupancy_saved", "occupancy_ended", "card_set", "unlocked"}
)
Name = Annotated[Text, Form(max_length=60)]
Phone = Annotated[Text, Form(max_length=20)]
IdTail = Annotated[Text, Form(max_length=4)]
UnitCode = Annotated[Text, Form(max_length=16)]
Kind = Annotated[Text, Form(max_length=10)]
Day = Annotated[Text, Form(max_length=10)]


def _day(text: str, *, required: bool) -> date | None:
    if not text.strip():
        if required:
            raise DomainError("请填写日期", "a date is required", code="missing_date")
        return None
    try:
        return parse_day(text.strip())
    except ValueError:
        raise DomainError(
            f"日期 {text!r} 不对，应如 2026-12-01", f"{text!r} is not a date like 2026-12-01", code="bad_date"
        ) from None


def _kind(text: str) -> OccupancyKind:
    if text not in OccupancyKind.__members__:
        raise DomainError("请选择业主、租户或家属", "pick owner, tenant or family", code="bad_kind")
    return OccupancyKind(text)


def _person_page(
    request: Request, db: Session, console: Console, person: Person, *, status: int = 200, **context: Any
) -> Response:
    today = clock.today(console.require_estate())
    occupancies = sorted(person.occupancies, key=lambda o: o.starts_on, reverse=True)
    cred = residents.credential(db, person)
    response = view(
        request,
        console,
        "person.html",
        status=status,
        person=person,
        occupancies=occupancies,
        today=today,
        cred=cred,
        locked=bool(cred and cred.locked_until and cred.locked_until > utcnow()),
        kinds=list(OccupancyKind),
        **context,
    )
    response.headers["Cache-Control"] = "no-store"  # a new PIN is on this page once, and only here
    return response


def _again(request: Request, db: Session, console: Console, person_id: int, **context: Any) -> Any:
    """The person's page again with a refusal, as the record stands (read anew: the refusal changed nothing)."""

    def page(status: int, error: str) -> Response:
        db.expire_all()
        person = residents.get_person(db, console.require_estate(), person_id)
        return _person_page(request, db, console, person, status=status, error=error, **context)

    return page


@router.get("/people/new")
def new_person(request: Request, console: Editor) -> Response:
    console.require_estate()
    return view(request, console, "person_new.html", v={}, kinds=list(OccupancyKind))


@router.post("/people/new")
def create_person(
    request: Request,
    console: Editor,
    db: DbSession,
    name: Name = "",
    phone: Phone = "",
    id_tail: IdTail = "",
    unit: UnitCode = "",
    kind: Kind = "owner",
    starts_on: Day = "",
) -> Response:
    """A person, and with a unit given, their occupancy of it from `starts_on`."""
    estate = console.require_estate()
    values = {"name": name, "phone": phone, "id_tail": id_tail, "unit": unit, "kind": kind, "starts_on": starts_on}

    def create() -> Response:
        person = residents.create_person(db, console.actor, estate, residents.PersonDetails(name, phone, id_tail))
        if unit.strip():
            residents.move_in(db, console.actor, estate, person, unit, _kind(kind), _day(starts_on, required=True))
        return RedirectResponse(f"/console/people/{person.id}?done=person_created", status_code=303)

    def again(status: int, error: str) -> Response:
        return view(
            request, console, "person_new.html", status=status, error=error, v=values, kinds=list(OccupancyKind)
        )

    return form_action(request, db, create, again)


@router.get("/people/{person_id}")
def person_detail(request: Request, console: Viewer, db: DbSession, person_id: RowId, done: Text = "") -> Response:
    person = residents.get_person(db, console.require_estate(), person_id)
    return _person_page(request, db, console, person, flash=flash_key(done, DONE))


@router.post("/people/{person_id}")
def save_person(
    request: Request,
    console: Editor,
    db: DbSession,
    person_id: RowId,
    name: Name = "",
    phone: Phone = "",
    id_tail: IdTail = "",
) -> Response:
    person = residents.get_person(db, console.require_estate(), person_id)

    def save() -> Response:
        residents.update_person(db, console.actor, person, residents.PersonDetails(name, phone, id_tail))
        return RedirectResponse(f"/console/people/{person.id}?done=person_saved", status_code=303)

    return form_action(request, db, save, _again(request, db, console, person_id))


@router.post("/people/{person_id}/occupancies")
def add_occupancy(
    request: Request,
    console: Editor,
    db: DbSession,
    person_id: RowId,
    unit: UnitCode = "",
    kind: Kind = "",
    starts_on: Day = "",
    ends_on: Day = "",
) -> Response:
    estate = console.require_estate()
    person = residents.get_person(db, estate, person_id)

    def add() -> Response:
        start, end = _day(starts_on, required=True), _day(ends_on, required=False)
        assert start is not None
        residents.move_in(db, console.actor, estate, person, unit, _kind(kind), start, end)
        return RedirectResponse(f"/console/people/{person.id}?done=occupancy_added", status_code=303)

    return form_action(request, db, add, _again(request, db, console, person_id))


@router.post("/occupancies/{occupancy_id}")
def save_occupancy(
    request: Request,
    console: Editor,
    db: DbSession,
    occupancy_id: RowId,
    kind: Kind = "",
    starts_on: Day = "",
    ends_on: Day = "",
) -> Response:
    occupancy = residents.get_occupancy(db, console.require_estate(), occupancy_id)
    person_id = occupancy.person_id

    def save() -> Response:
        start = _day(starts_on, required=True)
        assert start is not None
        residents.update_occupancy(db, console.actor, occupancy, _kind(kind), start, _day(ends_on, required=False))
        return RedirectResponse(f"/console/people/{person_id}?done=occupancy_saved", status_code=303)

    return form_action(request, db, save, _again(request, db, console, person_id))


@router.post("/occupancies/{occupancy_id}/end")
def end_occupancy(request: Request, console: Editor, db: DbSession, occupancy_id: RowId, ends_on: Day = "") -> Response:
    """The move-out date (R-REL-5)."""
    occupancy = residents.get_occupancy(db, console.require_estate(), occupancy_id)
    person_id = occupancy.person_id

    def end() -> Response:
        day = _day(ends_on, required=True)
        assert day is not None
        residents.end_occupancy(db, console.actor, occupancy, day)
        return RedirectResponse(f"/console/people/{person_id}?done=occupancy_ended", status_code=303)

    return form_action(request, db, end, _again(request, db, console, person_id))


@router.post("/people/{person_id}/card")
def set_card(
    request: Request,
    console: Desk,
    db: DbSession,
    person_id: RowId,
    card: Annotated[Text, Form(max_length=40)] = "",
) -> Response:
    """The card number as the desk's reader typed it (keyboard wedge), or as staff typed it."""
    person = residents.get_person(db, console.require_estate(), person_id)

    def issue() -> Response:
        residents.issue_card(db, console.actor, person, card)
        return RedirectResponse(f"/console/people/{person.id}?done=card_set", status_code=303)

    return form_action(request, db, issue, _again(request, db, console, person_id))


@router.post("/people/{person_id}/pin")
def set_pin(
    request: Request,
    console: Desk,
    db: DbSession,
    now: Now,
    person_id: RowId,
    pin: Annotated[Text, Form(max_length=8)] = "",
) -> Response:
    """A typed PIN, or a new random one when none is typed: shown on the answer once, never again."""
    person = residents.get_person(db, console.require_estate(), person_id)

    def save() -> Response:
        chosen = residents.set_pin(db, console.actor, person, pin.strip() or None)
        return _person_page(request, db, console, person, new_pin=chosen, pin_at=clock.local_text(console.estate, now))

    return form_action(request, db, save, _again(request, db, console, person_id))


@router.post("/people/{person_id}/unlock")
def unlock(request: Request, console: Desk, db: DbSession, person_id: RowId) -> Response:
    person = residents.get_person(db, console.require_estate(), person_id)

    def lift() -> Response:
        residents.unlock(db, console.actor, person)
        return RedirectResponse(f"/console/people/{person.id}?done=unlocked", status_code=303)

    return form_action(request, db, lift, _again(request, db, console, person_id))
