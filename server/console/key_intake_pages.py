"""Taking keys over and copying them, in the console: the contractor's handover record (R-KEY-1), the sets and keys
registered against it (R-KEY-4, 6, 10), the 100% acceptance test (R-KEY-2), the spot check the system draws (R-KEY-3),
storing each accepted set in the cabinet, and duplication requests the general manager decides (R-KEY-11)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.datastructures import FormData

from server.console.key_pages import DONE, key_view, local_input, local_time, row_id
from server.console.pages import form_action
from server.console.registry_pages import flash_key
from server.contract.fields import Text, check_text
from server.db.models import Key, KeyGroup, KeyIntake, KeyKind, SetCopy
from server.domain.errors import DomainError, Forbidden
from server.domain.keys import duplication, intake, register, views
from server.domain.keys.register import KeySpec
from server.domain.permissions import Perm
from server.web.deps import Console, ConsoleForm, DbSession, Now, require
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.keys_view)]
Keeper = Annotated[Console, require(Perm.keys_manage)]

KEY_ROWS = 6  # key lines of the set form
PLANT_ROWS = 3  # key lines of each plant-room set (in use and spare)


def _field(form: FormData | None, name: str, limit: int) -> str:
    """A text field of a form read by hand: no control characters, at most `limit` characters."""
    value = form.get(name) if form is not None else None
    if not isinstance(value, str):
        return ""
    try:
        check_text(value)
    except ValueError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise DomainError(f"{name}: {zh}", f"{name}: {en or zh}", code="bad_text") from None
    if len(value.strip()) > limit:
        raise DomainError(f"{name} 最多 {limit} 个字符", f"{name} takes at most {limit} characters", code="too_long")
    return value.strip()


def _texts(form: FormData | None) -> dict[str, str]:
    """What was typed, to show the form again after a refusal."""
    if form is None:
        return {}
    return {k: v for k, v in form.items() if isinstance(v, str) and k != "csrf_token" and len(v) <= 200}


# --- intakes --------------------------------------------------------------------------------------------------------


def _intakes_page(
    request: Request, db: Session, console: Console, now: datetime, *, status: int = 200, **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    context.setdefault("v", {"handed_at": local_input(estate, now.replace(microsecond=0))})
    return key_view(
        request,
        console,
        "keys/intakes.html",
        status=status,
        intakes=views.intakes(db, estate),
        can_manage=console.can(Perm.keys_manage),
        **context,
    )


@router.get("/keys/intakes")
def intakes(request: Request, console: Viewer, db: DbSession, now: Now) -> Response:
    return _intakes_page(request, db, console, now)


@router.post("/keys/intakes")
def record_handover(
    request: Request,
    console: Keeper,
    db: DbSession,
    now: Now,
    contractor: Annotated[Text, Form(max_length=100)] = "",
    handed_by: Annotated[Text, Form(max_length=60)] = "",
    declared_keys: Annotated[Text, Form(max_length=6)] = "",
    handed_at: Annotated[Text, Form(max_length=20)] = "",
    note: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    """R-KEY-1: the handover record — which contractor's person handed how many keys to whom, when."""
    estate = console.require_estate()

    def receive() -> Response:
        count = declared_keys.strip()
        if not (count.isascii() and count.isdigit()) or not 1 <= int(count) <= 10_000:
            raise DomainError(
                f"移交数量应为 1–10000 的数字：{declared_keys}",
                f"the number of keys handed over is 1–10000: {declared_keys}",
                code="bad_count",
            )
        at = local_time(estate, handed_at, "移交时间", "the handover time") or now
        found = intake.open_intake(
            db,
            console.actor,
            estate,
            contractor=contractor,
            handed_by=handed_by,
            declared_keys=int(count),
            by=console.user,
            at=at,
            note=note.strip(),
        )
        return RedirectResponse(f"/console/keys/intakes/{found.id}?done=intake_recorded", status_code=303)

    def form_again(status: int, error: str) -> Response:
        v = {"contractor": contractor, "handed_by": handed_by, "declared_keys": declared_keys}
        return _intakes_page(request, db, console, now, status=status, error=error, v=v | {"handed_at": handed_at})

    return form_action(request, db, receive, form_again)


