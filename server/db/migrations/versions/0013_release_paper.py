"""release paper trail: signatures, the gate release log and photos, refusals with reasons, stale sign-offs.

Signatures and photos are slip attachments and a stale sign-off is read from the figures each side signed, so the
only new table holds goods stopped at a gate with no slip.

Revision ID: 0013
Revises: 0012
Create Date: 2026-11-30 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "gate_stops",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("gate", sa.String(length=60), nullable=False),
        sa.Column("guard", sa.String(length=40), nullable=False),
        sa.Column("goods", sa.String(length=200), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.Column("photo", sa.LargeBinary(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_gate_stops_device_id_devices"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_gate_stops_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gate_stops")),
    )
    op.create_index("ix_gate_stops_estate_at", "gate_stops", ["estate_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_gate_stops_estate_at", table_name="gate_stops")
    op.drop_table("gate_stops")
