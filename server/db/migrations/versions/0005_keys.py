"""keys: cabinet boards and slots, intakes and their checks, key sets and keys, loans, duplications, key alarms,
and the step history that process records share.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-30 14:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "key_boards",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("address", sa.Integer(), nullable=False),
        sa.Column("channels", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=40), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_key_boards_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_boards")),
        sa.UniqueConstraint("estate_id", "address", name=op.f("uq_key_boards_estate_id")),
    )
    with op.batch_alter_table("key_boards", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_boards_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "key_intakes",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("contractor", sa.String(length=100), nullable=False),
        sa.Column("handed_by", sa.String(length=60), nullable=False),
        sa.Column("received_by_id", sa.Integer(), nullable=False),
        sa.Column("handed_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("declared_keys", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "received",
                "tested",
                "spot_check",
                "accepted",
                "refused",
                name="intakestate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_key_intakes_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["received_by_id"], ["staff_users.id"], name=op.f("fk_key_intakes_received_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_intakes")),
    )
    with op.batch_alter_table("key_intakes", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_intakes_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "key_slots",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("board", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("occupied", sa.Boolean(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("changed_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_key_slots_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_slots")),
        sa.UniqueConstraint("estate_id", "board", "slot", name=op.f("uq_key_slots_estate_id")),
    )
    with op.batch_alter_table("key_slots", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_slots_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "step_history",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("process", sa.String(length=30), nullable=False),
        sa.Column("record_id", sa.Integer(), nullable=False),
        sa.Column("transition", sa.String(length=30), nullable=False),
        sa.Column("from_state", sa.String(length=20), nullable=False),
        sa.Column("to_state", sa.String(length=20), nullable=False),
        sa.Column("actor", sa.String(length=80), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("device_id", sa.Integer(), nullable=True),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_step_history_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["staff_id"], ["staff_users.id"], name=op.f("fk_step_history_staff_id_staff_users"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_step_history")),
    )
    with op.batch_alter_table("step_history", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_step_history_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index("ix_step_history_record", ["process", "record_id"], unique=False)

    op.create_table(
        "key_sets",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("intake_id", sa.Integer(), nullable=False),
        sa.Column(
            "opens",
            sa.Enum(
                "unit", "public_door", "plant_room", "rectification", name="keygroup", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("building_id", sa.Integer(), nullable=True),
        sa.Column("entrance", sa.String(length=20), nullable=False),
        sa.Column("floor", sa.Integer(), nullable=True),
        sa.Column("equipment", sa.String(length=60), nullable=False),
        sa.Column(
            "copy", sa.Enum("only", "in_use", "spare", name="setcopy", native_enum=False, length=20), nullable=False
        ),
        sa.Column(
            "holder",
            sa.Enum("customer_service", "engineering", name="holder", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("stored_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(["building_id"], ["buildings.id"], name=op.f("fk_key_sets_building_id_buildings")),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_key_sets_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["key_intakes.id"], name=op.f("fk_key_sets_intake_id_key_intakes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["unit_id"], ["units.id"], name=op.f("fk_key_sets_unit_id_units")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_sets")),
    )
    with op.batch_alter_table("key_sets", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_sets_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_key_sets_intake_id"), ["intake_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_key_sets_unit_id"), ["unit_id"], unique=False)

    op.create_table(
        "keys",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("set_id", sa.Integer(), nullable=False),
        sa.Column("label", sa.String(length=60), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("kind", sa.Enum("mechanical", "tm", name="keykind", native_enum=False, length=20), nullable=False),
        sa.Column("board", sa.Integer(), nullable=True),
        sa.Column("slot", sa.Integer(), nullable=True),
        sa.Column("building_start", sa.Boolean(), nullable=False),
        sa.Column("handed_over_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_keys_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["set_id"], ["key_sets.id"], name=op.f("fk_keys_set_id_key_sets"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_keys")),
        sa.UniqueConstraint("estate_id", "board", "slot", name=op.f("uq_keys_estate_slot")),
        sa.UniqueConstraint("estate_id", "tag", name=op.f("uq_keys_estate_tag")),
    )
    with op.batch_alter_table("keys", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_keys_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_keys_set_id"), ["set_id"], unique=False)

    op.create_table(
        "key_alarms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "wrong_slot", "removed_without_loan", "unknown_tag", name="alarmkind", native_enum=False, length=30
            ),
            nullable=False,
        ),
        sa.Column("key_id", sa.Integer(), nullable=True),
        sa.Column("board", sa.Integer(), nullable=False),
        sa.Column("slot", sa.Integer(), nullable=False),
        sa.Column("tag", sa.String(length=40), nullable=False),
        sa.Column("expected_board", sa.Integer(), nullable=True),
        sa.Column("expected_slot", sa.Integer(), nullable=True),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_key_alarms_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["key_id"], ["keys.id"], name=op.f("fk_key_alarms_key_id_keys"), ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_alarms")),
    )
    with op.batch_alter_table("key_alarms", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_alarms_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "key_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("intake_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("stage", sa.Enum("acceptance", "spot", name="checkstage", native_enum=False), nullable=False),
        sa.Column("passed", sa.Boolean(), nullable=True),
        sa.Column("checked_by_id", sa.Integer(), nullable=True),
        sa.Column("checked_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["checked_by_id"], ["staff_users.id"], name=op.f("fk_key_checks_checked_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["intake_id"], ["key_intakes.id"], name=op.f("fk_key_checks_intake_id_key_intakes"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["key_id"], ["keys.id"], name=op.f("fk_key_checks_key_id_keys"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_checks")),
        sa.UniqueConstraint("intake_id", "key_id", "stage", name=op.f("uq_key_checks_intake_id")),
    )
    with op.batch_alter_table("key_checks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_checks_intake_id"), ["intake_id"], unique=False)

    op.create_table(
        "key_duplications",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column(
            "state",
            sa.Enum("requested", "approved", "refused", name="duplicationstate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("requested_by_id", sa.Integer(), nullable=False),
        sa.Column("requested_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("decided_by_id", sa.Integer(), nullable=True),
        sa.Column("decided_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["decided_by_id"], ["staff_users.id"], name=op.f("fk_key_duplications_decided_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_key_duplications_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["key_id"], ["keys.id"], name=op.f("fk_key_duplications_key_id_keys"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["requested_by_id"], ["staff_users.id"], name=op.f("fk_key_duplications_requested_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_duplications")),
    )
    with op.batch_alter_table("key_duplications", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_duplications_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_key_duplications_key_id"), ["key_id"], unique=False)

    op.create_table(
        "key_loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("key_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "requested",
                "out",
                "returned",
                "handed_over",
                "cancelled",
                name="loanstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "purpose",
            sa.Enum(
                "viewing",
                "rectification",
                "engineering",
                "sales_viewing",
                "move_in",
                name="loanpurpose",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "borrower_kind",
            sa.Enum("staff", "owner", "outside_worker", name="borrowerkind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("borrower_staff_id", sa.Integer(), nullable=True),
        sa.Column("borrower_person_id", sa.Integer(), nullable=True),
        sa.Column("borrower_name", sa.String(length=60), nullable=False),
        sa.Column("company", sa.String(length=100), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("id_tail", sa.String(length=4), nullable=False),
        sa.Column("accompanied_by_id", sa.Integer(), nullable=True),
        sa.Column("receipt_no", sa.String(length=40), nullable=False),
        sa.Column("payment_proof", sa.String(length=40), nullable=False),
        sa.Column("registered_by_id", sa.Integer(), nullable=False),
        sa.Column("registered_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("out_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_flagged_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_ack_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("overdue_ack_by_id", sa.Integer(), nullable=True),
        sa.Column("overdue_ack_note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["accompanied_by_id"], ["staff_users.id"], name=op.f("fk_key_loans_accompanied_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["borrower_person_id"], ["persons.id"], name=op.f("fk_key_loans_borrower_person_id_persons")
        ),
        sa.ForeignKeyConstraint(
            ["borrower_staff_id"], ["staff_users.id"], name=op.f("fk_key_loans_borrower_staff_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_key_loans_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["key_id"], ["keys.id"], name=op.f("fk_key_loans_key_id_keys"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(
            ["overdue_ack_by_id"], ["staff_users.id"], name=op.f("fk_key_loans_overdue_ack_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["registered_by_id"], ["staff_users.id"], name=op.f("fk_key_loans_registered_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_key_loans")),
    )
    with op.batch_alter_table("key_loans", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_key_loans_due_at"), ["due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_key_loans_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_key_loans_key_id"), ["key_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_key_loans_state"), ["state"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("key_loans", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_loans_state"))
        batch_op.drop_index(batch_op.f("ix_key_loans_key_id"))
        batch_op.drop_index(batch_op.f("ix_key_loans_estate_id"))
        batch_op.drop_index(batch_op.f("ix_key_loans_due_at"))

    op.drop_table("key_loans")
    with op.batch_alter_table("key_duplications", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_duplications_key_id"))
        batch_op.drop_index(batch_op.f("ix_key_duplications_estate_id"))

    op.drop_table("key_duplications")
    with op.batch_alter_table("key_checks", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_checks_intake_id"))

    op.drop_table("key_checks")
    with op.batch_alter_table("key_alarms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_alarms_estate_id"))

    op.drop_table("key_alarms")
    with op.batch_alter_table("keys", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_keys_set_id"))
        batch_op.drop_index(batch_op.f("ix_keys_estate_id"))

    op.drop_table("keys")
    with op.batch_alter_table("key_sets", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_sets_unit_id"))
        batch_op.drop_index(batch_op.f("ix_key_sets_intake_id"))
        batch_op.drop_index(batch_op.f("ix_key_sets_estate_id"))

    op.drop_table("key_sets")
    with op.batch_alter_table("step_history", schema=None) as batch_op:
        batch_op.drop_index("ix_step_history_record")
        batch_op.drop_index(batch_op.f("ix_step_history_estate_id"))

    op.drop_table("step_history")
    with op.batch_alter_table("key_slots", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_slots_estate_id"))

    op.drop_table("key_slots")
    with op.batch_alter_table("key_intakes", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_intakes_estate_id"))

    op.drop_table("key_intakes")
    with op.batch_alter_table("key_boards", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_key_boards_estate_id"))

    op.drop_table("key_boards")
