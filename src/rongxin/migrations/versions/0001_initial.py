"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:

    op.create_table(
        "api_key",
        sa.Column("key_id", sa.String(length=16), nullable=False),
        sa.Column("principal_kind", sa.String(length=16), nullable=False),
        sa.Column("principal_code", sa.String(length=64), nullable=False),
        sa.Column("label", sa.String(length=200), nullable=False),
        sa.Column("secret_sha256", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_used_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_api_key")),
    )
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_api_key_principal_code"), ["principal_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_api_key_principal_kind"), ["principal_kind"], unique=False
        )

    op.create_table(
        "ingest_batch",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("provider_code", sa.String(length=64), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("source_name", sa.String(length=500), nullable=False),
        sa.Column("checksum", sa.String(length=64), nullable=False),
        sa.Column("file_format", sa.String(length=16), nullable=False),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("duplicate_of", sa.String(length=32), nullable=True),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("row_count", sa.Integer(), nullable=False),
        sa.Column("inserted", sa.Integer(), nullable=False),
        sa.Column("updated", sa.Integer(), nullable=False),
        sa.Column("unchanged", sa.Integer(), nullable=False),
        sa.Column("rejected", sa.Integer(), nullable=False),
        sa.Column("problems", sa.JSON(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_ingest_batch")),
    )
    with op.batch_alter_table("ingest_batch", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_ingest_batch_checksum"), ["checksum"], unique=False)
        batch_op.create_index(batch_op.f("ix_ingest_batch_item_code"), ["item_code"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_ingest_batch_provider_code"), ["provider_code"], unique=False
        )

    op.create_table(
        "market_entity",
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("entity_type", sa.String(length=32), nullable=False),
        sa.Column("region_code", sa.String(length=6), nullable=False),
        sa.Column("industry_code", sa.String(length=4), nullable=False),
        sa.Column("industry_section", sa.String(length=1), nullable=False),
        sa.Column("legal_rep_name", sa.String(length=50), nullable=False),
        sa.Column("registered_capital", sa.Float(), nullable=True),
        sa.Column("establish_date", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("size_class", sa.String(length=8), nullable=True),
        sa.Column("size_rule", sa.String(length=32), nullable=True),
        sa.Column("annual_report_year", sa.Integer(), nullable=True),
        sa.Column("employees", sa.Integer(), nullable=True),
        sa.Column("revenue", sa.Float(), nullable=True),
        sa.Column("total_assets", sa.Float(), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("uscc", name=op.f("pk_market_entity")),
    )
    with op.batch_alter_table("market_entity", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_market_entity_entity_type"), ["entity_type"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_entity_industry_section"), ["industry_section"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_market_entity_name"), ["name"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_market_entity_region_code"), ["region_code"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_market_entity_size_class"), ["size_class"], unique=False
        )

    op.create_table(
        "push_subscription",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("institution_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("region_prefix", sa.String(length=6), nullable=True),
        sa.Column("industry_sections", sa.JSON(), nullable=True),
        sa.Column("categories", sa.JSON(), nullable=True),
        sa.Column("delivery", sa.String(length=16), nullable=False),
        sa.Column("file_format", sa.String(length=8), nullable=True),
        sa.Column("webhook_url", sa.String(length=2000), nullable=True),
        sa.Column("webhook_secret", sa.String(length=128), nullable=True),
        sa.Column("cursor", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("paused_reason", sa.String(length=1000), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_subscription")),
    )
    with op.batch_alter_table("push_subscription", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_push_subscription_institution_code"), ["institution_code"], unique=False
        )
        batch_op.create_index(batch_op.f("ix_push_subscription_status"), ["status"], unique=False)

    op.create_table(
        "report_issue",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("requester_kind", sa.String(length=16), nullable=False),
        sa.Column("requester_code", sa.String(length=64), nullable=True),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("format", sa.String(length=8), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("schema_version", sa.String(length=8), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_report_issue")),
    )
    with op.batch_alter_table("report_issue", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_report_issue_issued_at"), ["issued_at"], unique=False)
        batch_op.create_index("ix_report_issue_uscc_issued", ["uscc", "issued_at"], unique=False)

    op.create_table(
        "batch_quality",
        sa.Column("batch_id", sa.String(length=32), nullable=False),
        sa.Column("rows", sa.Integer(), nullable=False),
        sa.Column("completeness", sa.Float(), nullable=False),
        sa.Column("validity", sa.Float(), nullable=False),
        sa.Column("timeliness_median_days", sa.Float(), nullable=True),
        sa.Column("timeliness_p90_days", sa.Float(), nullable=True),
        sa.Column("duplicate_rate", sa.Float(), nullable=False),
        sa.Column("unchanged_rate", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.id"],
            name=op.f("fk_batch_quality_batch_id_ingest_batch"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("batch_id", name=op.f("pk_batch_quality")),
    )
    op.create_table(
        "credit_record",
        sa.Column(
            "change_seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("record_key", sa.String(length=512), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("is_current", sa.Boolean(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("content_hash", sa.String(length=64), nullable=False),
        sa.Column("event_date", sa.Date(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("provider_code", sa.String(length=64), nullable=False),
        sa.Column("batch_id", sa.String(length=32), nullable=True),
        sa.Column("provider_record_id", sa.String(length=128), nullable=True),
        sa.Column("origin_node", sa.String(length=64), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["batch_id"],
            ["ingest_batch.id"],
            name=op.f("fk_credit_record_batch_id_ingest_batch"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("change_seq", name=op.f("pk_credit_record")),
        sa.UniqueConstraint("item_code", "record_key", "version", name="item_key_version"),
    )
    with op.batch_alter_table("credit_record", schema=None) as batch_op:
        batch_op.create_index("ix_credit_record_subject", ["uscc", "item_code"], unique=False)

    op.create_table(
        "entity_name_gram",
        sa.Column("gram", sa.String(length=2), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.ForeignKeyConstraint(
            ["uscc"],
            ["market_entity.uscc"],
            name=op.f("fk_entity_name_gram_uscc_market_entity"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("gram", "uscc", name=op.f("pk_entity_name_gram")),
    )
    op.create_table(
        "push_delivery",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("subscription_id", sa.String(length=32), nullable=False),
        sa.Column("from_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("to_seq", sa.BigInteger().with_variant(sa.Integer(), "sqlite"), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_error", sa.String(length=1000), nullable=True),
        sa.Column("file_path", sa.String(length=500), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["push_subscription.id"],
            name=op.f("fk_push_delivery_subscription_id_push_subscription"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_push_delivery")),
    )
    with op.batch_alter_table("push_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ix_push_delivery_subscription_status", ["subscription_id", "status"], unique=False
        )

    op.create_table(
        "report_issue_source",
        sa.Column("report_id", sa.String(length=32), nullable=False),
        sa.Column("item_code", sa.String(length=64), nullable=False),
        sa.Column("provider_code", sa.String(length=64), nullable=False),
        sa.Column("record_count", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["report_id"],
            ["report_issue.id"],
            name=op.f("fk_report_issue_source_report_id_report_issue"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("report_id", "item_code", name=op.f("pk_report_issue_source")),
    )
    with op.batch_alter_table("report_issue_source", schema=None) as batch_op:
        batch_op.create_index(
            "ix_report_issue_source_provider", ["provider_code", "item_code"], unique=False
        )


def downgrade() -> None:

    with op.batch_alter_table("report_issue_source", schema=None) as batch_op:
        batch_op.drop_index("ix_report_issue_source_provider")

    op.drop_table("report_issue_source")
    with op.batch_alter_table("push_delivery", schema=None) as batch_op:
        batch_op.drop_index("ix_push_delivery_subscription_status")

    op.drop_table("push_delivery")
    op.drop_table("entity_name_gram")
    with op.batch_alter_table("credit_record", schema=None) as batch_op:
        batch_op.drop_index("ix_credit_record_subject")

    op.drop_table("credit_record")
    op.drop_table("batch_quality")
    with op.batch_alter_table("report_issue", schema=None) as batch_op:
        batch_op.drop_index("ix_report_issue_uscc_issued")
        batch_op.drop_index(batch_op.f("ix_report_issue_issued_at"))

    op.drop_table("report_issue")
    with op.batch_alter_table("push_subscription", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_push_subscription_status"))
        batch_op.drop_index(batch_op.f("ix_push_subscription_institution_code"))

    op.drop_table("push_subscription")
    with op.batch_alter_table("market_entity", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_market_entity_size_class"))
        batch_op.drop_index(batch_op.f("ix_market_entity_region_code"))
        batch_op.drop_index(batch_op.f("ix_market_entity_name"))
        batch_op.drop_index(batch_op.f("ix_market_entity_industry_section"))
        batch_op.drop_index(batch_op.f("ix_market_entity_entity_type"))

    op.drop_table("market_entity")
    with op.batch_alter_table("ingest_batch", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_ingest_batch_provider_code"))
        batch_op.drop_index(batch_op.f("ix_ingest_batch_item_code"))
        batch_op.drop_index(batch_op.f("ix_ingest_batch_checksum"))

    op.drop_table("ingest_batch")
    with op.batch_alter_table("api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_api_key_principal_kind"))
        batch_op.drop_index(batch_op.f("ix_api_key_principal_code"))

    op.drop_table("api_key")
