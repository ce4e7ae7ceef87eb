"""hostile input: a device's last contact, idempotency keys bound to their request, the audit chain head

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices") as batch:
        batch.add_column(sa.Column("contact_lost_at", server.db.base.UTCDateTime(timezone=True), nullable=True))
    with op.batch_alter_table("idempotent_answers") as batch:
        batch.add_column(sa.Column("request_hash", sa.String(length=64), nullable=False, server_default=""))
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_head")),
    )
    # Anchor the chain as it stands: its newest entry becomes the head.
    op.execute(
        "INSERT INTO audit_head (id, seq, hash) "
        "SELECT 1, seq, hash FROM audit_log WHERE seq = (SELECT MAX(seq) FROM audit_log)"
    )


def downgrade() -> None:
    op.drop_table("audit_head")
    with op.batch_alter_table("idempotent_answers") as batch:
        batch.drop_column("request_hash")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("contact_lost_at")
