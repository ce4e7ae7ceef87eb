"""Shared fixtures: sample slips, a running virtual printer, and QR decoding of rendered PNGs."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault(
    "ESCPOS_CAPABILITIES_PICKLE_DIR", str(Path(__file__).resolve().parents[3] / "var" / "cache" / "escpos")
)

import pytest
import zxingcpp
from PIL import Image

from devices.printing import ApplicantKind, ReleaseSlipPrint, SlipItem
from devices.printing.virtual import VirtualPrinter

ISSUED = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)
TEN_ITEMS = (
    ("三人布艺沙发", 1),
    ("双门冰箱", 1),
    ("滚筒洗衣机", 1),
    ("实木餐桌", 1),
    ("餐椅", 4),
    ("书柜（拆开）", 2),
    ("纸箱 Carton boxes", 12),
    ("液晶电视 55寸", 1),
    ("床垫 1.8米", 1),
    ("自行车", 2),
)
TOKEN = (
    "RS1.k2.R20261127-0042.GHT.3-2-1201.20261128T0630Z."
    "SOFA3*1,FRDG*1,WASH*1,TABL*1,CHR*4,BOOK*2,BOX*12,TV55*1,MATT*1,BIKE*2."
    "q0Jb7hNf3kX9cT2mR8vW1yZ4pL6sD0aE5uG7iH3jK9oB2nM4xC8vQ1wF6tY0rU3eA5sD7fG9hJ2kL4zX6cV8bN0mQ1w"
)


def make_slip(**changes: object) -> ReleaseSlipPrint:
    fields: dict[str, object] = {
        "estate": "观海台小区",
        "slip_number": "R20261127-0042",
        "unit": "3栋2单元1201",
        "applicant": "张三",
        "applicant_kind": ApplicantKind.OWNER,
        "issued_at": ISSUED,
        "valid_until": ISSUED + timedelta(hours=24),
        "items": tuple(SlipItem(name, qty) for name, qty in TEN_ITEMS),
        "notes": "搬家，请门岗协助。押金 ¥200 已交",
        "qr_token": TOKEN,
    }
    fields.update(changes)
    return ReleaseSlipPrint(**fields)  # type: ignore[arg-type]


@pytest.fixture
def slip_factory() -> Callable[..., ReleaseSlipPrint]:
    return make_slip


@pytest.fixture
def virtual_printer(tmp_path: Path) -> Iterator[VirtualPrinter]:
    with VirtualPrinter(tmp_path / "jobs") as printer:
        yield printer


def decode_qr(png: Path) -> list[str]:
    """Every QR code zxing-cpp finds in the PNG, as text."""
    image = Image.open(png).convert("L")
    found = zxingcpp.read_barcodes(image, formats=zxingcpp.BarcodeFormat.QRCode)
    return [code.text for code in found]
