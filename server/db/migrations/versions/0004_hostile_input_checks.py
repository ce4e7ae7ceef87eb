"""hostile input: a device's last contact before a silence; idempotency keys bound to their request

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


def downgrade() -> None:
    with op.batch_alter_table("idempotent_answers") as batch:
        batch.drop_column("request_hash")
    with op.batch_alter_table("devices") as batch:
        batch.drop_column("contact_lost_at")
