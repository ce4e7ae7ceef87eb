"""front-desk operations: duty — shift patterns, the roster's shifts with sign-ins, leave and swap requests.

Revision ID: 0009
Revises: 0008
Create Date: 2026-11-30 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "shift_patterns",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name_zh", sa.String(length=20), nullable=False),
        sa.Column("name_en", sa.String(length=30), nullable=False),
        sa.Column("starts", sa.Time(), nullable=False),
        sa.Column("ends", sa.Time(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_shift_patterns_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shift_patterns")),
        sa.UniqueConstraint("estate_id", "code", name=op.f("uq_shift_patterns_estate_id")),
    )
    op.create_index(op.f("ix_shift_patterns_estate_id"), "shift_patterns", ["estate_id"], unique=False)
    op.create_table(
        "shifts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("pattern_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("starts_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("ends_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signed_in_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("signed_out_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("late_minutes", sa.Integer(), nullable=False),
        sa.Column("absent", sa.Boolean(), nullable=False),
        sa.Column("relief_alerted_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_shifts_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pattern_id"], ["shift_patterns.id"], name=op.f("fk_shifts_pattern_id_shift_patterns"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_shifts_staff_id_staff_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_shifts")),
    )
    op.create_index(op.f("ix_shifts_day"), "shifts", ["day"], unique=False)
    op.create_index(op.f("ix_shifts_estate_id"), "shifts", ["estate_id"], unique=False)
    op.create_index(op.f("ix_shifts_staff_id"), "shifts", ["staff_id"], unique=False)
    op.create_table(
        "duty_requests",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("leave", "swap", name="requestkind", native_enum=False, length=20), nullable=False),
        sa.Column(
            "state",
            sa.Enum("asked", "approved", "refused", "withdrawn", name="requeststate", native_enum=False, length=20),
            nullable=True,
        ),
        sa.Column("shift_id", sa.Integer(), nullable=False),
        sa.Column("requester_id", sa.Integer(), nullable=False),
        sa.Column("colleague_id", sa.Integer(), nullable=True),
        sa.Column("colleague_shift_id", sa.Integer(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.Text(), nullable=False),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["colleague_id"],
            ["staff_users.id"],
            name=op.f("fk_duty_requests_colleague_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["colleague_shift_id"],
            ["shifts.id"],
            name=op.f("fk_duty_requests_colleague_shift_id_shifts"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["decided_by_id"],
            ["staff_users.id"],
            name=op.f("fk_duty_requests_decided_by_id_staff_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_duty_requests_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requester_id"],
            ["staff_users.id"],
            name=op.f("fk_duty_requests_requester_id_staff_users"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["shift_id"], ["shifts.id"], name=op.f("fk_duty_requests_shift_id_shifts"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_requests")),
    )
    op.create_index(op.f("ix_duty_requests_estate_id"), "duty_requests", ["estate_id"], unique=False)
    op.create_index(op.f("ix_duty_requests_requester_id"), "duty_requests", ["requester_id"], unique=False)
    op.create_index(op.f("ix_duty_requests_shift_id"), "duty_requests", ["shift_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_duty_requests_shift_id"), table_name="duty_requests")
    op.drop_index(op.f("ix_duty_requests_requester_id"), table_name="duty_requests")
    op.drop_index(op.f("ix_duty_requests_estate_id"), table_name="duty_requests")
    op.drop_table("duty_requests")
    op.drop_index(op.f("ix_shifts_staff_id"), table_name="shifts")
    op.drop_index(op.f("ix_shifts_estate_id"), table_name="shifts")
    op.drop_index(op.f("ix_shifts_day"), table_name="shifts")
    op.drop_table("shifts")
    op.drop_index(op.f("ix_shift_patterns_estate_id"), table_name="shift_patterns")
    op.drop_table("shift_patterns")
