"""The slip `estate devices printer test` prints: Chinese, Latin, a wrapped long name and a QR code."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from devices.printing.slip import ApplicantKind, ReleaseSlipPrint, SlipItem


def diagnostic_slip(now: datetime | None = None) -> ReleaseSlipPrint:
    """A slip that exercises everything a real one does, clearly marked as not valid at a gate."""
    issued = (now or datetime.now(UTC)).replace(microsecond=0)
    number = "TEST-" + issued.strftime("%Y%m%d-%H%M%S")
    return ReleaseSlipPrint(
        estate="打印测试 Printer test",
        title="测试放行条",
        title_en="Test slip - not valid at the gate",
        copy_label="仅供测试 For testing only",
        slip_number=number,
        unit="1栋1单元101",
        applicant="测试员",
        applicant_kind=ApplicantKind.OWNER,
        issued_at=issued,
        valid_until=issued + timedelta(minutes=10),
        items=(
            SlipItem("三人布艺沙发（含靠垫） Three-seat fabric sofa with cushions", 1),
            SlipItem("纸箱 Carton boxes", 12),
            SlipItem("“冰箱”—双门 ￥ ¥", 1),
        ),
        notes="中文、English、数字 0123456789 与标点：，。；！？",
        qr_token=f"ESTATE-PRINTER-TEST.{number}",
    )
