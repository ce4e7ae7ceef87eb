"""The archive room's rules (R-ARC) with the clock controlled: loans of at most a day, approvals, overdue loans,
destruction of expired files, the quarterly completeness check, the access register."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, date, datetime, timedelta

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from server.db.models import AuditEntry, Estate, Role, StaffUser, StepHistory
from server.db.models.archive import ArchiveCheck, ArchiveDestruction, ArchiveLoan, ArchiveLoanState, FileState
from server.domain.actors import SYSTEM
from server.domain.archive import files, loans, room
from server.domain.archive.files import FileFields
from server.domain.archive.loans import ArchiveBorrower
from server.domain.errors import DomainError

NOW = datetime(2026, 11, 30, 2, 0, tzinfo=UTC)  # Monday 10:00 in Shanghai
SIGNATURE = (  # a 1x1 PNG
    "data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAAAAAA6fptVAAAACklEQVR4nGNgAAAAAgABSK+kcQAAAABJRU5ErkJggg=="
)


def counts(db: Session) -> dict[str, int]:
    return {
        m.__name__: db.scalar(select(func.count()).select_from(m)) or 0
        for m in (ArchiveLoan, ArchiveDestruction, ArchiveCheck, StepHistory, AuditEntry)
    }


@pytest.fixture
def people(make_user: Callable[..., StaffUser]) -> dict[str, StaffUser]:
    return {r: make_user(Role(r)) for r in ("front_desk", "records_admin", "cs_manager", "engineering")}


def new_file(db: Session, estate: Estate, by: StaffUser, *, level: str = "internal", filed: date = date(2026, 1, 5),
             years: int | None = 10) -> files.ArchiveFile:  # fmt: skip
    fields = FileFields("contract", "保洁外包合同", "A-03", filed, years, level)
    return files.create(db, SYSTEM, estate, fields, by=by, now=NOW)


def test_r_arc_two_day_loan_without_approval_refused_then_approved(db: Session, estate: Estate, people) -> None:
    """R-ARC: a loan of two days without approval is refused, nothing changed; requested, approved, handed over."""
    desk, manager = people["front_desk"], people["cs_manager"]
    file = new_file(db, estate, people["records_admin"])
    db.commit()
    before = counts(db)
    borrower = ArchiveBorrower(staff=desk)
    with pytest.raises(DomainError) as refused:
        loans.lend(db, SYSTEM, file, borrower, due_at=NOW + timedelta(days=2), no_copying=True, signature=SIGNATURE,
                   by=desk, now=NOW)  # fmt: skip
    assert refused.value.code == "needs_approval"
    db.rollback()
    assert counts(db) == before
    loan = loans.request(db, SYSTEM, file, borrower, due_at=NOW + timedelta(days=2), by=desk, now=NOW, purpose="审计")
    with pytest.raises(DomainError):  # the desk cannot approve
        loans.approve(db, SYSTEM, loan, by=desk, now=NOW)
    loans.approve(db, SYSTEM, loan, by=manager, now=NOW)
    with pytest.raises(DomainError) as unticked:
        loans.hand_over(db, SYSTEM, loan, no_copying=False, signature=SIGNATURE, by=desk, now=NOW)
    assert unticked.value.code == "missing_fields"
    loans.hand_over(db, SYSTEM, loan, no_copying=True, signature=SIGNATURE, by=desk, now=NOW)
    assert loan.state == ArchiveLoanState.out and loan.approved_by_id == manager.id
    history = db.scalars(select(StepHistory.transition).where(StepHistory.record_id == loan.id)).all()
    assert history == ["request", "approve", "hand_over"]
    # a file already out cannot be lent again
    with pytest.raises(DomainError) as again:
        loans.lend(db, SYSTEM, file, ArchiveBorrower(staff=manager), due_at=NOW + timedelta(hours=2),
                   no_copying=True, signature=SIGNATURE, by=desk, now=NOW)  # fmt: skip
    assert again.value.code == "file_out"


def test_r_arc_outside_loan_and_confidential_file_need_approval(db: Session, estate: Estate, people) -> None:
    """R-ARC: a loan outside the company, or of a file above the borrower's level, needs the CS centre's approval."""
    desk = people["front_desk"]
    public = new_file(db, estate, people["records_admin"], level="public")
    secret = new_file(db, estate, people["records_admin"], level="secret")
    outside = ArchiveBorrower(name="李审计", company="某会计师事务所")
    for file, borrower in ((public, outside), (secret, ArchiveBorrower(staff=desk))):
        with pytest.raises(DomainError) as refused:
            loans.lend(db, SYSTEM, file, borrower, due_at=NOW + timedelta(hours=3), no_copying=True,
                       signature=SIGNATURE, by=desk, now=NOW)  # fmt: skip
        assert refused.value.code == "needs_approval"
    # within a day, to staff allowed to see it: lent at once, signed and ticked
    loan = loans.lend(db, SYSTEM, public, ArchiveBorrower(staff=desk), due_at=NOW + timedelta(days=1),
                      no_copying=True, signature=SIGNATURE, by=desk, now=NOW)  # fmt: skip
    assert loan.state == ArchiveLoanState.out and loan.no_copying and loan.borrower_signature == SIGNATURE


def test_r_arc_overdue_flagged_and_late_return_recorded(db: Session, estate: Estate, people) -> None:
    desk = people["front_desk"]
    file = new_file(db, estate, people["records_admin"])
    loan = loans.lend(db, SYSTEM, file, ArchiveBorrower(staff=desk), due_at=NOW + timedelta(hours=4),
                      no_copying=True, signature=SIGNATURE, by=desk, now=NOW)  # fmt: skip
    assert loans.overdue(db, estate, NOW + timedelta(hours=3)) == []
    assert loans.overdue(db, estate, NOW + timedelta(hours=5)) == [loan]
    loans.return_loan(db, SYSTEM, loan, by=desk, now=NOW + timedelta(days=1))
    assert loan.state == ArchiveLoanState.returned and loan.returned_late
    assert loans.overdue(db, estate, NOW + timedelta(days=2)) == []


def test_r_arc_destruction_only_after_expiry_and_approval(db: Session, estate: Estate, people) -> None:
    """R-ARC: a file not yet expired cannot be requested for destruction; an expired one is destroyed after the
    department manager approves, and recorded."""
    admin, manager = people["records_admin"], people["cs_manager"]
    young = new_file(db, estate, admin, filed=date(2020, 1, 1), years=10)
    permanent = new_file(db, estate, admin, years=None)
    old = new_file(db, estate, admin, filed=date(2010, 3, 1), years=5)
    db.commit()
    before = counts(db)
    for file in (young, permanent):
        with pytest.raises(DomainError) as refused:
            room.request_destruction(db, SYSTEM, file, reason="过期", by=admin, now=NOW)
        assert refused.value.code == "not_expired"
    db.rollback()
    assert counts(db) == before
    request = room.request_destruction(db, SYSTEM, old, reason="保管期满", by=admin, now=NOW)
    with pytest.raises(DomainError):  # not destroyed before it is approved
        room.destroy(db, SYSTEM, request, method="碎纸", by=admin, now=NOW)
    room.approve_destruction(db, SYSTEM, request, by=manager, now=NOW)
    room.destroy(db, SYSTEM, request, method="碎纸", by=admin, now=NOW + timedelta(hours=1))
    assert old.state == FileState.destroyed and request.destroyed_at == NOW + timedelta(hours=1)
    assert request.approved_by_id == manager.id


def test_r_arc_quarterly_check_falls_due_and_is_late_after_the_quarter(db: Session, estate: Estate, people) -> None:
    admin = people["records_admin"]
    file = new_file(db, estate, admin)
    state = room.quarter_state(db, estate, NOW)
    assert state.quarter == "2026-Q4" and state.due and state.late == []
    with pytest.raises(DomainError):  # every file needs a finding
        room.record_check(db, SYSTEM, estate, {}, by=admin, now=NOW)
    next_quarter = datetime(2027, 1, 5, 2, 0, tzinfo=UTC)
    late = room.quarter_state(db, estate, next_quarter)
    assert late.quarter == "2027-Q1" and late.due and late.late == ["2026-Q4"]
    room.record_check(db, SYSTEM, estate, {file.id: ("damaged", "封面破损")}, by=admin, now=NOW)
    done = room.quarter_state(db, estate, NOW)
    assert not done.due and done.check is not None and done.check.findings[0].finding == "damaged"
    assert room.quarter_state(db, estate, next_quarter).late == []


def test_r_arc_no_entry_without_permission(db: Session, estate: Estate, people) -> None:
    desk, engineer = people["front_desk"], people["engineering"]
    with pytest.raises(DomainError) as refused:
        room.record_entry(db, SYSTEM, estate, reason="查图纸", by=desk, now=NOW, staff=engineer)
    assert refused.value.code == "no_permission"
    entry = room.record_entry(db, SYSTEM, estate, reason="查图纸", by=desk, now=NOW, staff=engineer,
                              accompanied_by=desk)  # fmt: skip
    assert entry.accompanied_by_id == desk.id
    alone = room.record_entry(db, SYSTEM, estate, reason="归档", by=desk, now=NOW, staff=desk)
    assert alone.accompanied_by_id is None


def test_r_arc_files_register_bad_input_refused_and_a_file_out_not_retired(db: Session, estate: Estate, people) -> None:
    """R-ARC: a file needs its class, a retention of years or permanent, and a confidentiality level; a file out on
    loan is not retired; bad input changes nothing."""
    admin, desk = people["records_admin"], people["front_desk"]
    file = new_file(db, estate, admin)
    db.commit()
    before = counts(db) | {"files": len(files.files(db, estate))}
    bad = [
        (FileFields("photos", "x", "", date(2026, 1, 1), 10, "internal"), "bad_class"),
        (FileFields("contract", "x", "", date(2026, 1, 1), 0, "internal"), "bad_retention"),
        (FileFields("contract", "x", "", date(2026, 1, 1), 10, "top"), "bad_level"),
        (FileFields("contract", " ", "", date(2026, 1, 1), 10, "internal"), "missing_fields"),
    ]
    for fields, code in bad:
        with pytest.raises(DomainError) as refused:
            files.create(db, SYSTEM, estate, fields, by=admin, now=NOW)
        assert refused.value.code == code
    with pytest.raises(DomainError):  # the desk lends files but does not keep the register
        files.create(db, SYSTEM, estate, FileFields("contract", "x", "", date(2026, 1, 1), 10, "public"), by=desk,
                     now=NOW)  # fmt: skip
    db.rollback()
    assert counts(db) | {"files": len(files.files(db, estate))} == before
    loans.lend(db, SYSTEM, file, ArchiveBorrower(staff=desk), due_at=NOW + timedelta(hours=1), no_copying=True,
               signature=SIGNATURE, by=desk, now=NOW)  # fmt: skip
    with pytest.raises(DomainError) as out:
        files.retire(db, SYSTEM, file, by=admin)
    assert out.value.code == "file_out"
    with pytest.raises(DomainError) as past:  # a due time already past
        other = new_file(db, estate, admin)
        loans.lend(db, SYSTEM, other, ArchiveBorrower(staff=desk), due_at=NOW - timedelta(hours=1), no_copying=True,
                   signature=SIGNATURE, by=desk, now=NOW)  # fmt: skip
    assert past.value.code == "bad_due"
