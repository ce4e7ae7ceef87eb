"""key cabinet: acknowledgements of the cabinet's alerts (issue 21).

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 04:00:00

One row per acknowledged alert (an audit entry `cabinet.<event>` judged an alert): who, when, and the note of what
was found or done. The dashboard counts the alerts with no row here, found by their actions over a new index of
the audit log on (estate, action, time).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0022"
down_revision: str | None = "0021"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "alert_acknowledgements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("entry_seq", sa.Integer(), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("by_name", sa.String(length=60), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["by_id"], ["staff_users.id"], name=op.f("fk_alert_acknowledgements_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["entry_seq"], ["audit_log.seq"], name=op.f("fk_alert_acknowledgements_entry_seq_audit_log")
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_alert_acknowledgements_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alert_acknowledgements")),
        sa.UniqueConstraint("entry_seq", name=op.f("uq_alert_acknowledgements_entry_seq")),
    )
    op.create_index(op.f("ix_alert_acknowledgements_estate_id"), "alert_acknowledgements", ["estate_id"], unique=False)
    op.create_index("ix_audit_log_estate_action_at", "audit_log", ["estate_id", "action", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_audit_log_estate_action_at", table_name="audit_log")
    op.drop_index(op.f("ix_alert_acknowledgements_estate_id"), table_name="alert_acknowledgements")
    op.drop_table("alert_acknowledgements")
