"""workflow machinery: record counters per estate, kind and month, the estates' own working-day exceptions, and the
leases that let one server worker at a time run a periodic sweep.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-30 17:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "record_counters",
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=8), nullable=False),
        sa.Column("period", sa.String(length=8), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("estate_id", "kind", "period"),
    )
    op.create_table(
        "calendar_days",
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("working", sa.Boolean(), nullable=False),
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("set_by", sa.String(length=80), nullable=False),
        sa.Column("set_at", server.db.base.UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["estate_id"], ["estates.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("estate_id", "day"),
    )
    op.create_table(
        "sweep_leases",
        sa.Column("name", sa.String(length=40), nullable=False),
        sa.Column("holder", sa.String(length=80), nullable=False),
        sa.Column("until", server.db.base.UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )


def downgrade() -> None:
    op.drop_table("sweep_leases")
    op.drop_table("calendar_days")
    op.drop_table("record_counters")
