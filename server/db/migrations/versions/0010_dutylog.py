"""front-desk operations: dutylog (filled in with its tables).

Revision ID: 0010
Revises: 0009
Create Date: 2026-11-30 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0010"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "duty_day_sheets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("temp_am", sa.Float(), nullable=True),
        sa.Column("temp_pm", sa.Float(), nullable=True),
        sa.Column("archive_temp", sa.Float(), nullable=True),
        sa.Column("doors_closed_am", sa.Boolean(), nullable=False),
        sa.Column("doors_closed_pm", sa.Boolean(), nullable=False),
        sa.Column("alarm", sa.Boolean(), nullable=False),
        sa.Column("lights_ok", sa.Boolean(), nullable=False),
        sa.Column("desks_tidy", sa.Boolean(), nullable=False),
        sa.Column("racks_tidy", sa.Boolean(), nullable=False),
        sa.Column("floors_tidy", sa.Boolean(), nullable=False),
        sa.Column("no_smoking", sa.Boolean(), nullable=False),
        sa.Column("recorded_by_id", sa.Integer(), nullable=True),
        sa.Column("updated_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signed_by_id", sa.Integer(), nullable=True),
        sa.Column("signed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_duty_day_sheets_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"], ["staff_users.id"], name=op.f("fk_duty_day_sheets_recorded_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["signed_by_id"], ["staff_users.id"], name=op.f("fk_duty_day_sheets_signed_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_day_sheets")),
        sa.UniqueConstraint("estate_id", "day", name=op.f("uq_duty_day_sheets_estate_id")),
    )
    with op.batch_alter_table("duty_day_sheets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_day_sheets_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "duty_handovers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("outgoing_id", sa.Integer(), nullable=False),
        sa.Column("incoming_id", sa.Integer(), nullable=False),
        sa.Column("results", sa.Text(), nullable=False),
        sa.Column("acknowledged_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_duty_handovers_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["incoming_id"], ["staff_users.id"], name=op.f("fk_duty_handovers_incoming_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["outgoing_id"], ["staff_users.id"], name=op.f("fk_duty_handovers_outgoing_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_handovers")),
    )
    with op.batch_alter_table("duty_handovers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_handovers_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_handovers_incoming_id"), ["incoming_id"], unique=False)

    op.create_table(
        "duty_log_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.Enum("daily", "weekly", name="checkkind", native_enum=False, length=20), nullable=False),
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("findings", sa.String(length=1000), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["staff_users.id"], name=op.f("fk_duty_log_checks_by_id_staff_users")),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_duty_log_checks_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_log_checks")),
    )
    with op.batch_alter_table("duty_log_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_log_checks_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "duty_day_sheet_defects",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("sheet_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=400), nullable=False),
        sa.Column("fix", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["sheet_id"],
            ["duty_day_sheets.id"],
            name=op.f("fk_duty_day_sheet_defects_sheet_id_duty_day_sheets"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_day_sheet_defects")),
    )
    with op.batch_alter_table("duty_day_sheet_defects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_day_sheet_defects_sheet_id"), ["sheet_id"], unique=False)

    op.create_table(
        "duty_handover_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("handover_id", sa.Integer(), nullable=False),
        sa.Column("text", sa.String(length=400), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("carried_from_id", sa.Integer(), nullable=True),
        sa.Column("done", sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(
            ["carried_from_id"],
            ["duty_handover_items.id"],
            name=op.f("fk_duty_handover_items_carried_from_id_duty_handover_items"),
        ),
        sa.ForeignKeyConstraint(
            ["handover_id"],
            ["duty_handovers.id"],
            name=op.f("fk_duty_handover_items_handover_id_duty_handovers"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["staff_users.id"], name=op.f("fk_duty_handover_items_owner_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_handover_items")),
    )
    with op.batch_alter_table("duty_handover_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_handover_items_handover_id"), ["handover_id"], unique=False)

    op.create_table(
        "duty_log_entries",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "urgency", sa.Enum("urgent", "normal", "low", name="urgency", native_enum=False, length=20), nullable=False
        ),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("place", sa.String(length=60), nullable=False),
        sa.Column("reporter", sa.String(length=60), nullable=False),
        sa.Column("summary", sa.String(length=1000), nullable=False),
        sa.Column(
            "state", sa.Enum("open", "routed", "closed", name="logstate", native_enum=False, length=20), nullable=True
        ),
        sa.Column("routed_role", sa.String(length=20), nullable=False),
        sa.Column("routed_to_id", sa.Integer(), nullable=True),
        sa.Column("escalation", sa.String(length=10), nullable=False),
        sa.Column("repeated", sa.Boolean(), nullable=False),
        sa.Column("close_note", sa.String(length=400), nullable=False),
        sa.Column("phone_call_id", sa.Integer(), nullable=True),
        sa.Column("written_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_duty_log_entries_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["phone_call_id"],
            ["phone_calls.id"],
            name=op.f("fk_duty_log_entries_phone_call_id_phone_calls"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["routed_to_id"], ["staff_users.id"], name=op.f("fk_duty_log_entries_routed_to_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_duty_log_entries_unit_id_units"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["written_by_id"], ["staff_users.id"], name=op.f("fk_duty_log_entries_written_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_log_entries")),
    )
    with op.batch_alter_table("duty_log_entries", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_log_entries_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index("ix_duty_log_entries_repeat", ["estate_id", "category", "at"], unique=False)

    op.create_table(
        "duty_repeat_reports",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("entry_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=40), nullable=False),
        sa.Column("place", sa.String(length=60), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.Column("asked_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("written_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("written_by_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["entry_id"],
            ["duty_log_entries.id"],
            name=op.f("fk_duty_repeat_reports_entry_id_duty_log_entries"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_duty_repeat_reports_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["written_by_id"], ["staff_users.id"], name=op.f("fk_duty_repeat_reports_written_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_duty_repeat_reports")),
    )
    with op.batch_alter_table("duty_repeat_reports", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_duty_repeat_reports_entry_id"), ["entry_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_duty_repeat_reports_estate_id"), ["estate_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("duty_repeat_reports", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_repeat_reports_estate_id"))
        batch_op.drop_index(batch_op.f("ix_duty_repeat_reports_entry_id"))

    op.drop_table("duty_repeat_reports")
    with op.batch_alter_table("duty_log_entries", schema=None) as batch_op:
        batch_op.drop_index("ix_duty_log_entries_repeat")
        batch_op.drop_index(batch_op.f("ix_duty_log_entries_estate_id"))

    op.drop_table("duty_log_entries")
    with op.batch_alter_table("duty_handover_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_handover_items_handover_id"))

    op.drop_table("duty_handover_items")
    with op.batch_alter_table("duty_day_sheet_defects", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_day_sheet_defects_sheet_id"))

    op.drop_table("duty_day_sheet_defects")
    with op.batch_alter_table("duty_log_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_log_checks_estate_id"))

    op.drop_table("duty_log_checks")
    with op.batch_alter_table("duty_handovers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_handovers_incoming_id"))
        batch_op.drop_index(batch_op.f("ix_duty_handovers_estate_id"))

    op.drop_table("duty_handovers")
    with op.batch_alter_table("duty_day_sheets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_duty_day_sheets_estate_id"))

    op.drop_table("duty_day_sheets")
