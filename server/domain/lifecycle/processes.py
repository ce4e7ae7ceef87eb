"""The move-in and the takeover inspection as data (WORKFLOWS.md): every step goes through `workflow.step` with one
of these, so each keeps its history in `step_history` and the audit log.

A move-in (R-MOVE) follows the manual's desk in order: queued with a ticket → notice and ID checked, copies kept →
documents signed, photos kept → fees paid → the pack handed over → the unit inspected with the facilities form and
the meter readings → keys signed for → filed. A takeover inspection (R-VAC-1) is opened, its items recorded (again
as often as needed), and signed by engineering and the developer. A developer repair (R-VAC-1, 2) is reported →
acknowledged by the developer → repaired → verified by engineering, or reopened and repaired again; its deadline
(server.domain.lifecycle.developer_repairs) runs from the report and again from each reopening."""

from __future__ import annotations

from server.db.models.lifecycle import DeveloperRepairState, MoveInState, TakeoverState
from server.domain.permissions import Perm
from server.domain.workflow import NEW, Transition, process

M = MoveInState
MOVE_IN = process(
    "move_in",
    MoveInState,
    Transition("queue", frozenset({NEW}), M.queued, Perm.movein_desk),
    Transition("check", frozenset({M.queued}), M.checked, Perm.movein_desk, needs=("notice_no",)),
    Transition("sign", frozenset({M.checked}), M.signed, Perm.movein_desk, needs=("documents", "owner_signature")),
    Transition("pay", frozenset({M.signed}), M.paid, Perm.movein_fees, needs=("fee_receipt_no",)),
    Transition("hand_pack", frozenset({M.paid}), M.pack_handed, Perm.movein_desk, needs=("pack_items",)),
    Transition(
        "inspect", frozenset({M.pack_handed}), M.inspected, Perm.movein_inspect, needs=("acceptance_signature",)
    ),
    Transition(
        "issue_keys",
        frozenset({M.inspected}),
        M.keys_issued,
        Perm.movein_desk,
        needs=("key_receipt_no", "key_signature"),
    ),
    Transition("file", frozenset({M.keys_issued}), M.filed, Perm.movein_desk, needs=("filed_at",)),
    Transition("cancel", frozenset({M.queued, M.checked, M.signed}), M.cancelled, Perm.movein_desk),
)

T = TakeoverState
TAKEOVER = process(
    "takeover",
    TakeoverState,
    Transition("open", frozenset({NEW}), T.open, Perm.vacancy_inspect, needs=("developer",)),
    Transition("record", frozenset({T.open}), T.open, Perm.vacancy_inspect),
    Transition(
        "sign",
        frozenset({T.open}),
        T.signed,
        Perm.vacancy_inspect,
        needs=("engineering_signature", "developer_signature", "signed_at"),
    ),
)

D = DeveloperRepairState
DEVELOPER_REPAIR = process(
    "developer_repair",
    DeveloperRepairState,
    Transition("report", frozenset({NEW}), D.reported, Perm.vacancy_inspect, needs=("description", "due_at")),
    Transition(
        "acknowledge",
        frozenset({D.reported}),
        D.acknowledged,
        Perm.vacancy_inspect,
        needs=("developer_contact", "acknowledged_at"),
    ),
    Transition(
        "repair",
        frozenset({D.acknowledged, D.reopened}),
        D.repaired,
        Perm.vacancy_inspect,
        needs=("repair_note", "repaired_at"),
    ),
    Transition("verify", frozenset({D.repaired}), D.verified, Perm.vacancy_inspect, needs=("verified_at",)),
    Transition("reopen", frozenset({D.repaired}), D.reopened, Perm.vacancy_inspect, needs=("reopen_reason", "due_at")),
)
