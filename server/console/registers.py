"""Registers and forms declared once (WORKFLOWS.md, "Forms and registers"): a register is a table of the manual
(《未返回维修单记录表》, 《家政服务记录表》 …) with its title, its columns and the signature boxes at its foot; a form
is one record on paper (《工程维修单》, 《客户意见处理单》) with its fields and its signature boxes. Each declaration is
rendered as a PDF in the paper form's layout (fpdf2, a CJK font) and as XLSX (openpyxl), every cell neutralised against
formulas; the console page shows the same columns through `headers`. A form's route answers both from the same values
through `form_file`.

Rows and values are mappings from a column's key to its value; a value that is a `datetime` should already be local
text (the caller knows the estate's zone)."""

from __future__ import annotations

import base64
import binascii
import io
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import quote

from fpdf import FPDF
from fpdf.enums import WrapMode
from openpyxl import Workbook
from openpyxl.styles import Alignment, Font
from openpyxl.utils import get_column_letter
from starlette.responses import Response

from server.console.slip_exports import CJK_FONT
from server.console.spreadsheet import inert, inert_row

Label = tuple[str, str]  # (Chinese, English)
PNG_DATA_URL = "data:image/png;base64,"
XLSX_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SIGNED: Label = ("已签", "signed")
WRAP_AT = 40  # a value longer than this (or of several lines) wraps in its cell


@dataclass(frozen=True)
class Column:
    key: str
    zh: str
    en: str
    width: float = 20  # a share of the page's width, against the other columns' shares

    def label(self, lang: str) -> str:
        return self.zh if lang == "zh" else self.en


@dataclass(frozen=True)
class Register:
    code: str  # the file name's stem: "unreturned-repairs"
    title_zh: str  # as in the manual: 《未返回维修单记录表》
    title_en: str
    columns: tuple[Column, ...]
    signatures: tuple[Label, ...] = ()  # boxes at the foot: (("制表人", "Prepared by"), …)
    landscape: bool = True
    blank_lines: int = 5  # lines left to write on by hand after the last row

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en

    def headers(self, lang: str) -> list[str]:
        return [c.label(lang) for c in self.columns]


@dataclass(frozen=True)
class Form:
    code: str
    title_zh: str
    title_en: str
    fields: tuple[Column, ...]  # a field's `width` above 50 takes the whole line; others pair up two to a line
    signatures: tuple[Label, ...] = field(default=())

    def title(self, lang: str) -> str:
        return self.title_zh if lang == "zh" else self.title_en


