"""The printed slip made from the server's answer: one function, so a kiosk and a front-desk printer print the same
slip, with the same token, from the same data (R-REL-4)."""

from __future__ import annotations

from devices.printing import ApplicantKind, ReleaseSlipPrint, SlipItem
from server.contract.schemas import SlipOut


def printable(slip: SlipOut, timezone: str) -> ReleaseSlipPrint:
    """What the printer gets, taken only from the server's confirmed answer (its print data and token)."""
    data = slip.print
    if data is None:
        raise ValueError(f"slip {slip.number} came without print data")
    return ReleaseSlipPrint(
        estate=data.estate_name,
        slip_number=data.number,
        unit=data.unit,
        applicant=data.applicant,
        applicant_kind=ApplicantKind(slip.applicant_kind),
        issued_at=slip.issued_at,
        valid_until=slip.valid_until,
        items=tuple(SlipItem(i.name, i.quantity) for i in data.items),
        qr_token=data.qr_text,
        notes="；".join(data.notes),
        timezone=timezone,
    )