def _intake_page(
    request: Request, db: Session, console: Console, intake_id: int, *, status: int = 200, **context: Any
) -> HTMLResponse:
    detail = views.intake_detail(db, console.require_estate(), intake_id)
    return key_view(
        request,
        console,
        "keys/intake.html",
        status=status,
        d=detail,
        can_manage=console.can(Perm.keys_manage),
        groups=[KeyGroup.unit, KeyGroup.rectification, KeyGroup.public_door],
        key_rows=range(1, KEY_ROWS + 1),
        plant_rows=range(1, PLANT_ROWS + 1),
        share=f"{intake.SPOT_SHARE:.0%}",
        **context,
    )


@router.get("/keys/intakes/{intake_id}")
def intake_page(request: Request, console: Viewer, db: DbSession, intake_id: RowId, done: Text = "") -> Response:
    return _intake_page(request, db, console, intake_id, flash=flash_key(done, DONE))


def _intake_action(
    request: Request, db: Session, console: Console, intake_id: int, form: FormData | None, act: Any
) -> Response:
    """Run `act(batch)` on the intake and go back to its page with `done=` what `act` returns; a refusal shows the
    page again with the message and what was typed, having changed nothing."""
    batch = intake.get_intake(db, console.require_estate(), intake_id)

    def run() -> Response:
        done = act(batch)
        return RedirectResponse(f"/console/keys/intakes/{intake_id}?done={done}", status_code=303)

    def form_again(status: int, error: str) -> Response:
        return _intake_page(request, db, console, intake_id, status=status, error=error, v=_texts(form))

    return form_action(request, db, run, form_again)


def _specs(form: FormData | None, prefix: str, rows: int) -> list[KeySpec]:
    """The key lines of a set form: a label (the set's label when left empty), the tag read from the key, and
    whether it is a TM electronic key."""
    specs = []
    for n in range(1, rows + 1):
        label, tag = _field(form, f"{prefix}label_{n}", 60), _field(form, f"{prefix}tag_{n}", 40)
        if not tag:
            if label:
                raise DomainError(f"第 {n} 行钥匙没有标签号", f"key line {n} has no tag", code="missing_fields")
            continue
        tm = form is not None and form.get(f"{prefix}tm_{n}") in ("on", "true", "1")
        specs.append(KeySpec(label, tag, KeyKind.tm if tm else KeyKind.mechanical))
    return specs


def _floor(text: str) -> int | None:
    if not text:
        return None
    value = text.lstrip("-")
    if not (value.isascii() and value.isdigit()) or not -9 <= int(text) <= 300:
        raise DomainError(f"楼层应为数字：{text}", f"the floor is a number: {text}", code="bad_floor")
    return int(text)


@router.post("/keys/intakes/{intake_id}/sets")
def register_set(request: Request, console: Keeper, db: DbSession, intake_id: RowId, form: ConsoleForm) -> Response:
    """One set, ringed together: a unit's keys, a unit's rectification keys, or one entrance floor's public door
    and window keys (R-KEY-4, 6)."""

    def add(batch: KeyIntake) -> str:
        group = _field(form, "group", 20)
        if group not in (KeyGroup.unit, KeyGroup.rectification, KeyGroup.public_door):
            raise DomainError("请选择钥匙类别", "choose what the set opens", code="missing_fields")
        register.register_set(
            db,
            console.actor,
            batch,
            KeyGroup(group),
            _specs(form, "", KEY_ROWS),
            unit_code=_field(form, "unit", 16),
            building=_field(form, "building", 8),
            entrance=_field(form, "entrance", 20),
            floor=_floor(_field(form, "floor", 4)),
        )
        return "set_registered"

    return _intake_action(request, db, console, intake_id, form, add)


