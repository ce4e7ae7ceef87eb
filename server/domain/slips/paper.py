"""A slip's signatures (R-REL-2, R-REL-3): the applicant signs on the kiosk's touch screen or on the console's pad
before the slip is printed, and the owner countersigns a proxy's slip later the same way. Each signature is a PNG
kept with the slip as an attachment, at most 200 KB; a larger or broken one is refused before anything is written."""

from __future__ import annotations

import base64

from sqlalchemy import select
from sqlalchemy.orm import Session

from server.db.models import ReleaseSlip, SlipAttachment
from server.domain.service.signatures import PNG_DATA_URL, resident_signature

MAX_SLIP_SIGNATURE = 200 * 1024
MAX_SIGNATURE_B64 = MAX_SLIP_SIGNATURE * 2  # what a request may carry, so a larger image gets the clear refusal
SIGNATURE = "signature"  # the applicant's, when the slip is issued
COUNTERSIGN = "countersign"  # the owner's, after a proxy took the slip (R-REL-3)


def from_data_url(data_url: str) -> bytes:
    """The PNG of a console pad's data URL (`signature_too_large`, `bad_signature`, `missing_fields`)."""
    checked = resident_signature(data_url, MAX_SLIP_SIGNATURE)
    return base64.b64decode(checked[len(PNG_DATA_URL) :])


def from_base64(text: str) -> bytes:
    """The PNG a kiosk sends as base64."""
    return from_data_url(PNG_DATA_URL + text.strip())


def attach(session: Session, slip: ReleaseSlip, kind: str, png: bytes) -> SlipAttachment:
    found = SlipAttachment(slip_id=slip.id, kind=kind, media_type="image/png", data=png)
    session.add(found)
    return found


def signatures(session: Session, slip_ids: list[int]) -> dict[int, set[str]]:
    """Which signatures each slip has (for the register's export)."""
    out: dict[int, set[str]] = {i: set() for i in slip_ids}
    if not slip_ids:
        return out
    rows = session.execute(
        select(SlipAttachment.slip_id, SlipAttachment.kind).where(
            SlipAttachment.slip_id.in_(slip_ids), SlipAttachment.kind.in_([SIGNATURE, COUNTERSIGN])
        )
    )
    for slip_id, kind in rows:
        out[slip_id].add(kind)
    return out
