"""Slips as the API shows them: the slip body and the data a kiosk prints."""

from __future__ import annotations

from collections.abc import Mapping

from server.contract.schemas import PrintData, SlipItemOut, SlipOut
from server.db.models import Estate, ReleaseSlip
from server.domain import clock


def print_data(slip: ReleaseSlip, estate: Estate, english: Mapping[str, str]) -> PrintData:
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
        items=items_out(slip, english),
        valid_until_local=clock.local_text(estate, slip.valid_until),
        qr_text=slip.token,
        notes=notes,
        copies=["存根联", "客户联"],
    )


def items_out(slip: ReleaseSlip, english: Mapping[str, str]) -> list[SlipItemOut]:
    """The slip's lines; `english` is the estate's catalogue code → English name (`catalogue.english_names`)."""
    return [
        SlipItemOut(line=i.line, code=i.code, name=i.name, name_en=english.get(i.code or "", ""), quantity=i.quantity)
        for i in slip.items
    ]


def slip_out(slip: ReleaseSlip, estate: Estate, english: Mapping[str, str], *, with_print: bool = False) -> SlipOut:
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
        items=items_out(slip, english),
        token=slip.token,
        print=print_data(slip, estate, english) if with_print else None,
        applicant=slip.applicant_name,
    )
