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
# A real slip token for these items (RS2: + Base45, all in the QR alphanumeric set).
TOKEN = (
    "RS2:JB0TI0L69T115W54W5NF6R966OCCHQ8T1 V9X3W XP8*N91RHWMSLK5996WLT:O6QV4$S4K919VARMU%M ROBRV4992:M%4O"
    "01QDCO U8+0Q02Q%V9SOTTOUVELQJUXPLLGLPFA :NZ$SEN85LE-3EA4464E6$C:O1 SQR4O$:M%SPA34NZ679T:J9TQM74TZ96-"
    "7768R0/8U+QCHQX*MM93IR1WXK+1DNV80*38.9*:9*YSPB05T3D257$ON4GE3HS62FT0EZI--LS9K L3HYSSP5CKHOIK:G91XLOM"
    "VGQR1YC1$BZ-Q"
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
