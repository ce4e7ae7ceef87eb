"""worker passes at an offline gate: withdrawals and suspensions synced, movements checked at their time.

A conflict may name a worker's pass instead of a slip (an offline movement on a pass no longer valid, or at an
impossible time, R-REN-6); a pass movement says whether it was recorded offline.

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0019"
down_revision: str | None = "0018"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("slip_conflicts", schema=None) as batch_op:
        batch_op.alter_column("slip_id", existing_type=sa.Integer(), nullable=True)
        batch_op.add_column(sa.Column("pass_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_slip_conflicts_pass_id"), ["pass_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_slip_conflicts_pass_id_worker_passes"),
            "worker_passes",
            ["pass_id"],
            ["id"],
            ondelete="CASCADE",
        )
    with op.batch_alter_table("pass_movements", schema=None) as batch_op:
        batch_op.add_column(sa.Column("offline", sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade() -> None:
    with op.batch_alter_table("pass_movements", schema=None) as batch_op:
        batch_op.drop_column("offline")
    op.execute("DELETE FROM slip_conflicts WHERE slip_id IS NULL")
    with op.batch_alter_table("slip_conflicts", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_slip_conflicts_pass_id_worker_passes"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_slip_conflicts_pass_id"))
        batch_op.drop_column("pass_id")
        batch_op.alter_column("slip_id", existing_type=sa.Integer(), nullable=False)
