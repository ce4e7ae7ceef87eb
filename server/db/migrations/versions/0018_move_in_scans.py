"""move-in: scanned copies and family photos, the fee list per estate.

The move-in's ID copies, bank-book copy and family photos become stored scans (`move_in_scans`); the fee list
《入伙费用一览表》 becomes a table per estate (`move_in_fee_items`), each existing estate given the list the code held
until now, with no standard amounts (typed at the desk, as before); a move-in's charged lines keep their names.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-01 02:40:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0018"
down_revision: str | None = "0017"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The fee list as the code held it before this revision: code, Chinese, English.
FEES = (
    ("management", "物业管理费（预收）", "Management fee (in advance)"),
    ("water_deposit", "水费周转金", "Water float"),
    ("power_deposit", "电费周转金", "Electricity float"),
    ("renovation_waste", "装修垃圾清运费", "Renovation waste removal"),
    ("access_cards", "门禁卡工本费", "Access cards"),
)


def upgrade() -> None:
    op.create_table(
        "move_in_fee_items",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("code", sa.String(length=20), nullable=False),
        sa.Column("name_zh", sa.String(length=60), nullable=False),
        sa.Column("name_en", sa.String(length=80), nullable=False),
        sa.Column("amount_fen", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("updated_by", sa.String(length=80), nullable=False),
        sa.Column("updated_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_move_in_fee_items_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_in_fee_items")),
        sa.UniqueConstraint("estate_id", "code", name=op.f("uq_move_in_fee_items_estate_id")),
    )
    op.create_index(op.f("ix_move_in_fee_items_estate_id"), "move_in_fee_items", ["estate_id"], unique=False)
    op.create_table(
        "move_in_scans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("move_in_id", sa.Integer(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum("id_copy", "bank_book", "family_photo", name="scankind", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("media_type", sa.String(length=20), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=False),
        sa.Column("height", sa.Integer(), nullable=False),
        sa.Column("uploaded_by_id", sa.Integer(), nullable=False),
        sa.Column("uploaded_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["move_in_id"], ["move_ins.id"], name=op.f("fk_move_in_scans_move_in_id_move_ins"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_id"], ["staff_users.id"], name=op.f("fk_move_in_scans_uploaded_by_id_staff_users")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_move_in_scans")),
    )
    op.create_index(op.f("ix_move_in_scans_move_in_id"), "move_in_scans", ["move_in_id"], unique=False)
    with op.batch_alter_table("move_in_fees") as batch:
        batch.add_column(sa.Column("name_zh", sa.String(length=60), server_default="", nullable=False))
        batch.add_column(sa.Column("name_en", sa.String(length=80), server_default="", nullable=False))
    # Every existing estate gets the list the code held; lines already charged take its names.
    connection = op.get_bind()
    items = sa.table(
        "move_in_fee_items",
        sa.column("estate_id", sa.Integer()),
        sa.column("code", sa.String()),
        sa.column("name_zh", sa.String()),
        sa.column("name_en", sa.String()),
        sa.column("amount_fen", sa.Integer()),
        sa.column("position", sa.Integer()),
        sa.column("active", sa.Boolean()),
        sa.column("updated_by", sa.String()),
    )
    estates = connection.execute(sa.text("SELECT id FROM estates")).scalars().all()
    rows = [
        {"estate_id": estate_id, "code": code, "name_zh": zh, "name_en": en, "amount_fen": 0, "position": n,
         "active": True, "updated_by": "system"}
        for estate_id in estates
        for n, (code, zh, en) in enumerate(FEES, start=1)
    ]  # fmt: skip
    if rows:
        op.bulk_insert(items, rows)
    for code, zh, en in FEES:
        connection.execute(
            sa.text("UPDATE move_in_fees SET name_zh = :zh, name_en = :en WHERE code = :code"),
            {"zh": zh, "en": en, "code": code},
        )


def downgrade() -> None:
    with op.batch_alter_table("move_in_fees") as batch:
        batch.drop_column("name_en")
        batch.drop_column("name_zh")
    op.drop_index(op.f("ix_move_in_scans_move_in_id"), table_name="move_in_scans")
    op.drop_table("move_in_scans")
    op.drop_index(op.f("ix_move_in_fee_items_estate_id"), table_name="move_in_fee_items")
    op.drop_table("move_in_fee_items")
