"""Files the key pages hand out: the key loan register 《钥匙领用登记表》 as XLSX and as a printable PDF in the form's
own columns (R-KEY-12), and the cabinet's label map and key labels as PDF (R-KEY-6, 7)."""

from __future__ import annotations

import io
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime

from fpdf import FPDF
from fpdf.enums import WrapMode
from openpyxl import Workbook
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

from server.console.slip_exports import CJK_FONT
from server.console.spreadsheet import inert_row
from server.db.models import BorrowerKind, Estate
from server.domain import clock
from server.domain.keys.layout import PLANT_ROOMS
from server.domain.keys.views import BoardView, LoanRow, SlotView

Translate = Callable[..., str]  # key, **values → text in the reader's language

# The buildings' colours, in the order the blocks hang (R-KEY-7); the slot map's stylesheet (keys.css) uses the same.
PALETTE = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2")

# The columns of the paper form 《钥匙领用登记表》 in its order, with their share of a landscape A4 page's width.
FORM_COLUMNS = (
    ("no", 7),
    ("date", 16),
    ("key", 28),
    ("slot", 11),
    ("purpose", 16),
    ("borrower", 18),
    ("borrower_kind", 14),
    ("company", 20),
    ("phone", 20),
    ("id_tail", 11),
    ("accompanied_by", 15),
    ("out_at", 17),
    ("due_at", 17),
    ("returned_at", 17),
    ("registered_by", 15),
    ("receipt_no", 14),
    ("remarks", 17),
    ("signature", 18),  # the borrower signs the printed form (R-KEY-13)
)
# The spreadsheet has every column of the form but the signature.
SHEET_COLUMNS = tuple(name for name, _ in FORM_COLUMNS if name != "signature")


def colour(index: int) -> str:
    return PALETTE[index % len(PALETTE)] if index >= 0 else "#9aa5b1"


def _rgb(hex_colour: str) -> tuple[int, int, int]:
    return int(hex_colour[1:3], 16), int(hex_colour[3:5], 16), int(hex_colour[5:7], 16)


def block_name(block: str, t: Translate) -> str:
    """What a label calls the block a key hangs in: its building, or the plant rooms (R-KEY-6)."""
    return t("keys.plant_rooms") if block == PLANT_ROOMS else t("keys.building", number=block)


# --- the loan register ----------------------------------------------------------------------------------------------


def _slot(row: LoanRow) -> str:
    return f"{row.key.board}-{row.key.slot}" if row.key.slot is not None else ""


def _remarks(row: LoanRow, t: Translate) -> str:
    loan = row.loan
    parts = [t(f"keys.loan_state.{loan.state.value}")]
    if row.overdue:
        parts.append(t("keys.overdue_tag"))
    if loan.overdue_ack_note:
        parts.append(loan.overdue_ack_note)
    return "；".join(parts)


def form_values(row: LoanRow, number: int, estate: Estate, t: Translate, *, short: bool) -> dict[str, object]:
    """One line of the register by column name; `short` times (month-day hour:minute) fit the printed form."""

    def when(at: datetime | None) -> str:
        text = clock.local_text(estate, at)
        return text[5:] if short and text else text

    loan = row.loan
    company = loan.company if loan.borrower_kind == BorrowerKind.outside_worker else ""
    return {
        "no": number,
        "date": clock.local_day(estate, loan.registered_at).isoformat(),
        "key": row.key.label,
        "slot": _slot(row),
        "purpose": t(f"keys.purpose.{loan.purpose.value}"),
        "borrower": loan.borrower_name,
        "borrower_kind": t(f"keys.borrower.{loan.borrower_kind.value}"),
        "company": company,
        "phone": loan.phone,
        "id_tail": loan.id_tail,
        "accompanied_by": row.accompanied_by,
        "out_at": when(loan.out_at),
        "due_at": when(loan.due_at),
        "returned_at": when(loan.returned_at),
        "registered_by": row.registered_by,
        "receipt_no": loan.receipt_no,
        "remarks": _remarks(row, t),
        "signature": "",
    }


