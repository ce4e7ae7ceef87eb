"""cabinet unlocks: the unlocks the server authorises for key loans, the staff each is for, and the keyed digest
of a staff card for signing in at the cabinet

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 09:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_unlocks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("request_id", sa.String(length=80), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("loan_id", sa.Integer(), nullable=False),
        sa.Column("board", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("expires_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("opened_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opened_by_device_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_key_unlocks_device_id_devices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_key_unlocks_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["loan_id"], ["key_loans.id"], name=op.f("fk_key_unlocks_loan_id_key_loans"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["opened_by_device_id"],
            ["devices.id"],
            name=op.f("fk_key_unlocks_opened_by_device_id_devices"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_unlocks")),
        sa.UniqueConstraint("request_id", name=op.f("uq_key_unlocks_request_id")),
    )
    with op.batch_alter_table("key_unlocks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_unlocks_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_key_unlocks_loan_id"), ["loan_id"], unique=False)

    op.create_table(
        "key_unlock_staff",
        sa.Column("unlock_id", sa.Integer(), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_key_unlock_staff_staff_id_staff_users"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unlock_id"],
            ["key_unlocks.id"],
            name=op.f("fk_key_unlock_staff_unlock_id_key_unlocks"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("unlock_id", "staff_id", name=op.f("pk_key_unlock_staff")),
    )

    with op.batch_alter_table("guard_credentials", schema=None) as batch_op:
        batch_op.add_column(sa.Column("card_digest", sa.String(length=64), nullable=True))
        batch_op.create_index(batch_op.f("ix_guard_credentials_card_digest"), ["card_digest"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("guard_credentials", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_guard_credentials_card_digest"))
        batch_op.drop_column("card_digest")

    op.drop_table("key_unlock_staff")
    with op.batch_alter_table("key_unlocks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_unlocks_loan_id"))
        batch_op.drop_index(batch_op.f("ix_key_unlocks_estate_id"))

    op.drop_table("key_unlocks")
