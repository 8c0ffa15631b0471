"""rights: credit commitments, objections, repair applications, their events, evidence files and
notices; rating_run.scope (full runs and re-ratings)

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-27 15:31:47.926688
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "credit_commitment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("context", sa.String(length=16), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_by", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("broken_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("broken_by", sa.String(length=64), nullable=True),
        sa.Column("broken_note", sa.String(length=500), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_credit_commitment")),
    )
    with op.batch_alter_table("credit_commitment", schema=None) as batch_op:
        batch_op.create_index("ix_credit_commitment_uscc", ["uscc", "signed_at"], unique=False)

    op.create_table(
        "objection",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=512), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("provider_code", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.String(length=500), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("commitment_id", sa.String(length=32), nullable=False),
        sa.Column("rule_code", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=600), nullable=True),
        sa.Column("prior_status", sa.String(length=16), nullable=True),
        sa.Column("outcome", sa.String(length=16), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("accept_due_date", sa.Date(), nullable=False),
        sa.Column("final_due_date", sa.Date(), nullable=False),
        sa.Column("provider_due_date", sa.Date(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("escalated_step", sa.String(length=16), nullable=True),
        sa.Column("platform_note", sa.String(length=1000), nullable=True),
        sa.Column("check_result", sa.String(length=2000), nullable=True),
        sa.Column("corrected_version", sa.Integer(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_objection")),
    )
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.create_index("ix_objection_provider", ["provider_code", "status"], unique=False)
        batch_op.create_index(
            "ix_objection_record", ["uscc", "item_code", "record_key", "status"], unique=False
        )
        batch_op.create_index("ix_objection_status", ["status", "filed_at"], unique=False)
        batch_op.create_index("ix_objection_subject", ["uscc", "filed_at"], unique=False)
        batch_op.create_index("uq_objection_open_key", ["open_key"], unique=True)

    op.create_table(
        "repair_application",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("record_key", sa.String(length=512), nullable=False),
        sa.Column("record_version", sa.Integer(), nullable=False),
        sa.Column("provider_code", sa.String(length=64), nullable=False),
        sa.Column("rule_code", sa.String(length=64), nullable=False),
        sa.Column("tier", sa.String(length=16), nullable=False),
        sa.Column("decision_date", sa.Date(), nullable=False),
        sa.Column("repairable_from", sa.Date(), nullable=False),
        sa.Column("published_until", sa.Date(), nullable=False),
        sa.Column("correction", sa.Text(), nullable=False),
        sa.Column("commitment_id", sa.String(length=32), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("open_key", sa.String(length=600), nullable=True),
        sa.Column("filed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("filed_by", sa.String(length=64), nullable=False),
        sa.Column("review_due_date", sa.Date(), nullable=False),
        sa.Column("reviewed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reviewer_kind", sa.String(length=16), nullable=True),
        sa.Column("reviewer_code", sa.String(length=64), nullable=True),
        sa.Column("review_note", sa.String(length=1000), nullable=True),
        sa.Column("repaired_version", sa.Integer(), nullable=True),
        sa.Column("escalated_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_repair_application")),
    )
    with op.batch_alter_table("repair_application", schema=None) as batch_op:
        batch_op.create_index(
            "ix_repair_application_record",
            ["uscc", "item_code", "record_key", "status"],
            unique=False,
        )
        batch_op.create_index("ix_repair_application_status", ["status", "filed_at"], unique=False)
        batch_op.create_index("ix_repair_application_subject", ["uscc", "filed_at"], unique=False)
        batch_op.create_index("uq_repair_application_open_key", ["open_key"], unique=True)

    op.create_table(
        "rights_attachment",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("owner_kind", sa.String(length=16), nullable=False),
        sa.Column("owner_id", sa.String(length=600), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("media_type", sa.String(length=100), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=64), nullable=False),
        sa.Column("content", sa.LargeBinary(), nullable=False),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rights_attachment")),
    )
    with op.batch_alter_table("rights_attachment", schema=None) as batch_op:
        batch_op.create_index(
            "ix_rights_attachment_owner", ["owner_kind", "owner_id"], unique=False
        )

    op.create_table(
        "rights_event",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("case_kind", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("status_from", sa.String(length=16), nullable=True),
        sa.Column("status_to", sa.String(length=16), nullable=False),
        sa.Column("actor_kind", sa.String(length=16), nullable=False),
        sa.Column("actor_code", sa.String(length=64), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_rights_event")),
    )
    with op.batch_alter_table("rights_event", schema=None) as batch_op:
        batch_op.create_index("ix_rights_event_case", ["case_kind", "case_id", "seq"], unique=False)

    op.create_table(
        "subject_notice",
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("case_kind", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=32), nullable=False),
        sa.Column("action", sa.String(length=32), nullable=False),
        sa.Column("note", sa.String(length=2000), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("read_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("seq", name=op.f("pk_subject_notice")),
    )
    with op.batch_alter_table("subject_notice", schema=None) as batch_op:
        batch_op.create_index("ix_subject_notice_uscc", ["uscc", "created_at"], unique=False)

    with op.batch_alter_table("rating_run", schema=None) as batch_op:
        batch_op.add_column(
            sa.Column("scope", sa.String(length=16), server_default="full", nullable=False)
        )


def downgrade() -> None:
    with op.batch_alter_table("rating_run", schema=None) as batch_op:
        batch_op.drop_column("scope")

    with op.batch_alter_table("subject_notice", schema=None) as batch_op:
        batch_op.drop_index("ix_subject_notice_uscc")

    op.drop_table("subject_notice")
    with op.batch_alter_table("rights_event", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_event_case")

    op.drop_table("rights_event")
    with op.batch_alter_table("rights_attachment", schema=None) as batch_op:
        batch_op.drop_index("ix_rights_attachment_owner")

    op.drop_table("rights_attachment")
    with op.batch_alter_table("repair_application", schema=None) as batch_op:
        batch_op.drop_index("uq_repair_application_open_key")
        batch_op.drop_index("ix_repair_application_subject")
        batch_op.drop_index("ix_repair_application_status")
        batch_op.drop_index("ix_repair_application_record")

    op.drop_table("repair_application")
    with op.batch_alter_table("objection", schema=None) as batch_op:
        batch_op.drop_index("uq_objection_open_key")
        batch_op.drop_index("ix_objection_subject")
        batch_op.drop_index("ix_objection_status")
        batch_op.drop_index("ix_objection_record")
        batch_op.drop_index("ix_objection_provider")

    op.drop_table("objection")
    with op.batch_alter_table("credit_commitment", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_commitment_uscc")

    op.drop_table("credit_commitment")
