"""Printing a slip at the front desk (R-REL-4): the desk's ESC/POS printers, enrolled as devices by URL, and the
record of each print — the first, or a reprint of an unused slip with the same token — with who printed it where.

A print is recorded only once the printer took the job: a printer out of paper or out of reach changes nothing,
and the slip stays as it was, ready to print again."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from devices.printing import PrintingError, ReleaseSlipPrint, parse_printer_url, print_slip
from devices.printing.profiles import DEFAULT_PROFILE
from server.db.base import utcnow
from server.db.models import Device, DeviceKind, Estate, ReleaseSlip, SlipState
from server.domain import audit
from server.domain.actors import Actor
from server.domain.errors import Conflict, DomainError, NotFound

PRINT_TIMEOUT = 3.0  # seconds the desk waits for a printer to answer before saying it cannot be reached


def check_url(url: str) -> str:
    """A printer's URL as enrolled; a bad one is refused with the forms accepted."""
    url = url.strip()
    try:
        parse_printer_url(url)
    except PrintingError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise DomainError(zh + "：" + en.split(":", 1)[-1].strip(), en, code="bad_printer_url") from None
    return url


def printers(session: Session, estate: Estate) -> list[Device]:
    """The estate's front-desk printers still in service, by name."""
    return list(
        session.scalars(
            select(Device)
            .where(Device.estate_id == estate.id, Device.kind == DeviceKind.printer, Device.revoked_at.is_(None))
            .order_by(Device.name)
        )
    )


def get_printer(session: Session, estate: Estate, device_id: int) -> Device:
    device = session.get(Device, device_id)
    if device is None or device.estate_id != estate.id or device.kind != DeviceKind.printer or device.revoked_at:
        raise NotFound("本小区没有这台打印机", "no such printer in this estate", code="unknown_printer")
    return device


def check_printable(slip: ReleaseSlip) -> None:
    """Only a valid, unused slip is printed: a used, cancelled or revoked one must not reach a gate again."""
    if slip.state != SlipState.issued or slip.revoked_at is not None:
        raise Conflict("只能打印未使用的有效放行条", "only a valid, unused slip can be printed", code="not_reprintable")


def print_at_desk(
    session: Session,
    actor: Actor,
    slip: ReleaseSlip,
    printed: ReleaseSlipPrint,
    printer: Device,
    *,
    now: datetime | None = None,
) -> bool:
    """Print `printed` (the slip as the kiosk would print it) on the desk's `printer` and record it; True when it
    was a reprint. The printer's own complaint (out of paper, cover open, unreachable) is the error shown."""
    check_printable(slip)
    try:
        print_slip(printer.url, printed, DEFAULT_PROFILE, timeout=PRINT_TIMEOUT)
    except PrintingError as exc:
        zh, _, en = str(exc).partition(" / ")
        raise DomainError(
            f"{printer.name}：{zh}" + ("（可能已部分打印）" if exc.job_sent else "（未打印）"),
            f"{printer.name}: {en or zh}",
            code="printer_failed",
            status=503,
        ) from None
    return record_print(session, actor, slip, printer.name, now=now)


def record_print(session: Session, actor: Actor, slip: ReleaseSlip, where: str, *, now: datetime | None = None) -> bool:
    """Log a print of the slip `where` (a printer's name, or the office page); True when it was a reprint. A slip
    the desk issued is printed once, then reprinted; a kiosk's slip came out of the kiosk, so the desk reprints."""
    check_printable(slip)
    reprint = slip.printed_at is not None or slip.channel != "console"
    if reprint:
        slip.reprints += 1
    else:
        slip.printed_at = now or utcnow()
    audit.record(
        session,
        actor,
        "slip.reprint" if reprint else "slip.print",
        "slip",
        slip.id,
        estate_id=slip.estate_id,
        number=slip.number,
        printer=where,
        n=slip.reprints,
    )
    return reprint