def _text(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "✓" if value else ""
    return str(value)


class Paper(FPDF):
    """A4 with the page's number (and a line naming the estate and the form) at the foot of every page."""

    def __init__(self, *, landscape: bool, foot: str = "") -> None:
        super().__init__(orientation="L" if landscape else "P", format="A4")
        self.foot = foot

    def footer(self) -> None:
        self.set_y(-9)
        self.set_font("cjk", size=7)
        self.cell(0, 5, self.foot, align="L")
        self.set_x(self.l_margin)
        self.cell(0, 5, f"{self.page_no()} / {{nb}}", align="R")


def _pdf(landscape: bool, foot: str = "") -> FPDF:
    pdf = Paper(landscape=landscape, foot=foot)
    for style in ("", "B"):  # one face serves both: table headings ask for bold
        pdf.add_font("cjk", style=style, fname=str(CJK_FONT), collection_font_number=0)
    pdf.set_margins(10, 10, 10)
    pdf.set_auto_page_break(auto=True, margin=12)
    return pdf


def signature_boxes(
    pdf: FPDF, signatures: Sequence[Label], lang: str, images: Mapping[str, str] | None = None, *, height: float = 22
) -> None:
    """The boxes at a form's foot, side by side, each headed by who signs and holding the captured signature (a PNG
    data URL keyed by the box's Chinese label) when there is one; a new page when they would not fit."""
    if not signatures:
        return
    pdf.ln(6)
    if pdf.get_y() + height + 9 > pdf.h - pdf.b_margin:
        pdf.add_page()
    pdf.set_font("cjk", size=10)
    box_w = pdf.epw / len(signatures)
    y = pdf.get_y()
    for index, (zh, en) in enumerate(signatures):
        x = pdf.l_margin + index * box_w
        pdf.set_xy(x, y)
        pdf.cell(box_w, 7, zh if lang == "zh" else en, border="LTR")
        pdf.rect(x, y + 7, box_w, height)
        png = png_from_data_url((images or {}).get(zh, ""))
        if png is not None:
            pdf.image(io.BytesIO(png), x=x + 2, y=y + 8, h=height - 2, keep_aspect_ratio=True, w=box_w - 4)
    pdf.set_xy(pdf.l_margin, y + height + 9)


def register_pdf(
    register: Register, rows: Iterable[Mapping[str, object]], *, lang: str = "zh", heading: str = ""
) -> bytes:
    """The register on A4 in its columns, the headings repeated on every page, a few blank lines to write on and
    the signature boxes at the foot; every page numbered, its foot naming the register and `heading` (the estate and
    the period)."""
    pdf = _pdf(register.landscape, foot=" · ".join(p for p in (register.title(lang), heading) if p))
    pdf.add_page()
    pdf.set_font("cjk", size=15)
    pdf.cell(0, 9, register.title(lang), align="C", new_x="LMARGIN", new_y="NEXT")
    if heading:
        pdf.set_font("cjk", size=9)
        pdf.cell(0, 6, heading, new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=8)
    width = len(register.columns)
    with pdf.table(
        col_widths=tuple(c.width for c in register.columns),
        line_height=4.6,
        min_row_height=8,
        text_align="LEFT",
        wrapmode=WrapMode.CHAR,  # Chinese has no spaces to break at
        repeat_headings=1,
    ) as table:
        table.row(register.headers(lang))
        for row in rows:
            table.row([_text(row.get(c.key)) for c in register.columns])
        for _ in range(register.blank_lines):
            table.row([""] * width)
    signature_boxes(pdf, register.signatures, lang, height=16)
    return bytes(pdf.output())


def register_xlsx(
    register: Register, rows: Iterable[Mapping[str, object]], *, lang: str = "zh", heading: str = ""
) -> bytes:
    """The register as a workbook: its title (and `heading`), the column headings, one row per record."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = register.code[:31]
    sheet.append(inert_row([register.title(lang) + (f" · {heading}" if heading else "")]))
    sheet["A1"].font = Font(bold=True)
    sheet.append(inert_row(register.headers(lang)))
    for cell in sheet[2]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append([inert(row.get(c.key)) for c in register.columns])
    for index, column in enumerate(register.columns, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = column.width * 0.8 + 4
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def png_from_data_url(data_url: str) -> bytes | None:
    """The PNG bytes of a signature pad's data URL, or None when it is not one."""
    if not data_url.startswith(PNG_DATA_URL):
        return None
    try:
        raw = base64.b64decode(data_url[len(PNG_DATA_URL) :], validate=True)
    except (binascii.Error, ValueError):
        return None
    return raw if raw.startswith(b"\x89PNG\r\n\x1a\n") else None


def form_pdf(
    form: Form,
    values: Mapping[str, object],
    *,
    lang: str = "zh",
    heading: str = "",
    signatures: Mapping[str, str] | None = None,
) -> bytes:
    """One record on portrait A4 in the form's layout: a grid of labelled fields (two to a line, a wide field on a
    line of its own) and the signature boxes, each holding its signature (a PNG data URL, keyed by the box's
    Chinese label) when one was captured."""
    pdf = _pdf(landscape=False, foot=" · ".join(p for p in (form.title(lang), heading) if p))
    pdf.add_page()
    pdf.set_font("cjk", size=16)
    pdf.cell(0, 10, form.title(lang), align="C", new_x="LMARGIN", new_y="NEXT")
    if heading:
        pdf.set_font("cjk", size=9)
        pdf.cell(0, 6, heading, align="R", new_x="LMARGIN", new_y="NEXT")
    full = pdf.epw
    label_w = 30.0
    pdf.set_font("cjk", size=10)

    def box(label: str, value: str, w: float) -> None:
        x, y = pdf.get_x(), pdf.get_y()
        pdf.set_fill_color(238, 241, 245)
        pdf.multi_cell(label_w, 8, label, border=1, fill=True, new_x="RIGHT", new_y="TOP", max_line_height=5)
        pdf.set_xy(x + label_w, y)
        pdf.multi_cell(w - label_w, 8, value, border=1, new_x="RIGHT", new_y="TOP", max_line_height=5)

    pending: list[Column] = []

    def flush_pair() -> None:
        if not pending:
            return
        y = pdf.get_y()
        for index, column in enumerate(pending):
            pdf.set_xy(pdf.l_margin + index * full / 2, y)
            box(column.label(lang), _text(values.get(column.key)), full / 2)
        pdf.set_xy(pdf.l_margin, y + 8)
        pending.clear()

    for column in form.fields:
        if column.width > 50:
            flush_pair()
            text = _text(values.get(column.key))
            pdf.set_fill_color(238, 241, 245)
            y = pdf.get_y()
            pdf.multi_cell(label_w, 8, column.label(lang), border=1, fill=True, new_x="RIGHT", new_y="TOP")
            pdf.set_xy(pdf.l_margin + label_w, y)
            pdf.multi_cell(full - label_w, 8, text, border=1, new_x="LMARGIN", new_y="NEXT")
        else:
            pending.append(column)
            if len(pending) == 2:
                flush_pair()
    flush_pair()
    signature_boxes(pdf, form.signatures, lang, signatures)
    return bytes(pdf.output())


def form_xlsx(
    form: Form,
    values: Mapping[str, object],
    *,
    lang: str = "zh",
    heading: str = "",
    signatures: Mapping[str, str] | None = None,
    signed_at: Mapping[str, str] | None = None,
) -> bytes:
    """One record as a workbook, from the same inputs as `form_pdf`: a sheet named after the form's code, its title
    (bold) and `heading`, one row per field (label, value) in the form's order — a long or multi-line value wraps —
    then one row per signature box: its label and "已签" / "signed" (with the time from `signed_at`, keyed like
    `signatures` by the box's Chinese label, when known) if a signature was captured, else empty."""
    book = Workbook()
    sheet = book.active
    assert sheet is not None
    sheet.title = form.code[:31]
    sheet.append(inert_row([form.title(lang)]))
    sheet["A1"].font = Font(bold=True, size=14)
    if heading:
        sheet.append(inert_row([heading]))
    wrap = Alignment(wrap_text=True, vertical="top")
    for column in form.fields:
        value = values.get(column.key)
        cell_value = value if isinstance(value, (int, float, str)) and not isinstance(value, bool) else _text(value)
        sheet.append(inert_row([column.label(lang), None if cell_value == "" else cell_value]))
        label_cell, value_cell = sheet[sheet.max_row]
        label_cell.font = Font(bold=True)
        label_cell.alignment = Alignment(vertical="top")
        if isinstance(cell_value, str) and ("\n" in cell_value or len(cell_value) > WRAP_AT or column.width > 50):
            value_cell.alignment = wrap
    for zh, en in form.signatures:
        signed = png_from_data_url((signatures or {}).get(zh, "")) is not None
        when = (signed_at or {}).get(zh, "") if signed else ""
        mark = " ".join(p for p in ((SIGNED[0] if lang == "zh" else SIGNED[1]) if signed else "", when) if p)
        sheet.append(inert_row([zh if lang == "zh" else en, mark or None]))
        sheet.cell(sheet.max_row, 1).font = Font(bold=True)
    sheet.column_dimensions["A"].width = 28
    sheet.column_dimensions["B"].width = 70
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def form_file(
    fmt: Literal["pdf", "xlsx"],
    form: Form,
    values: Mapping[str, object],
    stem: str,
    *,
    lang: str = "zh",
    heading: str = "",
    signatures: Mapping[str, str] | None = None,
    signed_at: Mapping[str, str] | None = None,
) -> Response:
    """A form's route answer: the PDF shown inline, or the workbook as an attachment, named `stem`.pdf / .xlsx."""
    name = quote(f"{stem}.{fmt}")
    if fmt == "pdf":
        body = form_pdf(form, values, lang=lang, heading=heading, signatures=signatures)
        return Response(
            body, media_type="application/pdf", headers={"Content-Disposition": f"inline; filename*=UTF-8''{name}"}
        )
    body = form_xlsx(form, values, lang=lang, heading=heading, signatures=signatures, signed_at=signed_at)
    return Response(body, media_type=XLSX_TYPE, headers={"Content-Disposition": f"attachment; filename*=UTF-8''{name}"})


@dataclass(frozen=True)
class Table:
    """A table of a report's section: its headings and its rows, already text or numbers."""

    headers: tuple[str, ...]
    rows: tuple[tuple[object, ...], ...]
    widths: tuple[float, ...] = ()


@dataclass(frozen=True)
class Section:
    title: str
    tables: tuple[Table, ...]


def pack_pdf(
    title: str,
    cover: Sequence[str],
    sections: Sequence[Section],
    *,
    lang: str = "zh",
    foot: str = "",
    signatures: Sequence[Label] = (),
    contents: str = "",
) -> bytes:
    """A report pack on portrait A4: a cover page (the title, `cover`'s lines, the sections' list under `contents`,
    the signature boxes), then each section under its title with its tables; every page numbered."""
    pdf = _pdf(landscape=False, foot=foot)
    pdf.add_page()
    pdf.ln(40)
    pdf.set_font("cjk", size=22)
    pdf.cell(0, 14, title, align="C", new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("cjk", size=12)
    for line in cover:
        pdf.cell(0, 8, line, align="C", new_x="LMARGIN", new_y="NEXT")
    if contents:
        pdf.ln(10)
        pdf.set_font("cjk", size=13)
        pdf.cell(0, 8, contents, new_x="LMARGIN", new_y="NEXT")
        pdf.set_font("cjk", size=11)
        for number, section in enumerate(sections, start=1):
            pdf.cell(0, 7, f"{number}. {section.title}", new_x="LMARGIN", new_y="NEXT")
    signature_boxes(pdf, signatures, lang)
    for number, section in enumerate(sections, start=1):
        if number == 1 or pdf.get_y() > pdf.h * 0.7:
            pdf.add_page()
        else:
            pdf.ln(4)
        pdf.set_font("cjk", size=14)
        pdf.cell(0, 9, f"{number}. {section.title}", new_x="LMARGIN", new_y="NEXT")
        for table in section.tables:
            pdf.set_font("cjk", size=9)
            with pdf.table(
                col_widths=table.widths or None,
                line_height=5,
                text_align="LEFT",
                wrapmode=WrapMode.CHAR,
                repeat_headings=1,
            ) as grid:
                grid.row(table.headers)
                for row in table.rows:
                    grid.row([_text(v) for v in row])
            pdf.ln(3)
    return bytes(pdf.output())