@router.post("/keys/intakes/{intake_id}/plant-room")
def register_plant_room(
    request: Request, console: Keeper, db: DbSession, intake_id: RowId, form: ConsoleForm
) -> Response:
    """R-KEY-10: a plant room's keys are two sets, one in use and one spare, both held by engineering: registered
    together, or not at all."""

    def add(batch: KeyIntake) -> str:
        equipment, building = _field(form, "equipment", 60), _field(form, "building", 8)
        in_use, spare = _specs(form, "use_", PLANT_ROWS), _specs(form, "spare_", PLANT_ROWS)
        if not in_use or not spare:
            raise DomainError(
                "设备房钥匙须登记两套：在用一套、备用一套",
                "a plant room's keys are registered as two sets: one in use and one spare",
                code="plant_room_sets",
            )
        for copy, keys in ((SetCopy.in_use, in_use), (SetCopy.spare, spare)):
            register.register_set(
                db, console.actor, batch, KeyGroup.plant_room, keys, equipment=equipment, building=building, copy=copy
            )
        return "set_registered"

    return _intake_action(request, db, console, intake_id, form, add)


def _results(form: FormData | None, keys: list[Key]) -> dict[int, bool]:
    """Each key's result as ticked, pass or fail; every key must have one (R-KEY-2, 3), and the page names those
    left unanswered by their labels."""
    results, unanswered = {}, []
    for key in keys:
        answer = form.get(f"result_{key.id}") if form is not None else None
        if answer in ("pass", "fail"):
            results[key.id] = answer == "pass"
        else:
            unanswered.append(key.label)
    if unanswered:
        raise DomainError(
            f"每一把钥匙都要试用并记录结果，还没有结果：{'、'.join(unanswered)}",
            f"every key must be tried and its result recorded; no result yet for: {', '.join(unanswered)}",
            code="checks_incomplete",
        )
    return results


@router.post("/keys/intakes/{intake_id}/test")
def record_acceptance_test(
    request: Request, console: Keeper, db: DbSession, now: Now, intake_id: RowId, form: ConsoleForm
) -> Response:
    """R-KEY-2: every key tried (100%) and counted against the handover record."""

    def test(batch: KeyIntake) -> str:
        results = _results(form, intake.intake_keys(db, batch))
        intake.record_acceptance_test(db, console.actor, batch, results, by=console.user, at=now)
        return "acceptance_recorded"

    return _intake_action(request, db, console, intake_id, form, test)


@router.post("/keys/intakes/{intake_id}/draw")
def draw_spot_check(request: Request, console: Keeper, db: DbSession, now: Now, intake_id: RowId) -> Response:
    """R-KEY-3: the system draws at least 10% of the keys at random."""

    def draw(batch: KeyIntake) -> str:
        intake.draw_spot_check(db, console.actor, batch, by=console.user, at=now)
        return "spot_drawn"

    return _intake_action(request, db, console, intake_id, None, draw)


@router.post("/keys/intakes/{intake_id}/spot-check")
def record_spot_check(
    request: Request, console: Keeper, db: DbSession, now: Now, intake_id: RowId, form: ConsoleForm
) -> Response:
    """R-KEY-3: the drawn keys' results; the batch is accepted only when every one passed."""

    def check(batch: KeyIntake) -> str:
        results = _results(form, intake.spot_check_keys(db, batch))
        intake.record_spot_check(db, console.actor, batch, results, by=console.user, at=now)
        return "spot_recorded"

    return _intake_action(request, db, console, intake_id, form, check)


@router.post("/keys/intakes/{intake_id}/retest")
def retest(request: Request, console: Keeper, db: DbSession, now: Now, intake_id: RowId, form: ConsoleForm) -> Response:
    """A refused batch the contractor brought back is tested again from the start."""

    def again(batch: KeyIntake) -> str:
        note = _field(form, "note", 200)
        if not note:
            raise DomainError("请写明复验原因", "say why the batch is tested again", code="missing_fields")
        intake.retest(db, console.actor, batch, by=console.user, at=now, note=note)
        return "intake_retested"

    return _intake_action(request, db, console, intake_id, form, again)


