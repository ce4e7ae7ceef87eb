"""Vacant units in the console (R-VAC-1…6): the vacant units and the takeover inspections; a takeover's page with its
items, the developer's agreements and both signatures on the pad, printable as 《物业接管验收表》; a vacant unit's
page with its patrols (findings to the developer or to a repair order), its developer repairs with their steps,
cleaning rounds and sales-viewing key loans; the monthly statistics 《空置房统计表》 as a page, PDF and XLSX."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.console import lifecycle_forms as paper
from server.console.key_pages import pdf_file, row_id
from server.console.pages import form_action, language
from server.console.registers import form_file, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, flash_key, view
from server.contract.fields import Text
from server.db.models import Estate, StaffUser, Unit
from server.db.models.lifecycle import TakeoverCategory, TakeoverInspection
from server.domain import clock
from server.domain.errors import NotFound
from server.domain.keys.views import estate_staff, staff_member
from server.domain.lifecycle import developer_repairs, statistics, vacancy
from server.domain.lifecycle.vacancy import Finding, ItemResult, TakeoverSigning
from server.domain.permissions import Perm
from server.domain.service import signatures
from server.domain.service.intake import unit_of
from server.web.deps import Console, DbSession, Now, require
from server.web.limits import SIGNATURE_BODY
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.vacancy_view)]
Inspector = Annotated[Console, require(Perm.vacancy_inspect)]
Cleaner = Annotated[Console, require(Perm.vacancy_clean)]
Lender = Annotated[Console, require(Perm.keys_lend)]

Short = Annotated[Text, Form(max_length=40)]
Line = Annotated[Text, Form(max_length=200)]
Signature = Annotated[Text, Form(max_length=signatures.MAX_DATA_URL)]
Codes = Annotated[list[Annotated[Text, Form(max_length=20)]], Form(max_length=20)]
Month = Annotated[Text, Query(max_length=7)]

DONE = frozenset(
    "vacancy_" + d for d in ("opened", "recorded", "signed", "patrolled", "cleaned", "lent", *developer_repairs.STEPS)
)


def _unit_by_code(db: Session, estate: Estate, code: str) -> Unit:
    found = db.scalar(select(Unit).where(Unit.estate_id == estate.id, Unit.code == code.strip().upper()))
    if found is None:
        raise NotFound(f"本小区没有房号 {code}", f"no unit {code} in this estate", code="unit_not_found")
    return found


# --- vacant units and takeovers ---------------------------------------------------------------------------------------


def _index(request: Request, db: Session, console: Console, *, status: int = 200, **context: Any) -> Response:
    estate = console.require_estate()
    units = {u.id: u for u in db.scalars(select(Unit).where(Unit.estate_id == estate.id))}
    return view(
        request,
        console,
        "lifecycle/vacant_index.html",
        status=status,
        vacant=vacancy.vacant_units(db, estate),
        takeovers=vacancy.takeovers(db, estate),
        units=units,
        can_inspect=console.can(Perm.vacancy_inspect),
        **context,
    )


@router.get("/vacant")
def index(request: Request, console: Viewer, db: DbSession, done: Text = "") -> Response:
    return _index(request, db, console, flash=flash_key(done, DONE), v={})


@router.post("/vacant/takeovers")
def open_takeover(
    request: Request,
    console: Inspector,
    db: DbSession,
    now: Now,
    unit: Annotated[Text, Form(max_length=16)] = "",
    developer: Annotated[Text, Form(max_length=100)] = "",
    developer_rep: Annotated[Text, Form(max_length=60)] = "",
) -> Response:
    estate = console.require_estate()

    def act() -> Response:
        form = vacancy.open_takeover(
            db,
            console.actor,
            estate,
            unit_id=_unit_by_code(db, estate, unit).id,
            developer=developer,
            developer_rep=developer_rep,
            by=console.user,
            now=now,
        )
        return RedirectResponse(f"/console/vacant/takeovers/{form.id}?done=vacancy_opened", status_code=303)

    v = {"unit": unit, "developer": developer, "developer_rep": developer_rep}
    return form_action(
        request, db, act, lambda status, error: _index(request, db, console, status=status, error=error, v=v)
    )


def _takeover_page(
    request: Request, db: Session, console: Console, takeover_id: int, *, status: int = 200, **context: Any
) -> Response:
    form = vacancy.get_takeover(db, console.require_estate(), takeover_id)
    return view(
        request,
        console,
        "lifecycle/takeover.html",
        status=status,
        form=form,
        unit=db.get_one(Unit, form.unit_id),
        categories=vacancy.CATEGORIES,
        history=vacancy.takeover_history(db, form),
        can_inspect=console.can(Perm.vacancy_inspect),
        **context,
    )


@router.get("/vacant/takeovers/{takeover_id}")
def takeover_page(request: Request, console: Viewer, db: DbSession, takeover_id: RowId, done: Text = "") -> Response:
    return _takeover_page(request, db, console, takeover_id, flash=flash_key(done, DONE))


@router.get("/vacant/takeovers/{takeover_id}/form.{fmt}")
def takeover_form(
    request: Request, console: Viewer, db: DbSession, takeover_id: RowId, fmt: Literal["pdf", "xlsx"]
) -> Response:
    """《物业接管验收表》 with its items and both signatures."""
    estate = console.require_estate()
    form = vacancy.get_takeover(db, estate, takeover_id)
    lang = language(request)
    signed = clock.local_text(estate, form.signed_at) if form.signed_at else ""
    return form_file(
        fmt,
        paper.TAKEOVER_FORM,
        paper.takeover_values(db, estate, form, lang),
        f"takeover-{form.number}",
        lang=lang,
        heading=estate.name,
        signatures={"工程部负责人": form.engineering_signature, "发展商（委托方）": form.developer_signature},
        signed_at={"工程部负责人": signed, "发展商（委托方）": signed},
    )


def _takeover_step(
    request: Request,
    db: Session,
    console: Console,
    takeover_id: int,
    done: str,
    take: Callable[[TakeoverInspection, Estate], object],
) -> Response:
    estate = console.require_estate()
    form = vacancy.get_takeover(db, estate, takeover_id)

    def act() -> Response:
        take(form, estate)
        return RedirectResponse(f"/console/vacant/takeovers/{takeover_id}?done=vacancy_{done}", status_code=303)

    def again(status: int, error: str) -> Response:
        db.expire_all()
        return _takeover_page(request, db, console, takeover_id, status=status, error=error)

    return form_action(request, db, act, again)


@router.post("/vacant/takeovers/{takeover_id}/items")
async def record_items(request: Request, console: Inspector, db: DbSession, now: Now, takeover_id: RowId) -> Response:
    """Per item: `result_<item>` pass/fail, `defect_<item>`, `agreement_<item>` (agreed with the developer)."""
    form = await request.form()

    def field(name: str) -> str:
        value = form.get(name, "")
        return value[:200] if isinstance(value, str) else ""

    def take(takeover: TakeoverInspection, estate: Estate) -> None:
        results = {
            c: ItemResult(
                field(f"result_{c.value}") == "pass", field(f"defect_{c.value}"), field(f"agreement_{c.value}")
            )
            for c in TakeoverCategory
            if field(f"result_{c.value}") in ("pass", "fail")
        }
        vacancy.record_items(db, console.actor, takeover, results, by=console.user, now=now)

    return _takeover_step(request, db, console, takeover_id, "recorded", take)


@router.post("/vacant/takeovers/{takeover_id}/sign", max_body_size=SIGNATURE_BODY)
def sign_takeover(
    request: Request,
    console: Inspector,
    db: DbSession,
    now: Now,
    takeover_id: RowId,
    engineering_signature: Signature = "",
    developer_signature: Signature = "",
    water: Annotated[Text, Form(max_length=20)] = "",
    electricity: Annotated[Text, Form(max_length=20)] = "",
) -> Response:
    def take(takeover: TakeoverInspection, estate: Estate) -> None:
        signing = TakeoverSigning(engineering_signature, developer_signature, water, electricity)
        days = request.app.state.settings.developer_repair_days
        vacancy.sign_takeover(db, console.actor, estate, takeover, signing, by=console.user, now=now, repair_days=days)

    return _takeover_step(request, db, console, takeover_id, "signed", take)


# --- a vacant unit: patrols, cleaning, viewings -----------------------------------------------------------------------


def _unit_page(
    request: Request,
    db: Session,
    console: Console,
    unit_id: int,
    now: datetime,
    *,
    status: int = 200,
    **context: Any,
) -> Response:
    estate = console.require_estate()
    unit = unit_of(db, estate, unit_id)
    return view(
        request,
        console,
        "lifecycle/vacant_unit.html",
        status=status,
        unit=unit,
        spell=vacancy.vacancy_of(db, unit),
        patrols=vacancy.patrols_of(db, unit),
        cleanings=vacancy.cleanings_of(db, unit),
        viewings=vacancy.viewings_of(db, unit),
        repairs=developer_repairs.of_unit(db, unit),
        overdue=developer_repairs.overdue,
        now=now,
        repair_states=paper.REPAIR_STATES,
        keys=vacancy.unit_keys(db, unit),
        staff=estate_staff(db, estate),
        categories=vacancy.CATEGORIES,
        cleaning=vacancy.CLEANING,
        can=console.can,
        **context,
    )


@router.get("/vacant/units/{unit_id}")
def unit_page(request: Request, console: Viewer, db: DbSession, now: Now, unit_id: RowId, done: Text = "") -> Response:
    return _unit_page(request, db, console, unit_id, now, flash=flash_key(done, DONE))


def _unit_step(
    request: Request,
    db: Session,
    console: Console,
    now: datetime,
    unit_id: int,
    done: str,
    take: Callable[[Unit, Estate], object],
) -> Response:
    estate = console.require_estate()
    unit = unit_of(db, estate, unit_id)

    def act() -> Response:
        take(unit, estate)
        return RedirectResponse(f"/console/vacant/units/{unit_id}?done=vacancy_{done}", status_code=303)

    def again(status: int, error: str) -> Response:
        db.expire_all()
        return _unit_page(request, db, console, unit_id, now, status=status, error=error)

    return form_action(request, db, act, again)


@router.post("/vacant/units/{unit_id}/patrol")
def patrol(
    request: Request,
    console: Inspector,
    db: DbSession,
    now: Now,
    unit_id: RowId,
    note: Line = "",
    category_0: Short = "",
    problem_0: Line = "",
    warranty_0: Annotated[bool, Form()] = False,
    category_1: Short = "",
    problem_1: Line = "",
    warranty_1: Annotated[bool, Form()] = False,
) -> Response:
    """A patrol with up to two findings: a warranty defect goes to the developer, another to a repair order."""
    rows = ((category_0, problem_0, warranty_0), (category_1, problem_1, warranty_1))

    def take(unit: Unit, estate: Estate) -> None:
        findings = [Finding(vacancy.category(c), p, w) for c, p, w in rows if p.strip()]
        days = request.app.state.settings.developer_repair_days
        vacancy.patrol(db, console.actor, estate, unit, findings, by=console.user, now=now, note=note, repair_days=days)

    return _unit_step(request, db, console, now, unit_id, "patrolled", take)


@router.post("/vacant/units/{unit_id}/clean")
def clean(
    request: Request,
    console: Cleaner,
    db: DbSession,
    now: Now,
    unit_id: RowId,
    parts: Codes = [],  # noqa: B006
    note: Line = "",
) -> Response:
    def take(unit: Unit, estate: Estate) -> None:
        vacancy.clean(db, console.actor, estate, unit, parts, by=console.user, now=now, note=note)

    return _unit_step(request, db, console, now, unit_id, "cleaned", take)


@router.post("/vacant/units/{unit_id}/viewing")
def lend_for_viewing(
    request: Request,
    console: Lender,
    db: DbSession,
    now: Now,
    unit_id: RowId,
    key_id: Short = "",
    keeper_id: Short = "",
    visitor: Annotated[Text, Form(max_length=100)] = "",
) -> Response:
    """R-VAC-4: the key of a vacant unit lent for a sales viewing, the keeper accompanying."""

    def take(unit: Unit, estate: Estate) -> None:
        keeper: StaffUser = staff_member(db, estate, row_id(keeper_id, "陪同的房管员", "accompanying keeper"))
        vacancy.lend_for_viewing(
            db,
            console.actor,
            estate,
            unit,
            key_id=row_id(key_id, "钥匙", "key"),
            keeper=keeper,
            visitor=visitor,
            by=console.user,
            now=now,
        )

    return _unit_step(request, db, console, now, unit_id, "lent", take)


RepairStep = Literal["acknowledge", "repair", "verify", "reopen"]


def _developer_repair_step(
    request: Request,
    db: Session,
    console: Console,
    now: datetime,
    unit_id: int,
    repair_id: int,
    step: RepairStep,
    text: str,
) -> Response:
    """A step of one of the unit's developer repairs (R-VAC-1, 2); `text` is the developer's contact when it is
    acknowledged, what was done when repaired, the note of our check, or why it is reopened."""

    def take(unit: Unit, estate: Estate) -> None:
        repair = developer_repairs.get(db, estate, repair_id)
        if repair.unit_id != unit.id:
            raise NotFound("这套房没有这条开发商返修", "no such developer repair of this unit", code="not_found")
        by, actor = console.user, console.actor
        if step == "acknowledge":
            developer_repairs.acknowledge(db, actor, repair, contact=text, by=by, now=now)
        elif step == "repair":
            developer_repairs.mark_repaired(db, actor, repair, note=text, by=by, now=now)
        elif step == "verify":
            developer_repairs.verify(db, actor, repair, by=by, now=now, note=text)
        else:
            days = request.app.state.settings.developer_repair_days
            developer_repairs.reopen(db, actor, repair, reason=text, by=by, now=now, days=days)

    return _unit_step(request, db, console, now, unit_id, step, take)


REPAIR_PATH = "/vacant/units/{unit_id}/developer-repairs/{developer_repair_id}"


@router.post(REPAIR_PATH + "/acknowledge")
def acknowledge_repair(
    request: Request,
    console: Inspector,
    db: DbSession,
    now: Now,
    unit_id: RowId,
    developer_repair_id: RowId,
    text: Line = "",
) -> Response:
    return _developer_repair_step(request, db, console, now, unit_id, developer_repair_id, "acknowledge", text)


@router.post(REPAIR_PATH + "/repair")
def repaired(
    request: Request,
    console: Inspector,
    db: DbSession,
    now: Now,
    unit_id: RowId,
    developer_repair_id: RowId,
    text: Line = "",
) -> Response:
    return _developer_repair_step(request, db, console, now, unit_id, developer_repair_id, "repair", text)


@router.post(REPAIR_PATH + "/verify")
def verify_repair(
    request: Request,
    console: Inspector,
    db: DbSession,
    now: Now,
    unit_id: RowId,
    developer_repair_id: RowId,
    text: Line = "",
) -> Response:
    return _developer_repair_step(request, db, console, now, unit_id, developer_repair_id, "verify", text)


@router.post(REPAIR_PATH + "/reopen")
def reopen_repair(
    request: Request,
    console: Inspector,
    db: DbSession,
    now: Now,
    unit_id: RowId,
    developer_repair_id: RowId,
    text: Line = "",
) -> Response:
    return _developer_repair_step(request, db, console, now, unit_id, developer_repair_id, "reopen", text)


# --- the monthly statistics (R-VAC-5, 6) ------------------------------------------------------------------------------


def _stats(request: Request, db: Session, console: Console, now: datetime, month: str) -> statistics.MonthStatistics:
    estate = console.require_estate()
    first = statistics.parse_month(month, clock.today(estate, now))
    return statistics.month_statistics(db, estate, first, request.app.state.settings.vacant_fee_percent)


@router.get("/vacant/statistics")
def statistics_page(request: Request, console: Viewer, db: DbSession, now: Now, month: Month = "") -> Response:
    stats = _stats(request, db, console, now, month)
    return view(
        request,
        console,
        "lifecycle/vacant_statistics.html",
        stats=stats,
        month=f"{stats.first:%Y-%m}",
        heading=paper.statistics_heading(console.require_estate(), stats, language(request)),
    )


@router.get("/vacant/statistics.{fmt}")
def statistics_export(
    request: Request, console: Viewer, db: DbSession, now: Now, fmt: Literal["xlsx", "pdf"], month: Month = ""
) -> Response:
    stats = _stats(request, db, console, now, month)
    lang = language(request)
    rows = paper.statistics_rows(stats)
    heading = paper.statistics_heading(console.require_estate(), stats, lang)
    name = f"vacant-units-{stats.first:%Y-%m}"
    if fmt == "pdf":
        return pdf_file(register_pdf(paper.STATISTICS, rows, lang=lang, heading=heading), f"{name}.pdf")
    return Response(
        register_xlsx(paper.STATISTICS, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}.xlsx"},
    )
