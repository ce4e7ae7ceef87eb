"""The archive room's processes as data (WORKFLOWS.md): every loan and every destruction goes through
`workflow.step` with one of these, so each keeps its history in `step_history` and the audit log.

A loan (R-ARC): lent at once when it is a day or less, to a staff member allowed to see the file's level; otherwise
requested, approved by the CS centre (archive.approve), then handed over; returned. A destruction: requested for an
expired file, approved by the department manager, destroyed."""

from __future__ import annotations

from server.db.models.archive import ArchiveLoanState, DestructionState
from server.domain.permissions import Perm
from server.domain.workflow import NEW, Transition, process

L = ArchiveLoanState
LOAN = process(
    "archive_loan",
    ArchiveLoanState,
    Transition(
        "lend", frozenset({NEW}), L.out, Perm.archive_lend, needs=("borrower_name", "due_at", "borrower_signature")
    ),
    Transition("request", frozenset({NEW}), L.requested, Perm.archive_lend, needs=("borrower_name", "due_at")),
    Transition("approve", frozenset({L.requested}), L.approved, Perm.archive_approve, needs=("approved_by_id",)),
    Transition("refuse", frozenset({L.requested}), L.refused, Perm.archive_approve),
    Transition("hand_over", frozenset({L.approved}), L.out, Perm.archive_lend, needs=("borrower_signature",)),
    Transition("return", frozenset({L.out}), L.returned, Perm.archive_lend, needs=("returned_at",)),
    Transition("cancel", frozenset({L.requested, L.approved}), L.cancelled, Perm.archive_lend),
)

D = DestructionState
DESTRUCTION = process(
    "archive_destruction",
    DestructionState,
    Transition("request", frozenset({NEW}), D.requested, Perm.archive_manage, needs=("reason",)),
    Transition("approve", frozenset({D.requested}), D.approved, Perm.archive_approve, needs=("approved_by_id",)),
    Transition("refuse", frozenset({D.requested}), D.refused, Perm.archive_approve),
    Transition("destroy", frozenset({D.approved}), D.destroyed, Perm.archive_manage, needs=("destroyed_at", "method")),
)