@router.post("/keys/sets/{set_id}/store")
def store_set(request: Request, console: Keeper, db: DbSession, now: Now, set_id: RowId) -> Response:
    """R-KEY-4: an accepted set goes into the cabinet, every key at its home slot, one set at a time."""
    key_set = views.get_set(db, console.require_estate(), set_id)

    def store(_batch: KeyIntake) -> str:
        register.store_set(db, console.actor, key_set, now)
        return "set_stored"

    return _intake_action(request, db, console, key_set.intake_id, None, store)


# --- duplication requests (R-KEY-11) --------------------------------------------------------------------------------


def _duplications_page(
    request: Request, db: Session, console: Console, *, status: int = 200, waiting: str = "", **context: Any
) -> HTMLResponse:
    estate = console.require_estate()
    waiting = waiting if waiting in views.WAITING else ""
    return key_view(
        request,
        console,
        "keys/duplications.html",
        status=status,
        rows=views.duplications(db, estate, waiting),
        waiting=waiting,
        keys=views.duplicable_keys(db, estate),
        can_request=console.can(Perm.keys_manage),
        can_decide={
            True: console.can(Perm.keys_approve_duplication),  # a public door or plant-room key's copy
            False: console.can(Perm.keys_manage),  # a unit's key
        },
        **context,
    )


@router.get("/keys/duplications")
def duplications(
    request: Request,
    console: Viewer,
    db: DbSession,
    done: Text = "",
    waiting: Annotated[Text, Query(max_length=20)] = "",
) -> Response:
    """Requests to copy a key; `waiting`: only those still waiting for the general manager (public door and
    plant-room keys, R-KEY-11) or for the key keeper (a unit's keys)."""
    return _duplications_page(request, db, console, flash=flash_key(done, DONE), waiting=waiting)


@router.post("/keys/duplications")
def request_duplication(
    request: Request,
    console: Keeper,
    db: DbSession,
    now: Now,
    key_id: Annotated[Text, Form(max_length=10)] = "",
    reason: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    estate = console.require_estate()

    def ask() -> Response:
        key = row_id(key_id, "要配的钥匙", "key to copy")
        duplication.request_duplication(db, console.actor, estate, key, reason, by=console.user, now=now)
        return RedirectResponse("/console/keys/duplications?done=duplication_requested", status_code=303)

    def form_again(status: int, error: str) -> Response:
        return _duplications_page(
            request, db, console, status=status, error=error, v={"key_id": key_id, "reason": reason}
        )

    return form_action(request, db, ask, form_again)


@router.post("/keys/duplications/{request_id}/decide")
def decide_duplication(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    request_id: RowId,
    decision: Annotated[Text, Form(max_length=10)] = "",
    note: Annotated[Text, Form(max_length=200)] = "",
) -> Response:
    """R-KEY-11: a public door or plant-room key is copied only with the general manager's approval; a unit's key
    with the key keeper's. The role is checked before the request's state, so a refusal never depends on it."""
    estate = console.require_estate()
    needed = views.decision_perm(db, estate, request_id)
    if not console.can(needed):
        if needed == Perm.keys_approve_duplication:
            raise Forbidden(
                "公共门窗和设备房钥匙须经总经理同意才能配制，您的角色不能批准",
                "public door and plant-room keys are copied only with the general manager's approval: your role "
                "may not decide this request",
                code="needs_general_manager",
            )
        raise Forbidden("您的角色无权进行此操作", "your role may not do this", code="permission_denied")
    found = duplication.get_request(db, estate, request_id)

    def decide() -> Response:
        if decision not in ("approve", "refuse"):
            raise DomainError("请选择批准或不批准", "approve or refuse the request", code="missing_fields")
        duplication.decide(
            db, console.actor, found, approve=decision == "approve", by=console.user, now=now, note=note.strip()
        )
        return RedirectResponse("/console/keys/duplications?done=duplication_decided", status_code=303)

    return form_action(
        request, db, decide, lambda status, error: _duplications_page(request, db, console, status=status, error=error)
    )
