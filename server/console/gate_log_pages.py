"""The gate release log 《物品放行登记》 in the console (R-REL-6, R-REL-8): the security captain's page of one day at
one gate or all of them, with the guard, the release time, the lines as counted, refusals with their reasons, goods
stopped with no slip and the gate's photo; as XLSX and a printable PDF from one declaration."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date, datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request
from fastapi.responses import Response
from sqlalchemy.orm import Session

from server.console.key_pages import pdf_file, translator
from server.console.pages import language
from server.console.registers import Column, Register, register_pdf, register_xlsx
from server.console.registry_pages import XLSX, view
from server.contract.fields import Text, parse_day
from server.db.models import Estate
from server.domain import clock
from server.domain.permissions import Perm
from server.domain.slips import catalogue
from server.domain.slips.gate import log
from server.web.deps import Console, DbSession, Now, require
from server.web.params import RowId

router = APIRouter()

Viewer = Annotated[Console, require(Perm.slips_view)]
DayQ = Annotated[Text, Query(max_length=10)]
GateQ = Annotated[Text, Query(max_length=60)]
Row = Mapping[str, object]

GATE_LOG = Register(
    "gate-release-log", "物品放行登记", "Gate release log",
    (Column("at", "放行时间", "Time", 14), Column("gate", "门岗", "Gate", 12),
     Column("number", "放行条编号", "Slip number", 22), Column("unit", "房号", "Unit", 10),
     Column("items", "物品（条上/实点）", "Items (on slip / counted)", 40),
     Column("outcome", "结果", "Outcome", 10), Column("reason", "原因", "Reason", 30),
     Column("guard", "门岗安管员", "Guard", 12), Column("photo", "照片", "Photo", 7)),
    signatures=(("门岗安管员", "Gate guard"), ("治安队长", "Security captain")),
)  # fmt: skip


def _day(estate: Estate, text: str, now: datetime) -> date:
    try:
        return parse_day(text) if text else clock.local_day(estate, now)
    except ValueError:
        return clock.local_day(estate, now)


def _rows(request: Request, db: Session, estate: Estate, day: date, gate: str) -> tuple[list[log.LogLine], list[Row]]:
    t, lang = translator(request), language(request)
    english = catalogue.english_names(db, estate)
    lines = log.day_log(db, estate, day, gate)

    def name(line: log.CountedLine) -> str:
        return (english.get(line.code or "") or line.name) if lang == "en" else line.name

    def items(line: log.LogLine) -> str:
        if line.stop_id is not None:
            return line.goods
        return "；".join(f"{name(i)} {i.quantity}/{'—' if i.counted is None else i.counted}" for i in line.lines)

    rows: list[Row] = [
        {
            "at": clock.local_text(estate, line.at) + (f" ({t('paper.log.offline')})" if line.offline else ""),
            "gate": line.gate,
            "number": line.number or t("paper.log.no_slip"),
            "unit": line.unit,
            "items": items(line),
            "outcome": t(f"paper.log.outcome.{line.outcome}"),
            "reason": line.reason,
            "guard": line.guard,
            "photo": line.photo_id is not None,
        }
        for line in lines
    ]
    return lines, rows


def _heading(request: Request, estate: Estate, day: date, gate: str, count: int) -> str:
    t = translator(request)
    return t("paper.log.heading", estate=estate.name, day=day.isoformat(), gate=gate or t("paper.log.all_gates"),
             count=count)  # fmt: skip


@router.get("/slips/gate-log")
def gate_log(request: Request, console: Viewer, db: DbSession, now: Now, day: DayQ = "", gate: GateQ = "") -> Response:
    estate = console.require_estate()
    chosen = _day(estate, day, now)
    lines, rows = _rows(request, db, estate, chosen, gate)
    lang = language(request)
    return view(
        request,
        console,
        "slips/gate_log.html",
        register=GATE_LOG,
        title=GATE_LOG.title(lang),
        headers=GATE_LOG.headers(lang),
        keys=[c.key for c in GATE_LOG.columns],
        entries=list(zip(lines, rows, strict=True)),
        heading=_heading(request, estate, chosen, gate, len(rows)),
        day=chosen,
        gate=gate,
        gates=log.gates(db, estate),
    )


@router.get("/slips/gate-log.{fmt}")
def gate_log_file(
    request: Request,
    console: Viewer,
    db: DbSession,
    now: Now,
    fmt: Literal["xlsx", "pdf"],
    day: DayQ = "",
    gate: GateQ = "",
) -> Response:
    estate = console.require_estate()
    chosen = _day(estate, day, now)
    _lines, rows = _rows(request, db, estate, chosen, gate)
    heading, lang = _heading(request, estate, chosen, gate, len(rows)), language(request)
    name = f"{GATE_LOG.code}-{chosen.isoformat()}.{fmt}"
    if fmt == "pdf":
        return pdf_file(register_pdf(GATE_LOG, rows, lang=lang, heading=heading), name)
    return Response(
        register_xlsx(GATE_LOG, rows, lang=lang, heading=heading),
        media_type=XLSX,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"},
    )


@router.get("/slips/gate-log/stops/{stop_id}/photo")
def stop_photo(console: Viewer, db: DbSession, stop_id: RowId) -> Response:
    """The photo the gate took of goods stopped with no slip."""
    data = log.stop_photo(db, console.require_estate(), stop_id)
    return Response(data, media_type="image/jpeg", headers={"Cache-Control": "private, no-store"})
