"""estate lifecycle: the move-in desk, vacant units' takeover, patrols and statistics.

Revision ID: 0016
Revises: 0015
Create Date: 2026-11-30 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "meter_readings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("meter", sa.Enum("water", "electricity", name="meter", native_enum=False, length=12), nullable=False),
        sa.Column("reading_milli", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=20), nullable=False),
        sa.Column("read_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_meter_readings_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_meter_readings_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_meter_readings")),
    )
    op.create_index(op.f("ix_meter_readings_estate_id"), "meter_readings", ["estate_id"], unique=False)
    op.create_index(op.f("ix_meter_readings_unit_id"), "meter_readings", ["unit_id"], unique=False)
    op.create_table(
        "takeover_inspections",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("developer", sa.String(length=100), nullable=False),
        sa.Column("developer_rep", sa.String(length=60), nullable=False),
        sa.Column(
            "state", sa.Enum("open", "signed", name="takeoverstate", native_enum=False, length=20), nullable=False
        ),
        sa.Column("inspector_id", sa.Integer(), nullable=False),
        sa.Column("opened_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("engineering_signature", sa.Text(), nullable=False),
        sa.Column("developer_signature", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_takeover_inspections_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["inspector_id"], ["staff_users.id"], name=op.f("fk_takeover_inspections_inspector_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_takeover_inspections_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takeover_inspections")),
        sa.UniqueConstraint("estate_id", "number", name=op.f("uq_takeover_inspections_estate_id")),
    )
    op.create_index(op.f("ix_takeover_inspections_estate_id"), "takeover_inspections", ["estate_id"], unique=False)
    op.create_index(op.f("ix_takeover_inspections_unit_id"), "takeover_inspections", ["unit_id"], unique=False)
    op.create_table(
        "vacant_cleanings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("cleaned_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("parts", sa.String(length=200), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["staff_users.id"], name=op.f("fk_vacant_cleanings_by_id_staff_users")),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_vacant_cleanings_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_vacant_cleanings_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vacant_cleanings")),
    )
    op.create_index(op.f("ix_vacant_cleanings_estate_id"), "vacant_cleanings", ["estate_id"], unique=False)
    op.create_index(op.f("ix_vacant_cleanings_unit_id"), "vacant_cleanings", ["unit_id"], unique=False)
    op.create_table(
        "vacant_patrols",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("patrolled_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("by_id", sa.Integer(), nullable=False),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(["by_id"], ["staff_users.id"], name=op.f("fk_vacant_patrols_by_id_staff_users")),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_vacant_patrols_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_vacant_patrols_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vacant_patrols")),
    )
    op.create_index(op.f("ix_vacant_patrols_estate_id"), "vacant_patrols", ["estate_id"], unique=False)
    op.create_index(op.f("ix_vacant_patrols_unit_id"), "vacant_patrols", ["unit_id"], unique=False)
    op.create_table(
        "patrol_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("patrol_id", sa.Integer(), nullable=False),
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
        sa.Column("warranty", sa.Boolean(), nullable=False),
        sa.Column("developer_notified_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("repair_order_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["patrol_id"],
            ["vacant_patrols.id"],
            name=op.f("fk_patrol_findings_patrol_id_vacant_patrols"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["repair_order_id"],
            ["service_orders.id"],
            name=op.f("fk_patrol_findings_repair_order_id_service_orders"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patrol_findings")),
    )
    op.create_index(op.f("ix_patrol_findings_patrol_id"), "patrol_findings", ["patrol_id"], unique=False)
    op.create_table(
        "takeover_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("inspection_id", sa.Integer(), nullable=False),
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
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("defect", sa.String(length=200), nullable=False),
        sa.Column("agreement", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["inspection_id"],
            ["takeover_inspections.id"],
            name=op.f("fk_takeover_items_inspection_id_takeover_inspections"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_takeover_items")),
        sa.UniqueConstraint("inspection_id", "category", name=op.f("uq_takeover_items_inspection_id")),
    )
    op.create_index(op.f("ix_takeover_items_inspection_id"), "takeover_items", ["inspection_id"], unique=False)
    op.create_table(
        "move_ins",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("owner_id", sa.Integer(), nullable=False),
        sa.Column("ticket", sa.Integer(), nullable=False),
        sa.Column("queued_on", sa.Date(), nullable=False),
        sa.Column("queued_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "queued",
                "checked",
                "signed",
                "paid",
                "pack_handed",
                "inspected",
                "keys_issued",
                "filed",
                "cancelled",
                name="moveinstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("notice_no", sa.String(length=40), nullable=False),
        sa.Column("id_copies", sa.Integer(), nullable=False),
        sa.Column("bank_copies", sa.Integer(), nullable=False),
        sa.Column("documents", sa.String(length=400), nullable=False),
        sa.Column("family_members", sa.Integer(), nullable=False),
        sa.Column("photos", sa.Integer(), nullable=False),
        sa.Column("owner_signature", sa.Text(), nullable=False),
        sa.Column("fee_total_fen", sa.Integer(), nullable=False),
        sa.Column("tendered_fen", sa.Integer(), nullable=False),
        sa.Column("change_fen", sa.Integer(), nullable=False),
        sa.Column("fee_receipt_no", sa.String(length=40), nullable=False),
        sa.Column("pack_items", sa.String(length=400), nullable=False),
        sa.Column("water_milli", sa.Integer(), nullable=True),
        sa.Column("electricity_milli", sa.Integer(), nullable=True),
        sa.Column("acceptance_signature", sa.Text(), nullable=False),
        sa.Column("key_receipt_no", sa.String(length=40), nullable=False),
        sa.Column("key_signature", sa.Text(), nullable=False),
        sa.Column("kept_key_id", sa.Integer(), nullable=True),
        sa.Column("rectification_receipt_no", sa.String(length=40), nullable=False),
        sa.Column("filed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_move_ins_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["kept_key_id"], ["keys.id"], name=op.f("fk_move_ins_kept_key_id_keys"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"], ["persons.id"], name=op.f("fk_move_ins_owner_id_persons"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_move_ins_unit_id_units"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_ins")),
        sa.UniqueConstraint("estate_id", "number", name=op.f("uq_move_ins_estate_id")),
    )
    op.create_index(op.f("ix_move_ins_estate_id"), "move_ins", ["estate_id"], unique=False)
    op.create_index(op.f("ix_move_ins_queued_on"), "move_ins", ["queued_on"], unique=False)
    op.create_index(op.f("ix_move_ins_state"), "move_ins", ["state"], unique=False)
    op.create_index(op.f("ix_move_ins_unit_id"), "move_ins", ["unit_id"], unique=False)
    op.create_table(
        "move_in_facilities",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("move_in_id", sa.Integer(), nullable=False),
        sa.Column("item", sa.String(length=20), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=False),
        sa.Column("rectification", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["move_in_id"], ["move_ins.id"], name=op.f("fk_move_in_facilities_move_in_id_move_ins"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_in_facilities")),
    )
    op.create_index(op.f("ix_move_in_facilities_move_in_id"), "move_in_facilities", ["move_in_id"], unique=False)
    op.create_table(
        "move_in_fees",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("move_in_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["move_in_id"], ["move_ins.id"], name=op.f("fk_move_in_fees_move_in_id_move_ins"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_in_fees")),
    )
    op.create_index(op.f("ix_move_in_fees_move_in_id"), "move_in_fees", ["move_in_id"], unique=False)
    op.create_table(
        "vacancies",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("takeover_id", sa.Integer(), nullable=False),
        sa.Column("starts_on", sa.Date(), nullable=False),
        sa.Column("ends_on", sa.Date(), nullable=True),
        sa.Column("move_in_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_vacancies_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["move_in_id"], ["move_ins.id"], name=op.f("fk_vacancies_move_in_id_move_ins"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["takeover_id"],
            ["takeover_inspections.id"],
            name=op.f("fk_vacancies_takeover_id_takeover_inspections"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_vacancies_unit_id_units"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_vacancies")),
    )
    op.create_index(op.f("ix_vacancies_estate_id"), "vacancies", ["estate_id"], unique=False)
    op.create_index(op.f("ix_vacancies_unit_id"), "vacancies", ["unit_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_vacancies_unit_id"), table_name="vacancies")
    op.drop_index(op.f("ix_vacancies_estate_id"), table_name="vacancies")
    op.drop_table("vacancies")
    op.drop_index(op.f("ix_move_in_fees_move_in_id"), table_name="move_in_fees")
    op.drop_table("move_in_fees")
    op.drop_index(op.f("ix_move_in_facilities_move_in_id"), table_name="move_in_facilities")
    op.drop_table("move_in_facilities")
    op.drop_index(op.f("ix_move_ins_unit_id"), table_name="move_ins")
    op.drop_index(op.f("ix_move_ins_state"), table_name="move_ins")
    op.drop_index(op.f("ix_move_ins_queued_on"), table_name="move_ins")
    op.drop_index(op.f("ix_move_ins_estate_id"), table_name="move_ins")
    op.drop_table("move_ins")
    op.drop_index(op.f("ix_takeover_items_inspection_id"), table_name="takeover_items")
    op.drop_table("takeover_items")
    op.drop_index(op.f("ix_patrol_findings_patrol_id"), table_name="patrol_findings")
    op.drop_table("patrol_findings")
    op.drop_index(op.f("ix_vacant_patrols_unit_id"), table_name="vacant_patrols")
    op.drop_index(op.f("ix_vacant_patrols_estate_id"), table_name="vacant_patrols")
    op.drop_table("vacant_patrols")
    op.drop_index(op.f("ix_vacant_cleanings_unit_id"), table_name="vacant_cleanings")
    op.drop_index(op.f("ix_vacant_cleanings_estate_id"), table_name="vacant_cleanings")
    op.drop_table("vacant_cleanings")
    op.drop_index(op.f("ix_takeover_inspections_unit_id"), table_name="takeover_inspections")
    op.drop_index(op.f("ix_takeover_inspections_estate_id"), table_name="takeover_inspections")
    op.drop_table("takeover_inspections")
    op.drop_index(op.f("ix_meter_readings_unit_id"), table_name="meter_readings")
    op.drop_index(op.f("ix_meter_readings_estate_id"), table_name="meter_readings")
    op.drop_table("meter_readings")
