"""release desk: residents one at a time (cards, kiosk PINs, occupancy end), console printers and printed copies.

Revision ID: 0012
Revises: 0011
Create Date: 2026-11-30 22:10:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0012"
down_revision: str | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.add_column(sa.Column("url", sa.String(length=200), nullable=False, server_default=""))
    with op.batch_alter_table("release_slips", schema=None) as batch_op:
        batch_op.add_column(sa.Column("printed_at", server.db.base.UTCDateTime(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("release_slips", schema=None) as batch_op:
        batch_op.drop_column("printed_at")
    with op.batch_alter_table("devices", schema=None) as batch_op:
        batch_op.drop_column("url")
