"""The renovation's steps as data (WORKFLOWS.md): from which state, to which, who may take each, what each needs,
which clock each starts (R-REN-1…9)."""

from __future__ import annotations

from server.db.models.renovation import RenovationState as S
from server.domain.deadlines import WorkingDays
from server.domain.permissions import Perm
from server.domain.workflow import NEW, Transition, process

APPROVAL = WorkingDays(3)  # R-REN-2
REFUND = WorkingDays(10)  # R-REN-9
WORKS = frozenset({S.paid, S.suspended})  # the works are under way (passes issued, extensions asked)

RENOVATION = process(
    "renovation",
    S,
    Transition(
        "receive",
        frozenset({NEW}),
        S.received,
        Perm.renovation_desk,
        needs=("owner_name", "scope", "starts_on", "ends_on"),
        starts=APPROVAL,
    ),
    Transition("approve", frozenset({S.received}), S.approved, Perm.renovation_approve),
    Transition("reject", frozenset({S.received}), S.rejected, Perm.renovation_approve, needs=("decision_note",)),
    Transition("notify", frozenset({S.approved}), S.notified, Perm.renovation_desk),
    Transition("agree", frozenset({S.notified}), S.agreed, Perm.renovation_desk, needs=("owner_signature",)),
    Transition("pay", frozenset({S.agreed}), S.paid, Perm.renovation_finance, needs=("receipt_no",)),
    Transition("suspend", frozenset({S.paid}), S.suspended, Perm.renovation_desk, needs=("suspend_reason",)),
    Transition("resume", frozenset({S.suspended}), S.paid, Perm.renovation_desk),
    Transition("extend", frozenset({S.paid}), S.paid, Perm.renovation_desk, needs=("ends_on",)),
    Transition("request_acceptance", frozenset({S.paid}), S.acceptance_requested, Perm.renovation_desk),
    Transition(
        "book_inspection",
        frozenset({S.acceptance_requested}),
        S.inspection_booked,
        Perm.renovation_approve,
        needs=("inspection_at",),
    ),
    Transition("accept", frozenset({S.inspection_booked}), S.accepted, Perm.renovation_approve, starts=REFUND),
    Transition("refund", frozenset({S.accepted}), S.refunded, Perm.renovation_finance, needs=("refund_reference",)),
)