def register_xlsx(rows: Iterable[LoanRow], estate: Estate, t: Translate, period: str) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = t("keys.register.sheet")[:31]
    sheet.append(inert_row([f"{estate.name} · {t('keys.register.form')} · {period}"]))
    sheet["A1"].font = Font(bold=True)
    sheet.append(inert_row(t(f"keys.col.{name}") for name in SHEET_COLUMNS))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=1):
        values = form_values(row, number, estate, t, short=False)
        sheet.append(inert_row(values[name] for name in SHEET_COLUMNS))
    shares = dict(FORM_COLUMNS)
    for index, name in enumerate(SHEET_COLUMNS, start=1):  # as wide as the printed form's column, and some
        sheet.column_dimensions[get_column_letter(index)].width = shares[name] * 0.7 + 4
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _pdf(orientation: str) -> FPDF:
    pdf = FPDF(orientation=orientation, format="A4")
    for style in ("", "B"):  # one face serves both: table headings ask for bold
        pdf.add_font("cjk", style=style, fname=str(CJK_FONT), collection_font_number=0)
    return pdf


def register_pdf(rows: Sequence[LoanRow], estate: Estate, t: Translate, period: str) -> bytes:
    """The register printed on landscape A4 in the form's columns, headings repeated on every page, with blank lines
    to write on after the last entry and the keeper's sign-off."""
    pdf = _pdf("L")
    pdf.set_margins(8, 10, 8)
    pdf.set_auto_page_break(auto=True, margin=12)
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.cell(0, 9, t("keys.register.form"), align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=9)
    pdf.cell(0, 6, f"{estate.name}    {t('keys.register.period')}: {period}", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=7)
    widths = tuple(width for _, width in FORM_COLUMNS)
    with pdf.table(
        col_widths=widths,
        line_height=4.2,
        min_row_height=9,  # room for a signature
        text_align="LEFT",
        wrapmode=WrapMode.CHAR,  # Chinese has no spaces to break at
        repeat_headings=1,
    ) as table:
        table.row([t(f"keys.col.{name}") for name, _ in FORM_COLUMNS])
        for number, row in enumerate(rows, start=1):
            values = form_values(row, number, estate, t, short=True)
            table.row([str(values[name]) for name, _ in FORM_COLUMNS])
        for _ in range(max(0, 8 - len(rows))):  # lines to fill in by hand
            table.row([""] * len(FORM_COLUMNS))
    pdf.ln(4)
    pdf.set_font("cjk", size=9)
    pdf.cell(0, 6, f"{t('keys.register.keeper')}: ____________    {t('keys.register.checked')}: ____________")
    return bytes(pdf.output())


# --- the label map and labels (R-KEY-6, 7) --------------------------------------------------------------------------


def _fit(pdf: FPDF, text: str, width: float) -> str:
    """`text` cut to fit `width` in the current font, with an ellipsis when cut."""
    if pdf.get_string_width(text) <= width:
        return text
    while text and pdf.get_string_width(text + "…") > width:
        text = text[:-1]
    return text + "…"


def _slot_cell(pdf: FPDF, slot: SlotView, x: float, y: float, w: float, h: float, t: Translate) -> None:
    pdf.set_draw_color(120, 120, 120)
    pdf.set_line_width(0.2)
    pdf.rect(x, y, w, h)
    if slot.key_id is not None:
        pdf.set_fill_color(*_rgb(colour(slot.colour)))
        pdf.rect(x, y, w, 3.2, style="F")
    if slot.building_start:  # the block's first slot, framed in its colour with its name (R-KEY-7)
        pdf.set_draw_color(*_rgb(colour(slot.colour)))
        pdf.set_line_width(1.2)
        pdf.rect(x + 0.6, y + 0.6, w - 1.2, h - 1.2)
    pdf.set_text_color(40, 40, 40)
    pdf.set_font("cjk", size=7)
    pdf.set_xy(x + 1.5, y + 3.6)
    pdf.cell(w - 3, 3.5, f"{slot.board}-{slot.slot}")
    if slot.building_start:
        pdf.set_xy(x + 1.5, y + 3.6)
        pdf.cell(w - 3, 3.5, block_name(slot.block, t), align="R")
    if slot.key_id is None:
        return
    pdf.set_font("cjk", size=9)
    pdf.set_xy(x + 1.5, y + 8)
    pdf.cell(w - 3, 5, _fit(pdf, slot.label, w - 3))
    pdf.set_font("cjk", size=6)
    pdf.set_xy(x + 1.5, y + h - 5)
    pdf.cell(w - 3, 3.5, f"{slot.tag}{' · TM' if slot.tm else ''}")


