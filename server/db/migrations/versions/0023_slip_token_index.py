"""release slips: an index on the token (issue 12).

Revision ID: 0023
Revises: 0022
Create Date: 2026-12-01 05:40:00

A gate's everyday release finds the slip by the exact token it scanned: a token the server issued and stored is
authentic as it stands, so the release lane needs neither to decode it nor to check its signature (the full route
still does both, and words every rejection).
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0023"
down_revision: str | None = "0022"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_release_slips_token", "release_slips", ["token"])


def downgrade() -> None:
    op.drop_index("ix_release_slips_token", table_name="release_slips")
