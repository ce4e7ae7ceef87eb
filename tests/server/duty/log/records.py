"""An estate's information-log records for tests that need some (the authorisation matrix): three noise entries
from one unit (the third asks for the written report, R-DUTY-5), a call of the call log, and a handover from the
desk to a relief who has not acknowledged it yet."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from server.db.base import utcnow
from server.db.models import CallTopic, Estate, Role, StaffUser, Unit
from server.domain import staff
from server.domain.actors import SYSTEM
from server.domain.duty import handover, log
from server.domain.service import phone


@dataclass(frozen=True)
class DutyLogRecords:
    entry_id: int  # open
    call_id: int  # not in the log yet
    report_id: int  # asked for, not written
    handover_id: int  # not acknowledged


def duty_log_records(db: Session, estate: Estate, unit: Unit, desk: StaffUser) -> DutyLogRecords:
    at = utcnow()
    entries = [
        log.write(db, SYSTEM, estate, log.EntryIn("normal", "噪音", "楼上噪音", unit=unit.code), at, by=desk)
        for _ in range(log.REPEAT_COUNT)
    ]
    (report,) = log.open_reports(db, estate)
    call = phone.log_call(
        db, SYSTEM, estate,
        phone.Call(room=unit.code, surname="王", phone="13800000001", topic=CallTopic.enquiry, summary="停水时间",
                   read_back=True, handling="回电", anything_else_asked=True, outcome="callback_promised"),
        at, by=desk,
    )  # fmt: skip
    relief = staff.create_user(
        db, SYSTEM, username=f"relief_{estate.code.lower()}", display_name="接班", role=Role.front_desk,
        password="correct-horse-1", estates=[estate],
    )  # fmt: skip
    row = handover.hand_over(db, SYSTEM, estate, at, by=desk, incoming_id=relief.id, results="交班",
                             items=[handover.OpenItem("待回电", desk.id)])  # fmt: skip
    db.flush()
    return DutyLogRecords(entries[0].id, call.id, report.id, row.id)