def label_map_pdf(boards: Sequence[BoardView], estate: Estate, t: Translate) -> bytes:
    """One landscape page per board: its slots in rows as they hang, left to right and top to bottom, each slot with
    its number, the key's label and tag, its building's colour, and each building's first slot framed (R-KEY-7)."""
    pdf = _pdf("L")
    pdf.set_auto_page_break(auto=False)
    if not boards:
        pdf.add_page()
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 10, t("keys.slots.no_boards"))
    for board in boards:
        pdf.add_page()
        pdf.set_font("cjk", size=14)
        title = t("keys.labelmap.title", board=board.address, channels=board.channels)
        pdf.cell(0, 9, f"{estate.name} · {title} {board.label}", new_x="LMARGIN", new_y="NEXT")
        rows = -(-board.channels // board.columns)
        width, top = pdf.w - 20, 24
        cell_w = width / board.columns
        cell_h = min(28.0, (pdf.h - top - 22) / rows)
        for index, slot in enumerate(board.slots):
            row, column = divmod(index, board.columns)
            _slot_cell(pdf, slot, 10 + column * cell_w, top + row * cell_h, cell_w, cell_h, t)
        _legend(pdf, board, t, top + rows * cell_h + 4)
    return bytes(pdf.output())


def _legend(pdf: FPDF, board: BoardView, t: Translate, y: float) -> None:
    blocks: dict[str, int] = {}
    for slot in board.slots:
        if slot.key_id is not None:
            blocks.setdefault(slot.block, slot.colour)
    x = 10.0
    pdf.set_font("cjk", size=8)
    pdf.set_text_color(40, 40, 40)
    for block, index in blocks.items():
        pdf.set_fill_color(*_rgb(colour(index)))
        pdf.rect(x, y, 5, 4, style="F")
        name = block_name(block, t)
        pdf.set_xy(x + 6, y)
        pdf.cell(pdf.get_string_width(name) + 2, 4, name)
        x += pdf.get_string_width(name) + 12


LABEL_W, LABEL_H, LABEL_COLUMNS, LABEL_ROWS = 63.5, 38.1, 3, 7  # a common 21-up A4 label sheet


def labels_pdf(boards: Sequence[BoardView], estate: Estate, t: Translate) -> bytes:
    """A label for every key that hangs in the cabinet, in hanging order: its building or plant room, its label,
    its slot and tag, with a stripe in its building's colour (R-KEY-6, 7)."""
    pdf = _pdf("P")
    pdf.set_auto_page_break(auto=False)
    slots = [s for b in boards for s in b.slots if s.key_id is not None]
    left = (pdf.w - LABEL_COLUMNS * LABEL_W) / 2
    top = (pdf.h - LABEL_ROWS * LABEL_H) / 2
    per_page = LABEL_COLUMNS * LABEL_ROWS
    if not slots:
        pdf.add_page()
        pdf.set_font("cjk", size=12)
        pdf.cell(0, 10, t("keys.labels.none"))
    for index, slot in enumerate(slots):
        if index % per_page == 0:
            pdf.add_page()
        row, column = divmod(index % per_page, LABEL_COLUMNS)
        x, y = left + column * LABEL_W, top + row * LABEL_H
        pdf.set_draw_color(200, 200, 200)
        pdf.set_line_width(0.1)
        pdf.rect(x, y, LABEL_W, LABEL_H)
        pdf.set_fill_color(*_rgb(colour(slot.colour)))
        pdf.rect(x, y, 4, LABEL_H, style="F")
        pdf.set_text_color(40, 40, 40)
        pdf.set_font("cjk", size=9)
        pdf.set_xy(x + 6, y + 3)
        pdf.cell(LABEL_W - 9, 5, f"{estate.name} · {block_name(slot.block, t)}")
        pdf.set_font("cjk", size=14)
        pdf.set_xy(x + 6, y + 11)
        pdf.cell(LABEL_W - 9, 8, _fit(pdf, slot.label, LABEL_W - 9))
        pdf.set_font("cjk", size=9)
        pdf.set_xy(x + 6, y + 23)
        pdf.cell(LABEL_W - 9, 5, t("keys.labels.slot", board=slot.board, slot=slot.slot))
        pdf.set_font("cjk", size=7)
        pdf.set_xy(x + 6, y + 29)
        pdf.cell(LABEL_W - 9, 4, f"{slot.tag}{' · TM' if slot.tm else ''}")
    return bytes(pdf.output())
