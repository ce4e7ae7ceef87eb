"""Release slips: signing keys, catalogue, slips and items, gate releases, sync events, conflicts, reconciliation.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27 06:02:42.261743
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "slip_signing_keys",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("private_key", sa.String(length=64), nullable=False),
        sa.Column("public_key", sa.String(length=64), nullable=False),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("retired_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slip_signing_keys")),
    )
    op.create_table(
        "slip_catalogue",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=False),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("name_en", sa.String(length=40), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_slip_catalogue_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slip_catalogue")),
        sa.UniqueConstraint("estate_id", "code", name=op.f("uq_slip_catalogue_estate_id")),
    )
    with op.batch_alter_table("slip_catalogue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_slip_catalogue_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "slip_counters",
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("last", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_slip_counters_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("estate_id", "day", name=op.f("pk_slip_counters")),
    )
    op.create_table(
        "slip_reconciliations",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("security_by", sa.String(length=60), nullable=False),
        sa.Column("security_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("records_by", sa.String(length=60), nullable=False),
        sa.Column("records_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("figures", sa.Text(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_slip_reconciliations_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slip_reconciliations")),
        sa.UniqueConstraint("estate_id", "day", name=op.f("uq_slip_reconciliations_estate_id")),
    )
    op.create_table(
        "gate_sync_events",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("nonce", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=10), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("result", sa.String(length=10), nullable=False),
        sa.Column("code", sa.String(length=30), nullable=False),
        sa.Column("received_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_gate_sync_events_device_id_devices"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_gate_sync_events_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_gate_sync_events")),
        sa.UniqueConstraint("device_id", "nonce", name=op.f("uq_gate_sync_events_device_id")),
    )
    with op.batch_alter_table("gate_sync_events", schema=None) as batch_op:
        batch_op.create_index("ix_gate_sync_events_estate_at", ["estate_id", "at"], unique=False)

    op.create_table(
        "idempotent_answers",
        sa.Column("device_id", sa.Integer(), nullable=False),
        sa.Column("key", sa.String(length=80), nullable=False),
        sa.Column("route", sa.String(length=60), nullable=False),
        sa.Column("status", sa.Integer(), nullable=False),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_idempotent_answers_device_id_devices"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("device_id", "key", name=op.f("pk_idempotent_answers")),
    )
    op.create_table(
        "release_slips",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=24), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("seq", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("unit_code", sa.String(length=16), nullable=False),
        sa.Column(
            "applicant_kind",
            sa.Enum("owner", "tenant", "proxy", name="applicantkind", native_enum=False, length=10),
            nullable=False,
        ),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("applicant_name", sa.String(length=60), nullable=False),
        sa.Column("proxy_name", sa.String(length=60), nullable=False),
        sa.Column("proxy_phone", sa.String(length=20), nullable=False),
        sa.Column("confirmed_by", sa.String(length=60), nullable=False),
        sa.Column("confirmed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("confirmation", sa.String(length=200), nullable=False),
        sa.Column("countersign_pending", sa.Boolean(), nullable=False),
        sa.Column("countersigned_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("countersigned_by", sa.String(length=60), nullable=False),
        sa.Column("planned_date", sa.Date(), nullable=False),
        sa.Column("valid_until", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("vehicle_plate", sa.String(length=12), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "issued", "released", "refused", "cancelled", "expired", name="slipstate", native_enum=False, length=10
            ),
            nullable=False,
        ),
        sa.Column("channel", sa.String(length=10), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("token", sa.Text(), nullable=False),
        sa.Column("issued_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("issued_by", sa.String(length=80), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("reissue_of_id", sa.Integer(), nullable=True),
        sa.Column("revoked_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("cancelled_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reprints", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_release_slips_device_id_devices"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_release_slips_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["slip_signing_keys.id"], name=op.f("fk_release_slips_key_id_slip_signing_keys")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_release_slips_person_id_persons"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["reissue_of_id"], ["release_slips.id"], name=op.f("fk_release_slips_reissue_of_id_release_slips")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_release_slips_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_slips")),
        sa.UniqueConstraint("estate_id", "day", "seq", name=op.f("uq_release_slips_estate_id")),
        sa.UniqueConstraint("number", name=op.f("uq_release_slips_number")),
    )
    with op.batch_alter_table("release_slips", schema=None) as batch_op:
        batch_op.create_index("ix_release_slips_estate_day", ["estate_id", "day", "id"], unique=False)
        batch_op.create_index("ix_release_slips_estate_id_desc", ["estate_id", "id"], unique=False)
        batch_op.create_index("ix_release_slips_estate_kind", ["estate_id", "applicant_kind", "id"], unique=False)
        batch_op.create_index("ix_release_slips_estate_state", ["estate_id", "state", "id"], unique=False)
        batch_op.create_index("ix_release_slips_estate_unit", ["estate_id", "unit_code", "id"], unique=False)
        batch_op.create_index("ix_release_slips_key_until", ["key_id", "valid_until"], unique=False)
        batch_op.create_index("ix_release_slips_pending", ["estate_id", "countersign_pending"], unique=False)

    op.create_table(
        "release_slip_attachments",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=12), nullable=False),
        sa.Column("media_type", sa.String(length=40), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["slip_id"],
            ["release_slips.id"],
            name=op.f("fk_release_slip_attachments_slip_id_release_slips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_slip_attachments")),
    )
    with op.batch_alter_table("release_slip_attachments", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_release_slip_attachments_slip_id"), ["slip_id"], unique=False)

    op.create_table(
        "release_slip_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("line", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=8), nullable=True),
        sa.Column("name", sa.String(length=16), nullable=False),
        sa.Column("quantity", sa.Integer(), nullable=False),
        sa.Column("counted", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["slip_id"],
            ["release_slips.id"],
            name=op.f("fk_release_slip_items_slip_id_release_slips"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_release_slip_items")),
        sa.UniqueConstraint("slip_id", "line", name=op.f("uq_release_slip_items_slip_id")),
    )
    op.create_table(
        "slip_conflicts",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("guard", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.String(length=200), nullable=False),
        sa.Column("found_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("resolved_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("resolved_by", sa.String(length=60), nullable=False),
        sa.Column("resolution", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_slip_conflicts_device_id_devices"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_slip_conflicts_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["slip_id"], ["release_slips.id"], name=op.f("fk_slip_conflicts_slip_id_release_slips"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slip_conflicts")),
    )
    with op.batch_alter_table("slip_conflicts", schema=None) as batch_op:
        batch_op.create_index("ix_slip_conflicts_estate_open", ["estate_id", "resolved_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_slip_conflicts_slip_id"), ["slip_id"], unique=False)

    op.create_table(
        "slip_releases",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("slip_id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("gate", sa.String(length=60), nullable=False),
        sa.Column("guard", sa.String(length=40), nullable=False),
        sa.Column("outcome", sa.String(length=10), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("offline", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["device_id"], ["devices.id"], name=op.f("fk_slip_releases_device_id_devices"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_slip_releases_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["slip_id"], ["release_slips.id"], name=op.f("fk_slip_releases_slip_id_release_slips"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slip_releases")),
        sa.UniqueConstraint("slip_id", name=op.f("uq_slip_releases_slip_id")),
    )
    with op.batch_alter_table("slip_releases", schema=None) as batch_op:
        batch_op.create_index("ix_slip_releases_estate_at", ["estate_id", "at"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("slip_releases", schema=None) as batch_op:
        batch_op.drop_index("ix_slip_releases_estate_at")

    op.drop_table("slip_releases")
    with op.batch_alter_table("slip_conflicts", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slip_conflicts_slip_id"))
        batch_op.drop_index("ix_slip_conflicts_estate_open")

    op.drop_table("slip_conflicts")
    op.drop_table("release_slip_items")
    with op.batch_alter_table("release_slip_attachments", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_release_slip_attachments_slip_id"))

    op.drop_table("release_slip_attachments")
    with op.batch_alter_table("release_slips", schema=None) as batch_op:
        batch_op.drop_index("ix_release_slips_pending")
        batch_op.drop_index("ix_release_slips_key_until")
        batch_op.drop_index("ix_release_slips_estate_unit")
        batch_op.drop_index("ix_release_slips_estate_state")
        batch_op.drop_index("ix_release_slips_estate_kind")
        batch_op.drop_index("ix_release_slips_estate_id_desc")
        batch_op.drop_index("ix_release_slips_estate_day")

    op.drop_table("release_slips")
    op.drop_table("idempotent_answers")
    with op.batch_alter_table("gate_sync_events", schema=None) as batch_op:
        batch_op.drop_index("ix_gate_sync_events_estate_at")

    op.drop_table("gate_sync_events")
    op.drop_table("slip_reconciliations")
    op.drop_table("slip_counters")
    with op.batch_alter_table("slip_catalogue", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_slip_catalogue_estate_id"))

    op.drop_table("slip_catalogue")
    op.drop_table("slip_signing_keys")
