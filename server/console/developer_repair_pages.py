"""The developer repair register 《开发商返修跟踪表》 in the console (R-VAC-1, 2): the estate's developer repairs —
open ones by default, or the overdue, the closed or all — filtered by unit and item, as a page, XLSX and PDF. Each
repair's steps are taken on its unit's vacant-unit page (server.console.vacancy_pages)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.console import lifecycle_forms as paper
from server.console.key_pages import pdf_file
from server.console.pages import language
from server.console.registers import register_pdf, register_xlsx
from server.console.registry_pages import XLSX, view
from server.contract.fields import Text
from server.db.models import Estate
from server.domain import clock
from server.domain.lifecycle import developer_repairs, vacancy
from server.domain.permissions import Perm
from server.web.deps import Console, DbSession, Now, require

router = APIRouter()

Viewer = Annotated[Console, require(Perm.vacancy_view)]
Filter = Annotated[Text, Query(max_length=20)]


@dataclass(frozen=True)
class Filters:
    show: developer_repairs.Show
    unit: str
    item: str

    def query(self) -> str:
        return f"show={self.show}&unit={self.unit}&item={self.item}"


def _lines(
    db: Session, estate: Estate, now: Now, show: str, unit: str, item: str
) -> tuple[Filters, list[developer_repairs.Line]]:
    filters = Filters(developer_repairs.parse_show(show), unit.strip().upper(), item.strip())
    categories = [vacancy.category(filters.item)] if filters.item else []
    lines = developer_repairs.register(
        db, estate, now, show=filters.show, unit_code=filters.unit, categories=categories
    )
    return filters, lines


@router.get("/vacant/developer-repairs")
def register_page(
    request: Request, console: Viewer, db: DbSession, now: Now, show: Filter = "", unit: Filter = "", item: Filter = ""
) -> Response:
    estate = console.require_estate()
    filters, lines = _lines(db, estate, now, show, unit, item)
    return view(
        request,
        console,
        "lifecycle/developer_repairs.html",
        filters=filters,
        lines=lines,
        overdue=sum(x.overdue for x in lines),
        rows=paper.developer_repair_rows(estate, lines, language(request)),
        categories=vacancy.CATEGORIES,
    )


@router.get("/vacant/developer-repairs.{fmt}")
def register_export(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    fmt: Literal["xlsx", "pdf"],
    show: Filter = "",
    unit: Filter = "",
    item: Filter = "",
) -> Response:
    estate = console.require_estate()
    filters, lines = _lines(db, estate, now, show, unit, item)
    lang = language(request)
    rows = paper.developer_repair_rows(estate, lines, lang)
    heading = paper.developer_repair_heading(estate, filters.show, now, lang)
    stem = f"developer-repairs-{clock.today(estate, now):%Y%m%d}"
    if fmt == "pdf":
        return pdf_file(register_pdf(paper.DEVELOPER_REPAIRS, rows, lang=lang, heading=heading), f"{stem}.pdf")
    return Response(
        register_xlsx(paper.DEVELOPER_REPAIRS, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{stem}.xlsx"},
    )
