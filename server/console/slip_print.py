"""The slip on office paper (R-REL-4): the stub 存根联 and the customer copy 客户联 side by side on an A4 sheet (cut in
two A5 halves) or each on its own A5 page, drawn by the same layout as the thermal slip, QR code and all — so a
laser printer gives the gate the very code a kiosk would have printed."""

from __future__ import annotations

import base64
import io
from dataclasses import replace
from typing import Literal

from fpdf import FPDF
from PIL import Image

from devices.printing import ReleaseSlipPrint
from devices.printing.layout import layout_slip
from devices.printing.profiles import DEFAULT_PROFILE, get_profile
from devices.printing.render import render_blocks
from server.console.slip_exports import CJK_FONT

Paper = Literal["a4", "a5"]
COPIES = (("存根联 Stub", "stub"), ("客户联 Customer copy", "customer"))
SLIP_WIDTH_MM = 80.0  # as wide as the thermal slip, so the code keeps its size on paper
DPI = 203  # the thermal profile's dots, drawn at its own resolution


def copies(printed: ReleaseSlipPrint) -> list[tuple[str, Image.Image]]:
    """(kind, image) of each copy, as the desk's thermal printer would print it."""
    profile = get_profile(DEFAULT_PROFILE)
    return [
        (kind, render_blocks(layout_slip(replace(printed, copy_label=label), profile), profile))
        for label, kind in COPIES
    ]


def png_data_url(image: Image.Image) -> str:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=True)
    return "data:image/png;base64," + base64.b64encode(buffer.getvalue()).decode()


def slip_pdf(printed: ReleaseSlipPrint, paper: Paper = "a4") -> bytes:
    """A4 landscape with both copies and a cut line between them, or one A5 page a copy."""
    pdf = FPDF(orientation="L" if paper == "a4" else "P", format="A4" if paper == "a4" else "A5")
    pdf.add_font("cjk", fname=str(CJK_FONT), collection_font_number=0)
    pdf.set_auto_page_break(auto=False)
    pdf.set_title(f"物品放行条 {printed.slip_number}")
    half_width = pdf.w / 2 if paper == "a4" else pdf.w
    for n, (_kind, image) in enumerate(copies(printed)):
        if paper == "a5" or n == 0:
            pdf.add_page()
        width = SLIP_WIDTH_MM
        height = image.height * width / image.width
        limit = pdf.h - 20
        if height > limit:  # a long slip (many lines, notes) shrinks to the page, keeping its proportions
            width, height = width * limit / height, limit
        left = (half_width - width) / 2 + (half_width if paper == "a4" and n == 1 else 0)
        pdf.image(image.convert("L"), x=left, y=10, w=width, h=height)
    if paper == "a4":
        pdf.set_draw_color(150)
        pdf.set_dash_pattern(dash=2, gap=2)
        pdf.line(pdf.w / 2, 5, pdf.w / 2, pdf.h - 5)
        pdf.set_font("cjk", size=8)
        pdf.set_xy(pdf.w / 2 - 20, pdf.h - 8)
        pdf.cell(40, 4, "沿虚线剪开 cut along the line", align="C")
    return bytes(pdf.output())
