"""front-desk operations: the archive room: files, loans, destruction requests, quarterly completeness checks and
access records.

Revision ID: 0011
Revises: 0010
Create Date: 2026-11-30 20:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import server.db.base

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "archive_access",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("entered_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("name", sa.String(length=60), nullable=False),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("accompanied_by_id", sa.Integer(), nullable=True),
        sa.Column("recorded_by", sa.String(length=80), nullable=False),
        sa.ForeignKeyConstraint(
            ["accompanied_by_id"], ["staff_users.id"], name=op.f("fk_archive_access_accompanied_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_archive_access_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_archive_access_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_access")),
    )
    op.create_index(op.f("ix_archive_access_estate_id"), "archive_access", ["estate_id"], unique=False)
    op.create_table(
        "archive_checks",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("quarter", sa.String(length=7), nullable=False),
        sa.Column("checked_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=80), nullable=False),
        sa.Column("note", sa.String(length=400), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_archive_checks_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_checks")),
        sa.UniqueConstraint("estate_id", "quarter", name=op.f("uq_archive_checks_estate_id")),
    )
    op.create_index(op.f("ix_archive_checks_estate_id"), "archive_checks", ["estate_id"], unique=False)
    op.create_table(
        "archive_files",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("number", sa.String(length=32), nullable=False),
        sa.Column(
            "file_class",
            sa.Enum(
                "owner",
                "contract",
                "drawing",
                "finance",
                "service",
                "other",
                name="fileclass",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=120), nullable=False),
        sa.Column("location", sa.String(length=40), nullable=False),
        sa.Column("filed_on", sa.Date(), nullable=False),
        sa.Column("retention_years", sa.Integer(), nullable=True),
        sa.Column(
            "confidentiality",
            sa.Enum(
                "public", "internal", "confidential", "secret", name="confidentiality", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column(
            "state",
            sa.Enum("held", "retired", "destroyed", name="filestate", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_archive_files_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_files")),
        sa.UniqueConstraint("estate_id", "number", name=op.f("uq_archive_files_estate_id")),
    )
    op.create_index(op.f("ix_archive_files_estate_id"), "archive_files", ["estate_id"], unique=False)
    op.create_table(
        "archive_check_findings",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("check_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column(
            "finding",
            sa.Enum("present", "missing", "damaged", name="finding", native_enum=False, length=20),
            nullable=False,
        ),
        sa.Column("note", sa.String(length=200), nullable=False),
        sa.ForeignKeyConstraint(
            ["check_id"],
            ["archive_checks.id"],
            name=op.f("fk_archive_check_findings_check_id_archive_checks"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["archive_files.id"],
            name=op.f("fk_archive_check_findings_file_id_archive_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_check_findings")),
    )
    op.create_index(op.f("ix_archive_check_findings_check_id"), "archive_check_findings", ["check_id"], unique=False)
    op.create_table(
        "archive_destructions",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "requested", "approved", "refused", "destroyed", name="destructionstate", native_enum=False, length=20
            ),
            nullable=False,
        ),
        sa.Column("reason", sa.String(length=200), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("destroyed_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("method", sa.String(length=60), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["staff_users.id"], name=op.f("fk_archive_destructions_approved_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_archive_destructions_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"],
            ["archive_files.id"],
            name=op.f("fk_archive_destructions_file_id_archive_files"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_destructions")),
    )
    op.create_index(op.f("ix_archive_destructions_estate_id"), "archive_destructions", ["estate_id"], unique=False)
    op.create_index(op.f("ix_archive_destructions_file_id"), "archive_destructions", ["file_id"], unique=False)
    op.create_table(
        "archive_loans",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("estate_id", sa.Integer(), nullable=False),
        sa.Column("file_id", sa.Integer(), nullable=False),
        sa.Column(
            "state",
            sa.Enum(
                "requested",
                "approved",
                "refused",
                "out",
                "returned",
                "cancelled",
                name="archiveloanstate",
                native_enum=False,
                length=20,
            ),
            nullable=False,
        ),
        sa.Column("staff_id", sa.Integer(), nullable=True),
        sa.Column("borrower_name", sa.String(length=60), nullable=False),
        sa.Column("outside", sa.Boolean(), nullable=False),
        sa.Column("company", sa.String(length=100), nullable=False),
        sa.Column("purpose", sa.String(length=200), nullable=False),
        sa.Column("due_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.Column("no_copying", sa.Boolean(), nullable=False),
        sa.Column("borrower_signature", sa.Text(), nullable=False),
        sa.Column("approved_by_id", sa.Integer(), nullable=True),
        sa.Column("lent_by", sa.String(length=80), nullable=False),
        sa.Column("lent_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_at", server.db.base.UTCDateTime(timezone=True), nullable=True),
        sa.Column("returned_late", sa.Boolean(), nullable=False),
        sa.Column("created_by", sa.String(length=80), nullable=False),
        sa.Column("created_at", server.db.base.UTCDateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["approved_by_id"], ["staff_users.id"], name=op.f("fk_archive_loans_approved_by_id_staff_users")
        ),
        sa.ForeignKeyConstraint(
            ["estate_id"], ["estates.id"], name=op.f("fk_archive_loans_estate_id_estates"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["file_id"], ["archive_files.id"], name=op.f("fk_archive_loans_file_id_archive_files"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(["staff_id"], ["staff_users.id"], name=op.f("fk_archive_loans_staff_id_staff_users")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_archive_loans")),
    )
    op.create_index(op.f("ix_archive_loans_estate_id"), "archive_loans", ["estate_id"], unique=False)
    op.create_index(op.f("ix_archive_loans_file_id"), "archive_loans", ["file_id"], unique=False)


def downgrade() -> None:
    op.drop_index(op.f("ix_archive_loans_file_id"), table_name="archive_loans")
    op.drop_index(op.f("ix_archive_loans_estate_id"), table_name="archive_loans")
    op.drop_table("archive_loans")
    op.drop_index(op.f("ix_archive_destructions_file_id"), table_name="archive_destructions")
    op.drop_index(op.f("ix_archive_destructions_estate_id"), table_name="archive_destructions")
    op.drop_table("archive_destructions")
    op.drop_index(op.f("ix_archive_check_findings_check_id"), table_name="archive_check_findings")
    op.drop_table("archive_check_findings")
    op.drop_index(op.f("ix_archive_files_estate_id"), table_name="archive_files")
    op.drop_table("archive_files")
    op.drop_index(op.f("ix_archive_checks_estate_id"), table_name="archive_checks")
    op.drop_table("archive_checks")
    op.drop_index(op.f("ix_archive_access_estate_id"), table_name="archive_access")
    op.drop_table("archive_access")
