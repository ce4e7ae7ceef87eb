"""The QR code on a kiosk order's printed confirmation: ASCII in the QR alphanumeric set, signed by the server so
that it names one order only; scanned at the kiosk it shows that order as it stands, and a forged code nothing."""

from __future__ import annotations

import uuid

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from server.contract import base45, order_receipt
from server.db.models import AuditEntry
from tests.server.service.service_world import counts, quick_hashing
from tests.server.service.test_service_api import SLOT_14, Kiosk, kiosk, repair

__all__ = ["kiosk", "quick_hashing"]  # the fixtures, used by name

KEY = bytes(range(32))


def test_the_code_is_alphanumeric_short_and_names_its_order_only() -> None:
    code = order_receipt.encode("GH-WX-202611-0042", KEY)
    assert set(code) <= set(base45.ALPHABET) and len(code) <= 40
    assert order_receipt.verify(code, KEY) == "GH-WX-202611-0042"
    assert order_receipt.verify(f"  {code.lower()}\n", KEY) == "GH-WX-202611-0042"  # a reader's lower case
    forged = code.replace("0042", "0043")
    assert order_receipt.verify(forged, KEY) is None
    assert order_receipt.verify(code[:-1] + ("A" if code[-1] != "A" else "B"), KEY) is None
    assert order_receipt.verify(code, bytes(32)) is None  # another server's secret
    for text in ("", "SO1:", "SO1:GH-WX-1:SHORT", "SO2" + code[3:], code + "A", "x" * 500):
        assert order_receipt.verify(text, KEY) is None
    with pytest.raises(ValueError):
        order_receipt.encode("gh wx 1", KEY)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
def test_a_scanned_confirmation_shows_its_order_and_a_forged_one_nothing(kiosk: Kiosk, db: Session) -> None:
    """R-REP-1: the order opened at the kiosk carries its code (a retry gets the same); the code shows the order's
    state now, logged; a forged or malformed code is refused with one answer and changes nothing."""
    key = uuid.uuid4().hex
    opened = kiosk.post("/repairs", repair(slot=SLOT_14), key).json()
    code = opened["receipt_code"]
    assert order_receipt.verify(code, bytes(32)) is None and code.startswith("SO1:" + opened["number"] + ":")
    assert kiosk.post("/repairs", repair(slot=SLOT_14), key).json()["receipt_code"] == code
    shown = kiosk.post("/receipt", {"code": code})
    assert shown.status_code == 200, shown.text
    body = shown.json()
    assert body["number"] == opened["number"] and body["state"] == "new" and body["receipt_code"] == ""
    assert body["appointment_start"] == opened["appointment_start"]
    db.rollback()
    assert db.scalar(select(AuditEntry).where(AuditEntry.action == "kiosk.receipt_lookup")) is not None
    before = counts(db)
    for text in (code.replace(opened["number"], opened["number"][:-4] + "0002"), "SO1:NOPE", "hello"):
        refused = kiosk.post("/receipt", {"code": text})
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "receipt_unknown"
    assert kiosk.post("/receipt", {"code": ""}).status_code == 422
    assert kiosk.post("/receipt", {"code": code, "unit": "5-8B"}).status_code == 422
    assert counts(db) == before
