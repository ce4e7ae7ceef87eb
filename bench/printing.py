"""Release-slip printing: bytes, transmit time and build time for one slip with 10 Chinese item lines.

Side by side: our native mode, our raster mode (80 mm at 576 dots and Epson TM at 512 dots), and python-escpos's
own defaults for the same content (`text()` and `qr()` with its default image QR). Prints one JSON line.
Targets (issue 3): native slip <= 1.5 KB, built in <= 20 ms.
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import statistics
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

os.environ.setdefault("ESCPOS_CAPABILITIES_PICKLE_DIR", str(Path(__file__).resolve().parents[1] / "var/cache/escpos"))

from escpos.printer import Dummy

from devices.printing import ApplicantKind, ReleaseSlipPrint, SlipItem, get_profile, slip_bytes
from devices.printing.layout import TextLine, layout_slip, qr_module_dots
from devices.printing.qrmatrix import qr_modules

BAUDS = (9600, 115200)
BITS_PER_BYTE = 10  # 8N1: start bit, 8 data bits, stop bit
ROUNDS = 30


def sample_slip() -> ReleaseSlipPrint:
    issued = datetime(2026, 11, 27, 6, 30, tzinfo=UTC)
    items = [
        ("三人布艺沙发", 1),
        ("双门冰箱", 1),
        ("滚筒洗衣机", 1),
        ("实木餐桌", 1),
        ("餐椅", 4),
        ("书柜（拆开）", 2),
        ("纸箱", 12),
        ("液晶电视五十五寸", 1),
        ("床垫一点八米", 1),
        ("自行车", 2),
    ]
    # A real token of ten Chinese item lines (RS2: + Base45, QR alphanumeric mode), as the server signs it.
    token = (
        "RS2:JB0TI0L69T115W54W5NF6R966OCCHQ8T1 V9X3W XP8*N91RHWMSLK5996WLT:O6QV4$S4K919VARMU%M ROBRV4992:M%4O"
        "01QDCO U8+0Q02Q%V9SOTTOUVELQJUXPLLGLPFA :NZ$SEN85LE-3EA4464E6$C:O1 SQR4O$:M%SPA34NZ679T:J9TQM74TZ96-"
        "7768R0/8U+QCHQX*MM93IR1WXK+1DNV80*38.9*:9*YSPB05T3D257$ON4GE3HS62FT0EZI--LS9K L3HYSSP5CKHOIK:G91XLOM"
        "VGQR1YC1$BZ-Q"
    )
    return ReleaseSlipPrint(
        estate="观海台小区",
        slip_number="R20261127-0042",
        unit="3栋2单元1201",
        applicant="张三",
        applicant_kind=ApplicantKind.OWNER,
        issued_at=issued,
        valid_until=issued + timedelta(hours=24),
        items=tuple(SlipItem(n, q) for n, q in items),
        notes="搬家，请门岗协助",
        qr_token=token,
    )


def python_escpos_defaults(slip: ReleaseSlipPrint) -> bytes:
    """The same text and QR through python-escpos's own text() and default (image) qr()."""
    profile = get_profile("cn80")
    lines = [b.full_text(profile.columns) for b in layout_slip(slip, profile) if isinstance(b, TextLine)]
    printer = Dummy()
    # python-escpos prints a notice about its default profile's unknown paper width on stdout; keep it off ours.
    with contextlib.redirect_stdout(io.StringIO()):
        printer.text("\n".join(lines) + "\n")
        printer.qr(slip.qr_token)
        printer.cut()
    return printer.output


def median_ms(build: Callable[[], bytes]) -> float:
    build()  # warm caches (glyphs, font) as a running kiosk has them
    times = []
    for _ in range(ROUNDS):
        start = time.perf_counter()
        build()
        times.append((time.perf_counter() - start) * 1000)
    return round(statistics.median(times), 3)


def figures(data: bytes, build: Callable[[], bytes]) -> dict[str, float | int]:
    out: dict[str, float | int] = {"bytes": len(data)}
    for baud in BAUDS:
        out[f"send_s_{baud}"] = round(len(data) * BITS_PER_BYTE / baud, 3)
    out["build_ms"] = median_ms(build)
    return out


def main() -> None:
    slip = sample_slip()
    cases: dict[str, Callable[[], bytes]] = {
        "native_cn80": lambda: slip_bytes(slip, "cn80"),
        "native_cn58": lambda: slip_bytes(slip, "cn58"),
        "raster_cn80": lambda: slip_bytes(slip, "cn80", "raster"),
        "raster_tm512": lambda: slip_bytes(slip, "tm512"),
        "escpos_defaults": lambda: python_escpos_defaults(slip),
    }
    modules = qr_modules(slip.qr_token)
    result: dict[str, object] = {
        "bench": "printing",
        "items": len(slip.items),
        "qr_chars": len(slip.qr_token),
        "qr_version": (modules - 17) // 4,
        "qr_module_dots": {p: qr_module_dots(slip.qr_token, get_profile(p)) for p in ("cn80", "cn58", "tm512")},
    }
    for name, build in cases.items():
        result[name] = figures(build(), build)
    native = result["native_cn80"]
    assert isinstance(native, dict)
    result["targets"] = {
        "native_bytes_le_1536": native["bytes"] <= 1536,
        "native_build_ms_le_20": native["build_ms"] <= 20,
    }
    print(json.dumps(result, ensure_ascii=False))


if __name__ == "__main__":
    main()
