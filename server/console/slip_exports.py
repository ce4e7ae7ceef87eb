"""Files the slip pages hand out: the register as XLSX or CSV, the daily reconciliation as PDF or XLSX."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable
from datetime import datetime
from pathlib import Path

from fpdf import FPDF
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.worksheet.worksheet import Worksheet

from server.console.spreadsheet import inert_row
from server.db.models import Estate, Reconciliation, ReleaseSlip, SlipItem
from server.domain import clock
from server.domain.slips.reconciliation import DailyReport, stale_sides

CJK_FONT = Path("/usr/share/fonts/truetype/wqy/wqy-microhei.ttc")
Translate = Callable[[str], str]
ItemName = Callable[[SlipItem], str]  # a slip line's item name in the reader's language
Signed = Callable[[ReleaseSlip], str]  # the signatures a slip holds, as words (R-REL-2, R-REL-3)


def _append(sheet: Worksheet, values: Iterable[object]) -> None:
    sheet.append(inert_row(values))


# The register's columns in the order of the paper form 《物品放行条记录单》 (R-REL-4).
REGISTER_COLUMNS = (
    "number",
    "day",
    "unit",
    "applicant_kind",
    "applicant",
    "items",
    "state",
    "valid_until",
    "released_at",
    "gate",
    "guard",
    "plate",
    "countersign",
    "revoked",
)


def register_header(t: Translate, signed: Signed | None = None) -> list[str]:
    return [t(f"slips.col.{k}") for k in REGISTER_COLUMNS] + ([t("paper.col.signatures")] if signed else [])


def register_row(
    slip: ReleaseSlip, estate: Estate, t: Translate, item_name: ItemName, signed: Signed | None = None
) -> list[str]:
    release = slip.release
    return [
        slip.number,
        slip.day.isoformat(),
        slip.unit_code,
        t(f"slips.kind.{slip.applicant_kind.value}"),
        slip.applicant_name,
        "；".join(f"{item_name(i)}×{i.quantity}" for i in slip.items),
        t(f"slips.state.{slip.state.value}"),
        clock.local_text(estate, slip.valid_until),
        clock.local_text(estate, release.at) if release else "",
        release.gate if release else "",
        release.guard if release else "",
        slip.vehicle_plate,
        t("slips.pending") if slip.countersign_pending else "",
        clock.local_text(estate, slip.revoked_at),
    ] + ([signed(slip)] if signed else [])


def register_csv(
    slips: Iterable[ReleaseSlip], estate: Estate, t: Translate, item_name: ItemName, signed: Signed | None = None
) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(inert_row(register_header(t, signed)))
    for slip in slips:
        writer.writerow(inert_row(register_row(slip, estate, t, item_name, signed)))
    return ("\ufeff" + buffer.getvalue()).encode("utf-8")  # a BOM so spreadsheet programs read the Chinese


def register_xlsx(
    slips: Iterable[ReleaseSlip], estate: Estate, t: Translate, item_name: ItemName, signed: Signed | None = None
) -> bytes:
    book = Workbook(write_only=True)
    sheet = book.create_sheet(t("slips.register"))
    sheet.append(inert_row(register_header(t, signed)))
    for slip in slips:
        sheet.append(inert_row(register_row(slip, estate, t, item_name, signed)))
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


FIGURES = ("issued", "released", "refused", "outstanding", "expired", "cancelled", "revoked", "gate_releases")


def _sign_lines(
    row: Reconciliation | None, estate: Estate, t: Translate, stale: Iterable[str] = ()
) -> list[tuple[str, str]]:
    """Each side's sign-off; one whose figures changed since is marked stale, to be signed again (R-REL-7)."""
    stale = set(stale)

    def who(side: str, by: str, at: datetime | None) -> str:
        if not at:
            return t("slips.recon.unsigned")
        return f"{by} {clock.local_text(estate, at)}" + (f" — {t('paper.recon.stale')}" if side in stale else "")

    return [
        (t("slips.recon.security"), who("security", row.security_by, row.security_at) if row else who("", "", None)),
        (t("slips.recon.records"), who("records", row.records_by, row.records_at) if row else who("", "", None)),
    ]


def reconciliation_xlsx(report: DailyReport, row: Reconciliation | None, estate: Estate, t: Translate) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = t("slips.recon.title")[:31]
    _append(sheet, [f"{estate.name} · {t('slips.recon.title')} · {report.day.isoformat()}"])
    sheet["A1"].font = Font(bold=True)
    for key in FIGURES:
        _append(sheet, [t(f"slips.fig.{key}"), getattr(report, key)])
    _append(sheet, [])
    _append(sheet, [t("slips.recon.mismatches")])
    for m in report.mismatches:
        _append(sheet, [m.number, m.unit, m.gate, m.guard, clock.local_text(estate, m.at), m.reason])
    _append(sheet, [])
    _append(sheet, [t("slips.recon.conflicts")])
    for c in report.conflicts:
        _append(sheet, [c.number, t(f"slips.conflict.{c.kind}"), clock.local_text(estate, c.gate_at), c.detail])
    _append(sheet, [])
    for label, value in _sign_lines(row, estate, t, stale_sides(row, report.figures())):
        _append(sheet, [label, value])
    _append(sheet, [t("slips.recon.audit_head"), report.audit_head])
    sheet.column_dimensions["A"].width = 22
    sheet.column_dimensions["F"].width = 50
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def reconciliation_pdf(report: DailyReport, row: Reconciliation | None, estate: Estate, t: Translate) -> bytes:
    """A printable A4 page for the binder the CS admin keeps (R-REL-7)."""
    pdf = FPDF(format="A4")
    pdf.set_auto_page_break(auto=True, margin=15)
    for style in ("", "B"):  # one face serves both: table headings ask for bold
        pdf.add_font("cjk", style=style, fname=str(CJK_FONT), collection_font_number=0)
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, f"{estate.name} · {t('slips.recon.title')}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=11)
    pdf.cell(0, 8, f"{t('slips.recon.day')}: {report.day.isoformat()}", new_x="LMARGIN", new_y="NEXT")
    pdf.ln(2)
    with pdf.table(
        col_widths=(60, 30), text_align=("LEFT", "RIGHT"), width=90, align="LEFT", first_row_as_headings=False
    ) as table:
        for key in FIGURES:
            table.row([t(f"slips.fig.{key}"), str(getattr(report, key))])
    for title, rows in (
        (
            t("slips.recon.mismatches"),
            [[m.number, m.unit, m.gate, clock.local_text(estate, m.at), m.reason] for m in report.mismatches],
        ),
        (
            t("slips.recon.conflicts"),
            [
                [c.number, t(f"slips.conflict.{c.kind}"), clock.local_text(estate, c.gate_at), c.detail]
                for c in report.conflicts
            ],
        ),
    ):
        pdf.ln(4)
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 8, f"{title} ({len(rows)})", new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=9)
        if rows:
            with pdf.table(first_row_as_headings=False) as table:
                for cells in rows:
                    table.row(cells)
    pdf.ln(6)
    pdf.set_font("cjk", size=11)
    stale = stale_sides(row, report.figures())
    for label, value in _sign_lines(row, estate, t, stale):
        pdf.cell(0, 8, f"{label}: {value}", new_x="LMARGIN", new_y="NEXT")
    if stale:
        pdf.multi_cell(0, 6, t("paper.recon.stale_note"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    pdf.multi_cell(0, 5, f"{t('slips.recon.audit_head')}: {report.audit_head}", new_x="LMARGIN", new_y="NEXT")
    return bytes(pdf.output())
