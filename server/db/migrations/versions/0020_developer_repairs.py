"""vacant units: developer repairs tracked to completion, rectification key sets.

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0020"
down_revision: str | None = "0019"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "developer_repairs",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("takeover_item_id", sa.Integer(), nullable=True),
        sa.Column("patrol_finding_id", sa.Integer(), nullable=True),
        sa.Column(
            "category",
            sa.Enum(
                "structure",
                "roof_floor",
                "decoration",
                "electrical",
                "water",
                "fire",
                "bathroom",
                "ancillary",
                name="takeovercategory",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("description", sa.String(length=200), nullable=False),
        sa.Column("developer", sa.String(length=100), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "reported",
                "acknowledged",
                "repaired",
                "verified",
                "reopened",
                name="developerrepairstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("reported_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("developer_contact", sa.String(length=60), nullable=False),
        sa.Column("acknowledged_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("repair_note", sa.String(length=200), nullable=False),
        sa.Column("repaired_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("verified_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reopen_reason", sa.String(length=200), nullable=False),
        sa.Column("reopened", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_developer_repairs_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["patrol_finding_id"],
            ["patrol_findings.id"],
            name=op.f("fk_developer_repairs_patrol_finding_id_patrol_findings"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["takeover_item_id"],
            ["takeover_items.id"],
            name=op.f("fk_developer_repairs_takeover_item_id_takeover_items"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_developer_repairs_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_developer_repairs")),
        sa.UniqueConstraint("estate_id", "number", name=op.f("uq_developer_repairs_estate_id")),
    )
    op.create_index(op.f("ix_developer_repairs_due_at"), "developer_repairs", ["due_at"], unique=False)
    op.create_index(op.f("ix_developer_repairs_estate_id"), "developer_repairs", ["estate_id"], unique=False)
    op.create_index(op.f("ix_developer_repairs_state"), "developer_repairs", ["state"], unique=False)
    op.create_index(op.f("ix_developer_repairs_unit_id"), "developer_repairs", ["unit_id"], unique=False)
    with op.batch_alter_table("key_sets", schema=None) as batch_op:  # existing sets have no receipt
        batch_op.add_column(sa.Column("receipt_no", sa.String(length=40), nullable=False, server_default=""))


def downgrade() -> None:
    with op.batch_alter_table("key_sets", schema=None) as batch_op:
        batch_op.drop_column("receipt_no")
    op.drop_index(op.f("ix_developer_repairs_unit_id"), table_name="developer_repairs")
    op.drop_index(op.f("ix_developer_repairs_state"), table_name="developer_repairs")
    op.drop_index(op.f("ix_developer_repairs_estate_id"), table_name="developer_repairs")
    op.drop_index(op.f("ix_developer_repairs_due_at"), table_name="developer_repairs")
    op.drop_table("developer_repairs")
