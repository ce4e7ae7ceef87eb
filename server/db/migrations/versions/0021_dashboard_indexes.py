"""dashboards and charts: indexes for their counts (issue 21).

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 03:00:00

Only indexes: each serves a dashboard figure or a chart as a range over (estate, …, time), covering where the
count reads nothing else — cabinet alerts of the last day, keys out and overdue, releases per day and gate, refusals,
repairs finished in a period with their lead times, callback outcomes, feedback by category.
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0021"
down_revision: str | None = "0020"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

INDEXES = (
    ("ix_audit_log_estate_at", "audit_log", ["estate_id", "at"]),
    ("ix_key_loans_estate_state_due", "key_loans", ["estate_id", "state", "due_at"]),
    ("ix_slip_releases_estate_outcome_at", "slip_releases", ["estate_id", "outcome", "at", "gate"]),
    (
        "ix_service_orders_estate_kind_done",
        "service_orders",
        ["estate_id", "kind", "done_at", "created_at", "appointment_end"],
    ),
    ("ix_call_tasks_estate_done_outcome", "call_tasks", ["estate_id", "done_at", "outcome"]),
    ("ix_feedback_forms_estate_received", "feedback_forms", ["estate_id", "received_at", "category"]),
)


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _columns in reversed(INDEXES):
        op.drop_index(name, table_name=table)
