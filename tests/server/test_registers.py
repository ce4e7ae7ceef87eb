"""Registers and forms declared once, rendered as PDF and XLSX (server/console/registers.py)."""

from __future__ import annotations

import base64
import io
import zlib

from openpyxl import load_workbook

from server.console.registers import (
    Column,
    Form,
    Register,
    form_file,
    form_pdf,
    form_xlsx,
    png_from_data_url,
    register_pdf,
    register_xlsx,
)

REGISTER = Register(
    code="unreturned",
    title_zh="《未返回维修单记录表》",
    title_en="Unreturned repair orders",
    columns=(Column("number", "单号", "Number", 30), Column("reason", "原因", "Reason", 60)),
    signatures=(("制表人", "Prepared by"),),
)


def _png() -> str:
    """A 1×1 PNG as a signature pad's data URL."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return len(data).to_bytes(4, "big") + kind + data + zlib.crc32(kind + data).to_bytes(4, "big")

    header = chunk(b"IHDR", (1).to_bytes(4, "big") * 2 + bytes([8, 0, 0, 0, 0]))
    body = chunk(b"IDAT", zlib.compress(b"\x00\x00")) + chunk(b"IEND", b"")
    return "data:image/png;base64," + base64.b64encode(b"\x89PNG\r\n\x1a\n" + header + body).decode()


def test_a_register_exports_every_row_with_formula_like_text_kept_as_text() -> None:
    rows = [{"number": "GH-WX-202611-0001", "reason": '=HYPERLINK("x")'}, {"number": "GH-WX-202611-0002"}]
    sheet = load_workbook(io.BytesIO(register_xlsx(REGISTER, rows, heading="2026-11"))).active
    assert sheet is not None
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "《未返回维修单记录表》 · 2026-11"
    assert values[1] == ["单号", "原因"]
    assert values[2] == ["GH-WX-202611-0001", '\'=HYPERLINK("x")']
    assert values[3] == ["GH-WX-202611-0002", None]


FORM = Form(
    code="repair",
    title_zh="《工程维修单》",
    title_en="Repair work order",
    fields=(
        Column("number", "单号", "Number"),
        Column("unit", "房号", "Unit"),
        Column("what", "内容", "Work", 100),
    ),
    signatures=(("住户签名", "Resident"), ("维修人", "Repairer")),
)


def test_a_register_and_a_form_print_as_pdf_in_either_language() -> None:
    for lang in ("zh", "en"):
        assert register_pdf(REGISTER, [{"number": "1", "reason": "等配件"}], lang=lang).startswith(b"%PDF")
    form = FORM
    values = {"number": "1", "unit": "5-8B", "what": "换水龙头"}
    with_signature = form_pdf(form, values, signatures={"住户签名": _png()})
    without = form_pdf(form, values)
    assert with_signature.startswith(b"%PDF") and b"/Subtype /Image" in with_signature
    assert b"/Subtype /Image" not in without


def test_only_png_data_urls_are_taken_as_signatures() -> None:
    assert png_from_data_url(_png()) is not None
    assert png_from_data_url("data:image/png;base64,not-base64!") is None
    assert png_from_data_url("data:image/png;base64," + base64.b64encode(b"GIF89a").decode()) is None
    assert png_from_data_url("javascript:alert(1)") is None


def test_a_form_exports_as_one_sheet_of_its_fields_and_signature_boxes_formulas_kept_as_text() -> None:
    """A form's XLSX: the title, the heading, a row per field in the form's order, a row per signature box marked
    signed (with its time) only when a real PNG was captured; a value a resident typed starting with = + - @ stays
    text, never a formula."""
    values = {"number": "=1+1", "unit": "@SUM(A1)", "what": "换水龙头\n-厨房"}
    body = form_xlsx(
        FORM, values, heading="观海台", signatures={"住户签名": _png(), "维修人": "data:image/png;base64,bad"},
        signed_at={"住户签名": "2026-11-03 10:15", "维修人": "2026-11-03 10:20"},
    )  # fmt: skip
    sheet = load_workbook(io.BytesIO(body)).active
    assert sheet is not None and sheet.title == "repair"
    rows = [[c.value for c in row] for row in sheet.iter_rows()]
    assert rows == [
        ["《工程维修单》", None],
        ["观海台", None],
        ["单号", "'=1+1"],
        ["房号", "'@SUM(A1)"],
        ["内容", "换水龙头\n-厨房"],
        ["住户签名", "已签 2026-11-03 10:15"],
        ["维修人", None],  # not a PNG: not signed, whatever time was given
    ]
    assert all(cell.data_type != "f" for row in sheet.iter_rows() for cell in row)
    assert sheet["A1"].font.bold and sheet["B5"].alignment.wrap_text
    english = load_workbook(io.BytesIO(form_xlsx(FORM, {"number": "1"}, lang="en", signatures={"住户签名": _png()})))
    sheet = english.active
    assert sheet is not None
    assert [[c.value for c in row] for row in sheet.iter_rows()] == [
        ["Repair work order", None], ["Number", "1"], ["Unit", None], ["Work", None], ["Resident", "signed"],
        ["Repairer", None],
    ]  # fmt: skip


def test_a_forms_route_answers_the_pdf_inline_and_the_workbook_as_an_attachment() -> None:
    pdf = form_file("pdf", FORM, {"number": "1"}, "repair-order-1")
    xlsx = form_file("xlsx", FORM, {"number": "1"}, "repair-order-1")
    assert pdf.media_type == "application/pdf" and bytes(pdf.body).startswith(b"%PDF")
    assert pdf.headers["content-disposition"] == "inline; filename*=UTF-8''repair-order-1.pdf"
    assert xlsx.headers["content-disposition"] == "attachment; filename*=UTF-8''repair-order-1.xlsx"
    assert load_workbook(io.BytesIO(bytes(xlsx.body))).active["A1"].value == "《工程维修单》"  # type: ignore[index]
