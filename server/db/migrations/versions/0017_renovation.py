"""estate lifecycle: renovation applications, approvals, deposits and worker passes.

Revision ID: 0017
Revises: 0016
Create Date: 2026-11-30 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "renovations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "received",
                "approved",
                "rejected",
                "notified",
                "agreed",
                "paid",
                "suspended",
                "acceptance_requested",
                "inspection_booked",
                "accepted",
                "refunded",
                name="renovationstate",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("owner_name", sa.String(length=40), nullable=False),
        sa.Column("owner_phone", sa.String(length=20), nullable=False),
        sa.Column("contractor", sa.String(length=60), nullable=False),
        sa.Column("scope", sa.String(length=400), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=False),
        sa.Column("received_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("decision_note", sa.String(length=400), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("notified_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("owner_signature", sa.Text(), nullable=False),
        sa.Column("agreed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("fee_fen", sa.Integer(), nullable=False),
        sa.Column("deposit_fen", sa.Integer(), nullable=False),
        sa.Column("receipt_no", sa.String(length=40), nullable=False),
        sa.Column("paid_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("suspend_reason", sa.String(length=200), nullable=False),
        sa.Column("inspection_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("accepted_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("acceptance_note", sa.String(length=400), nullable=False),
        sa.Column("refund_due_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refund_fen", sa.Integer(), nullable=True),
        sa.Column("refunded_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("refund_reference", sa.String(length=40), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["staff_users.id"], name=op.f("fk_renovations_decided_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_renovations_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_renovations_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_renovations")),
        sa.UniqueConstraint("estate_id", "number", name=op.f("uq_renovations_estate_id")),
    )
    op.create_index("ix_renovations_board", "renovations", ["estate_id", "state", "due_at"], unique=False)
    op.create_index(op.f("ix_renovations_estate_id"), "renovations", ["estate_id"], unique=False)
    op.create_index(op.f("ix_renovations_unit_id"), "renovations", ["unit_id"], unique=False)
    op.create_table(
        "worker_passes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("renovation_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("worker_name", sa.String(length=40), nullable=False),
        sa.Column("company", sa.String(length=60), nullable=False),
        sa.Column("id_tail", sa.String(length=8), nullable=False),
        sa.Column("photo", sa.Text(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_until", sa.Date(), nullable=False),
        sa.Column("token", sa.String(length=400), nullable=False),
        sa.Column("issued_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=80), nullable=False),
        sa.Column("withdrawn_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("printed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_worker_passes_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["renovation_id"],
            ["renovations.id"],
            name=op.f("fk_worker_passes_renovation_id_renovations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_worker_passes")),
        sa.UniqueConstraint("estate_id", "number", name=op.f("uq_worker_passes_estate_id")),
    )
    op.create_index(op.f("ix_worker_passes_estate_id"), "worker_passes", ["estate_id"], unique=False)
    op.create_index(op.f("ix_worker_passes_renovation_id"), "worker_passes", ["renovation_id"], unique=False)
    op.create_table(
        "pass_movements",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("pass_id", sa.Integer(), nullable=False),
        sa.Column("direction", sa.String(length=8), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("guard", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_pass_movements_device_id_devices"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_pass_movements_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["pass_id"], ["worker_passes.id"], name=op.f("fk_pass_movements_pass_id_worker_passes"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_pass_movements")),
    )
    op.create_index(op.f("ix_pass_movements_estate_id"), "pass_movements", ["estate_id"], unique=False)
    op.create_index("ix_pass_movements_pass", "pass_movements", ["pass_id", "at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_pass_movements_pass", table_name="pass_movements")
    op.drop_index(op.f("ix_pass_movements_estate_id"), table_name="pass_movements")
    op.drop_table("pass_movements")
    op.drop_index(op.f("ix_worker_passes_renovation_id"), table_name="worker_passes")
    op.drop_index(op.f("ix_worker_passes_estate_id"), table_name="worker_passes")
    op.drop_table("worker_passes")
    op.drop_index(op.f("ix_renovations_unit_id"), table_name="renovations")
    op.drop_index(op.f("ix_renovations_estate_id"), table_name="renovations")
    op.drop_index("ix_renovations_board", table_name="renovations")
    op.drop_table("renovations")
