"""Slips as the API shows them: the slip body and the data a kiosk prints."""

from __future__ import annotations

from collections.abc import Mapping

from server.contract.schemas import PrintData, SlipItemOut, SlipOut
from server.db.models import Estate, ReleaseSlip
from server.domain.slips import clock


def print_data(slip: ReleaseSlip, estate: Estate) -> PrintData:
    """Both parts of the printed slip (R-REL-4: the stub stays, the customer copy goes to the resident)."""
    notes = []
    if slip.countersign_pending:
        notes.append("代办，待业主补签 / proxy: owner countersign pending")
    if slip.vehicle_plate:
        notes.append(f"车牌 / plate: {slip.vehicle_plate}")
    if slip.note:
        notes.append(slip.note)
    return PrintData(
        title="物品放行条",
        estate_name=estate.name,
        number=slip.number,
        unit=slip.unit_code,
        applicant=slip.applicant_name,
        items=items_out(slip),
        valid_until_local=clock.local_text(estate, slip.valid_until),
        qr_text=slip.token,
        notes=notes,
        copies=["存根联", "客户联"],
    )


def items_out(slip: ReleaseSlip, names_en: Mapping[str, str] | None = None) -> list[SlipItemOut]:
    """The item lines; with `names_en` (catalogue code → English name), coded items carry their English name."""
    english = names_en or {}
    return [
        SlipItemOut(line=i.line, code=i.code, name=i.name, quantity=i.quantity, name_en=english.get(i.code or "", ""))
        for i in slip.items
    ]


def slip_out(
    slip: ReleaseSlip, estate: Estate, *, with_print: bool = False, names_en: Mapping[str, str] | None = None
) -> SlipOut:
    return SlipOut(
        number=slip.number,
        estate=estate.code,
        unit=slip.unit_code,
        applicant_kind=slip.applicant_kind.value,
        state=slip.state.value,
        revoked=slip.revoked_at is not None,
        countersign_pending=slip.countersign_pending,
        planned_date=slip.planned_date,
        valid_until=slip.valid_until,
        issued_at=slip.issued_at,
        vehicle_plate=slip.vehicle_plate,
        items=items_out(slip, names_en),
        token=slip.token,
        print=print_data(slip, estate) if with_print else None,
        applicant=slip.applicant_name,
    )
