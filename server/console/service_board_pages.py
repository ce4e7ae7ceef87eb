"""The service desk's "due today / late" boards in the console (issue 17, item 5): one board per role the signed-in
member of staff works in (front desk, engineering, environment, supervisor), each figure a count with its first
records and a link to the list it counts, filtered (`state`, `late`, …); and the paid-service tracking sheet
《有偿服务跟踪记录单》 (R-REP-1, R-CLN-1): every repair and cleaning order as one register, with its filters."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response

from server.console.pages import language
from server.console.registers import Column, Register, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, page_size, view
from server.contract.fields import Text
from server.domain.permissions import Perm
from server.domain.service import boards, tracking
from server.web.deps import Console, DbSession, Now, require
from server.web.params import PageNo

router = APIRouter()

Viewer = Annotated[Console, require(Perm.service_view)]
Choice = Annotated[Text, Query(max_length=20)]
MonthQ = Annotated[Text, Query(max_length=7)]

TRACKING = Register(
    "paid-service-tracking",
    "《有偿服务跟踪记录单》",
    "Paid-service tracking sheet",
    tuple(Column(key, zh, en, width) for key, zh, en, width in tracking.COLUMNS),
    signatures=(("制表人", "Prepared by"), ("客服主管", "CS supervisor")),
)


@router.get("/service")
def service_board(request: Request, console: Viewer, db: DbSession, now: Now) -> Response:
    """The boards of the roles the member of staff works in; the counts are as of now (late: past its deadline)."""
    estate = console.require_estate()
    return view(
        request,
        console,
        "service/board.html",
        boards=boards.boards(db, estate, console.user.role, now),
    )


@router.get("/service/tracking")
def tracking_sheet(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    month: MonthQ = "",
    kind: Choice = "",
    paid: Choice = "",
    page: PageNo = 1,
) -> Response:
    """The paid-service tracking sheet: every repair and cleaning order of the month chosen (this month by
    default), filtered by kind and paid or free; newest first."""
    estate = console.require_estate()
    f = tracking.parse_filter(estate, now, month, kind, paid)
    found = tracking.page(db, estate, f, page, page_size(request))
    lang = language(request)
    return view(
        request,
        console,
        "service/tracking.html",
        page=found,
        query={"month": f.month_text, "kind": kind, "paid": paid},
        rows=tracking.rows(db, estate, found.items, lang),
        columns=[(c.key, c.label(lang)) for c in TRACKING.columns],
        exports=True,
    )


@router.get("/service/tracking/export.{fmt}")
def export_tracking(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    fmt: Literal["xlsx", "pdf"],
    month: MonthQ = "",
    kind: Choice = "",
    paid: Choice = "",
) -> Response:
    """The month's sheet as filtered on screen: XLSX for the office and finance, PDF in the sheet's columns with
    its signature boxes for the binder."""
    estate = console.require_estate()
    f = tracking.parse_filter(estate, now, month, kind, paid)
    lang = language(request)
    rows = tracking.rows(db, estate, tracking.all_orders(db, estate, f), lang)
    heading = f"{estate.name} · {f.month_text}"
    name = f"paid-service-tracking-{f.month_text}.{fmt}"
    if fmt == "pdf":
        body = register_pdf(TRACKING, rows, lang=lang, heading=heading)
        return Response(
            body, media_type="application/pdf", headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"}
        )
    body = register_xlsx(TRACKING, rows, lang=lang, heading=heading)
    return Response(body, media_type=XLSX, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


# The registers and reports of the service desk, each with the rule it keeps and its files: (title key, page, files,
# permission). A register whose page is the file itself has no page.
REGISTERS: tuple[tuple[str, str, tuple[str, ...], Perm], ...] = (
    ("service.tracking.title", "/console/service/tracking", ("/console/service/tracking/export.{fmt}",),
     Perm.service_view),
    ("service.registers.handover", "/console/service/repairs/handover", ("/console/service/repairs/handover.{fmt}",),
     Perm.service_view),
    ("service.registers.closing", "/console/service/repairs/closing", ("/console/service/repairs/closing.{fmt}",),
     Perm.service_view),
    ("service.registers.unreturned", "/console/service/repairs/unreturned",
     ("/console/service/repairs/unreturned.{fmt}",), Perm.service_view),
    ("service.registers.filing", "/console/service/repairs/filing", ("/console/service/repairs/filing.{fmt}",),
     Perm.service_view),
    ("service.registers.finance", "", ("/console/service/repairs/finance.xlsx",), Perm.service_finance),
    ("service.registers.household", "/console/service/cleaning", ("/console/service/cleaning/register.{fmt}",),
     Perm.service_view),
    ("service.registers.feedback_summary", "/console/service/feedback/summary",
     ("/console/service/feedback/summary.{fmt}",), Perm.service_view),
    ("service.prices.title", "/console/service/prices", ("/console/service/prices/export.{fmt}",), Perm.service_view),
)  # fmt: skip


@router.get("/service/registers")
def registers_index(request: Request, console: Viewer) -> Response:
    """Every register and report of the service desk the member of staff may open, with its XLSX and PDF."""
    console.require_estate()
    rows = []
    for title, page, files, perm in REGISTERS:
        if not console.can(perm):
            continue
        links = []
        for template in files:
            if "{fmt}" in template:
                links += [("XLSX", template.format(fmt="xlsx")), ("PDF", template.format(fmt="pdf"))]
            else:
                links.append((template.rsplit(".", 1)[1].upper(), template))
        rows.append({"title": title, "page": page, "files": links})
    return view(request, console, "service/registers.html", registers=rows)
