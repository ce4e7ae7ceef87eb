"""The daily reconciliation (R-REL-7) with its sign-offs and PDF/XLSX, the conflicts an offline gate revealed, the
item catalogue, and the dashboard's flag for a day not signed off by 17:30."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from sqlalchemy.orm import Session

from server.console.i18n import translate
from server.console.pages import form_action, language
from server.console.registry_pages import XLSX, flash_key, view
from server.console.slip_exports import FIGURES, reconciliation_pdf, reconciliation_xlsx
from server.contract.fields import Text, parse_day
from server.db.models import Estate
from server.domain import clock
from server.domain.errors import DomainError
from server.domain.permissions import Perm
from server.domain.slips import catalogue, reconciliation, register
from server.domain.slips.gate import conflicts
from server.web.deps import Console, DbSession, require
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.slips_view)]
Cataloguer = Annotated[Console, require(Perm.slips_catalogue)]
Resolver = Annotated[Console, require(Perm.slips_conflicts)]
SIDE_PERMS = {"security": Perm.reconcile_security, "records": Perm.reconcile_records}


def _day(estate: Estate, text: str) -> date:
    try:
        return parse_day(text) if text else clock.local_day(estate, reconciliation.utcnow())
    except ValueError:
        return clock.local_day(estate, reconciliation.utcnow())


@router.get("/slips/reconciliation")
def reconciliation_page(
    request: Request, console: Viewer, db: DbSession, day: Annotated[Text, Query(max_length=10)] = "", done: Text = ""
) -> Response:
    estate = console.require_estate()
    chosen = _day(estate, day)
    report = reconciliation.report(db, console.actor, estate, chosen)
    row = reconciliation.get(db, estate, chosen)
    return view(
        request,
        console,
        "slips/reconciliation.html",
        report=report,
        row=row,
        stale=reconciliation.stale_sides(row, report.figures()),
        figures=FIGURES,
        sides=[(s, console.can(p)) for s, p in SIDE_PERMS.items()],
        flash=flash_key(done, frozenset({"reconciliation_signed"})),
        day=chosen,
    )


@router.post("/slips/reconciliation/sign")
def sign_reconciliation(
    request: Request,
    console: Viewer,
    db: DbSession,
    day: Annotated[Text, Form(max_length=10)],
    side: Annotated[Text, Form(max_length=10)],
) -> Response:
    """Each side signs with its own permission: the security captain and the CS admin (R-REL-7)."""
    estate = console.require_estate()
    perm = SIDE_PERMS.get(side)
    if perm is None or not console.can(perm):
        raise DomainError(
            "您的角色不能代表该方签核", "your role may not sign for this side", code="permission_denied", status=403
        )
    chosen = _day(estate, day)
    reconciliation.sign_off(db, console.actor, estate, chosen, side, console.user.display_name)
    return RedirectResponse(
        f"/console/slips/reconciliation?day={chosen.isoformat()}&done=reconciliation_signed", status_code=303
    )


def _report_files(request: Request, db: Session, console: Console, day: str) -> tuple:
    estate = console.require_estate()
    chosen = _day(estate, day)
    lang = language(request)
    report = reconciliation.report(db, console.actor, estate, chosen)
    return report, reconciliation.get(db, estate, chosen), estate, (lambda k: translate(lang, k)), chosen


@router.get("/slips/reconciliation.pdf")
def reconciliation_as_pdf(
    request: Request, console: Viewer, db: DbSession, day: Annotated[Text, Query(max_length=10)] = ""
) -> Response:
    report, row, estate, t, chosen = _report_files(request, db, console, day)
    name = f"slip-reconciliation-{chosen.isoformat()}.pdf"
    return Response(
        reconciliation_pdf(report, row, estate, t),
        media_type="application/pdf",
        headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"},
    )


@router.get("/slips/reconciliation.xlsx")
def reconciliation_as_xlsx(
    request: Request, console: Viewer, db: DbSession, day: Annotated[Text, Query(max_length=10)] = ""
) -> Response:
    report, row, estate, t, chosen = _report_files(request, db, console, day)
    name = f"slip-reconciliation-{chosen.isoformat()}.xlsx"
    return Response(
        reconciliation_xlsx(report, row, estate, t),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.get("/slips/conflicts")
def conflicts_page(request: Request, console: Viewer, db: DbSession, done: Text = "", open: bool = False) -> Response:
    """The conflicts found when offline gates synced (R-REL-6); `open`: only those not resolved yet."""
    found = register.conflicts(db, console.require_estate(), open_only=open)
    return view(
        request,
        console,
        "slips/conflicts.html",
        conflicts=found,
        open=open,
        can_resolve=console.can(Perm.slips_conflicts),
        flash=flash_key(done, frozenset({"conflict_resolved"})),
    )


@router.post("/slips/conflicts/{conflict_id}/resolve")
def resolve_conflict(
    console: Resolver, db: DbSession, conflict_id: RowId, note: Annotated[Text, Form(max_length=200)] = ""
) -> Response:
    conflicts.resolve_conflict(
        db, console.actor, console.require_estate(), conflict_id, console.user.display_name, note
    )
    return RedirectResponse("/console/slips/conflicts?done=conflict_resolved", status_code=303)


@router.get("/slips/catalogue")
def catalogue_page(request: Request, console: Viewer, db: DbSession, done: Text = "", error: Text = "") -> Response:
    found = catalogue.items(db, console.require_estate(), active_only=False)
    return view(
        request,
        console,
        "slips/catalogue.html",
        items=found,
        can_edit=console.can(Perm.slips_catalogue),
        flash=flash_key(done, frozenset({"catalogue_saved"})),
    )


@router.post("/slips/catalogue")
def save_catalogue_item(
    request: Request,
    console: Cataloguer,
    db: DbSession,
    code: Annotated[Text, Form(max_length=8)],
    name: Annotated[Text, Form(max_length=16)],
    name_en: Annotated[Text, Form(max_length=40)] = "",
    active: Annotated[bool, Form()] = False,
) -> Response:
    estate = console.require_estate()

    def save() -> Response:
        catalogue.save_item(db, console.actor, estate, code, name, name_en, active)
        return RedirectResponse("/console/slips/catalogue?done=catalogue_saved", status_code=303)

    def form_again(status: int, error: str) -> Response:
        found = catalogue.items(db, estate, active_only=False)
        return view(request, console, "slips/catalogue.html", status=status, items=found, can_edit=True, error=error)

    return form_action(request, db, save, form_again)


def dashboard_flag(db: Session, console: Console) -> date | None:
    """The day to flag on the dashboard: today after 17:30 without both sign-offs (R-REL-7)."""
    if console.estate is None or not console.can(Perm.slips_view):
        return None
    return reconciliation.overdue(db, console.estate)


def dashboard_stale(db: Session, console: Console) -> list[date]:
    """The recent days whose sign-off went stale, for the dashboard to say so (R-REL-7)."""
    if console.estate is None or not console.can(Perm.slips_view):
        return []
    return reconciliation.stale_days(db, console.actor, console.estate)
