"""service desk: the price list, repair and cleaning orders, feedback forms and standard answers, the call log
and the front desk's call tasks.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-30 19:01:16.671982
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "price_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("repair", "cleaning", name="servicekind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("name_zh", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("unit_zh", sa.String(length=10), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("sort", sa.Integer(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_price_items_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_price_items")),
        sa.UniqueConstraint("estate_id", "kind", "code", name=op.f("uq_price_items_estate_id")),
    )
    with op.batch_alter_table("price_items", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_price_items_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "standard_answers",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("topic", sa.String(length=60), nullable=False),
        sa.Column("question", sa.String(length=200), nullable=False),
        sa.Column("answer", sa.String(length=1000), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_standard_answers_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_standard_answers")),
    )
    with op.batch_alter_table("standard_answers", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_standard_answers_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "feedback_forms",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "received",
                "formed",
                "referred",
                "replied",
                "signed",
                "answered",
                "followed_up",
                "filed",
                name="feedbackstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "desk", "phone", "kiosk", "email", "department", "letter", name="channel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column(
            "category",
            sa.Enum(
                "suggestion", "complaint", "praise", "question", name="feedbackcategory", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.String(length=40), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("contact_back", sa.String(length=20), nullable=False),
        sa.Column("subject", sa.String(length=100), nullable=False),
        sa.Column("details", sa.String(length=2000), nullable=False),
        sa.Column("standard_answer_id", sa.Integer(), nullable=True),
        sa.Column("department", sa.String(length=20), nullable=False),
        sa.Column("assistant_informed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("reply", sa.String(length=2000), nullable=False),
        sa.Column("replied_by", sa.String(length=80), nullable=False),
        sa.Column("supervisor_signed_by_id", sa.Integer(), nullable=True),
        sa.Column("answer_to_resident", sa.String(length=1000), nullable=False),
        sa.Column("follow_up", sa.String(length=500), nullable=False),
        sa.Column("received_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("due_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opens_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("filed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_feedback_forms_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_feedback_forms_person_id_persons"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["standard_answer_id"],
            ["standard_answers.id"],
            name=op.f("fk_feedback_forms_standard_answer_id_standard_answers"),
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_signed_by_id"],
            ["staff_users.id"],
            name=op.f("fk_feedback_forms_supervisor_signed_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_feedback_forms_unit_id_units"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback_forms")),
        sa.UniqueConstraint("estate_id", "number", name=op.f("uq_feedback_forms_estate_id")),
    )
    with op.batch_alter_table("feedback_forms", schema=None) as batch_op:
        batch_op.create_index("ix_feedback_forms_board", ["estate_id", "state", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_feedback_forms_estate_id"), ["estate_id"], unique=False)

    op.create_table(
        "service_orders",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind", sa.Enum("repair", "cleaning", name="servicekind", native_enum=False, length=20), nullable=False
        ),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "new",
                "assigned",
                "scheduled",
                "dispatched",
                "in_progress",
                "unfinished",
                "nobody_home",
                "done",
                "returned",
                "called_back",
                "reopened",
                "filed",
                "cancelled",
                name="orderstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "desk", "phone", "kiosk", "email", "department", "letter", name="channel", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("unit_id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("contact_name", sa.String(length=40), nullable=False),
        sa.Column("contact_phone", sa.String(length=20), nullable=False),
        sa.Column("category", sa.String(length=20), nullable=False),
        sa.Column("item_id", sa.Integer(), nullable=True),
        sa.Column("description", sa.String(length=400), nullable=False),
        sa.Column("location", sa.String(length=60), nullable=False),
        sa.Column("paid", sa.Boolean(), nullable=False),
        sa.Column("price_fen", sa.Integer(), nullable=True),
        sa.Column("quote_materials_fen", sa.Integer(), nullable=True),
        sa.Column("quote_labour_fen", sa.Integer(), nullable=True),
        sa.Column("quote_accepted_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("actual_fen", sa.Integer(), nullable=True),
        sa.Column("appointment_start", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("appointment_end", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("worker_name", sa.String(length=40), nullable=False),
        sa.Column("started_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("done_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("unfinished_reason", sa.String(length=200), nullable=False),
        sa.Column("out_of_scope", sa.String(length=200), nullable=False),
        sa.Column("resident_opinion", sa.String(length=200), nullable=False),
        sa.Column("satisfied", sa.Boolean(), nullable=True),
        sa.Column("resident_signature", sa.Text(), nullable=False),
        sa.Column("repairer_signed_by", sa.String(length=40), nullable=False),
        sa.Column("supervisor_signed_by_id", sa.Integer(), nullable=True),
        sa.Column("unreturned_reason", sa.String(length=200), nullable=False),
        sa.Column("filed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("opens_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["staff_users.id"], name=op.f("fk_service_orders_assignee_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_service_orders_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["item_id"], ["price_items.id"], name=op.f("fk_service_orders_item_id_price_items")),
        sa.ForeignKeyConstraint(
            ["person_id"], ["persons.id"], name=op.f("fk_service_orders_person_id_persons"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["supervisor_signed_by_id"],
            ["staff_users.id"],
            name=op.f("fk_service_orders_supervisor_signed_by_id_staff_users"),
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_service_orders_unit_id_units"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_service_orders")),
        sa.UniqueConstraint("estate_id", "number", name=op.f("uq_service_orders_estate_id")),
    )
    with op.batch_alter_table("service_orders", schema=None) as batch_op:
        batch_op.create_index("ix_service_orders_board", ["estate_id", "kind", "state", "due_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_service_orders_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index("ix_service_orders_unit", ["unit_id", "created_at"], unique=False)

    op.create_table(
        "call_tasks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column(
            "reason",
            sa.Enum(
                "repair_callback",
                "cleaning_rebook",
                "dissatisfied",
                "cleaning_callback",
                "feedback_answer",
                name="callreason",
                native_enum=False,
                length=24,
            ),
            nullable=False,
        ),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("feedback_id", sa.Integer(), nullable=True),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column("opens_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("due_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("done_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "reached_satisfied",
                "reached_unsatisfied",
                "no_answer",
                "rebooked",
                "cancelled",
                name="calloutcome",
                native_enum=False,
                length=24,
            ),
            nullable=True,
        ),
        sa.Column("note", sa.String(length=300), nullable=False),
        sa.Column("called_by_id", sa.Integer(), nullable=True),
        sa.Column("escalated_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["called_by_id"], ["staff_users.id"], name=op.f("fk_call_tasks_called_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_call_tasks_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback_forms.id"],
            name=op.f("fk_call_tasks_feedback_id_feedback_forms"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"], ["service_orders.id"], name=op.f("fk_call_tasks_order_id_service_orders"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_call_tasks")),
    )
    with op.batch_alter_table("call_tasks", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_call_tasks_estate_id"), ["estate_id"], unique=False)
        batch_op.create_index("ix_call_tasks_queue", ["estate_id", "done_at", "due_at"], unique=False)

    op.create_table(
        "phone_calls",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("unit_id", sa.Integer(), nullable=True),
        sa.Column("room", sa.String(length=16), nullable=False),
        sa.Column("surname", sa.String(length=20), nullable=False),
        sa.Column("phone", sa.String(length=20), nullable=False),
        sa.Column(
            "topic",
            sa.Enum(
                "repair", "cleaning", "feedback", "enquiry", "other", name="calltopic", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("summary", sa.String(length=400), nullable=False),
        sa.Column("read_back", sa.Boolean(), nullable=False),
        sa.Column("handling", sa.String(length=200), nullable=False),
        sa.Column("anything_else_asked", sa.Boolean(), nullable=False),
        sa.Column("outcome", sa.String(length=40), nullable=False),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("feedback_id", sa.Integer(), nullable=True),
        sa.Column("taken_by_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_phone_calls_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["feedback_id"],
            ["feedback_forms.id"],
            name=op.f("fk_phone_calls_feedback_id_feedback_forms"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["order_id"],
            ["service_orders.id"],
            name=op.f("fk_phone_calls_order_id_service_orders"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["taken_by_id"], ["staff_users.id"], name=op.f("fk_phone_calls_taken_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["unit_id"], ["units.id"], name=op.f("fk_phone_calls_unit_id_units"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_phone_calls")),
    )
    with op.batch_alter_table("phone_calls", schema=None) as batch_op:
        batch_op.create_index("ix_phone_calls_day", ["estate_id", "at"], unique=False)
        batch_op.create_index(batch_op.f("ix_phone_calls_estate_id"), ["estate_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("phone_calls", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_phone_calls_estate_id"))
        batch_op.drop_index("ix_phone_calls_day")

    op.drop_table("phone_calls")
    with op.batch_alter_table("call_tasks", schema=None) as batch_op:
        batch_op.drop_index("ix_call_tasks_queue")
        batch_op.drop_index(batch_op.f("ix_call_tasks_estate_id"))

    op.drop_table("call_tasks")
    with op.batch_alter_table("service_orders", schema=None) as batch_op:
        batch_op.drop_index("ix_service_orders_unit")
        batch_op.drop_index(batch_op.f("ix_service_orders_estate_id"))
        batch_op.drop_index("ix_service_orders_board")

    op.drop_table("service_orders")
    with op.batch_alter_table("feedback_forms", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_feedback_forms_estate_id"))
        batch_op.drop_index("ix_feedback_forms_board")

    op.drop_table("feedback_forms")
    with op.batch_alter_table("standard_answers", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_standard_answers_estate_id"))

    op.drop_table("standard_answers")
    with op.batch_alter_table("price_items", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_price_items_estate_id"))

    op.drop_table("price_items")
