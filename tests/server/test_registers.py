"""Registers and forms declared once, rendered as PDF and XLSX (server/console/registers.py)."""

from __future__ import annotations

import base64
import io
import zlib

from openpyxl import load_workbook

from server.console.registers import Column, Form, Register, form_pdf, png_from_data_url, register_pdf, register_xlsx

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


def test_a_register_and_a_form_print_as_pdf_in_either_language() -> None:
    for lang in ("zh", "en"):
        assert register_pdf(REGISTER, [{"number": "1", "reason": "等配件"}], lang=lang).startswith(b"%PDF")
    form = Form(
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
