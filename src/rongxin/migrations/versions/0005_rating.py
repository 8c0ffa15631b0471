"""rating: scorecard registry, rating runs, entity ratings, rating changes

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-27 11:35:41.674620
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rating_run",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("system_code", sa.String(length=64), nullable=False),
        sa.Column("system_version", sa.String(length=32), nullable=False),
        sa.Column("features_version", sa.String(length=32), nullable=False),
        sa.Column("engine", sa.String(length=16), nullable=False),
        sa.Column("as_of", sa.Date(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("completed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("entity_count", sa.Integer(), nullable=False),
        sa.Column("changed_count", sa.Integer(), nullable=False),
        sa.Column("grade_counts", sa.JSON(), nullable=True),
        sa.Column("seconds", sa.Float(), nullable=True),
        sa.Column("previous_run_id", sa.String(length=32), nullable=True),
        sa.Column("triggered_by", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_run")),
    )
    with op.batch_alter_table("rating_run", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_run_started_at"), ["started_at"], unique=False)

    op.create_table(
        "scorecard_model",
        sa.Column("id", sa.String(length=32), nullable=False),
        sa.Column("owner_code", sa.String(length=64), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("version", sa.String(length=32), nullable=False),
        sa.Column("spec", sa.JSON(), nullable=False),
        sa.Column("fingerprint", sa.String(length=64), nullable=True),
        sa.Column("metrics", sa.JSON(), nullable=True),
        sa.Column("reference", sa.JSON(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_by", sa.String(length=64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("approved_by", sa.String(length=64), nullable=True),
        sa.Column("approved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_scorecard_model")),
        sa.UniqueConstraint(
            "owner_code", "name", "version", name=op.f("uq_scorecard_model_owner_code")
        ),
    )
    op.create_table(
        "entity_rating",
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("veto", sa.String(length=64), nullable=True),
        sa.Column("data_sources", sa.Integer(), nullable=False),
        sa.Column("data_depth", sa.String(length=16), nullable=False),
        sa.Column("peer_group", sa.String(length=16), nullable=False),
        sa.Column("percentile", sa.Float(), nullable=False),
        sa.Column("reasons", sa.String(length=400), nullable=False),
        sa.Column("sheet", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["rating_run.id"],
            name=op.f("fk_entity_rating_run_id_rating_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("run_id", "uscc", name=op.f("pk_entity_rating")),
    )
    with op.batch_alter_table("entity_rating", schema=None) as batch_op:
        batch_op.create_index("ix_entity_rating_uscc", ["uscc"], unique=False)

    op.create_table(
        "rating_change",
        sa.Column(
            "id",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=True,
            nullable=False,
        ),
        sa.Column("run_id", sa.String(length=32), nullable=False),
        sa.Column("previous_run_id", sa.String(length=32), nullable=False),
        sa.Column("uscc", sa.String(length=18), nullable=False),
        sa.Column("previous_grade", sa.String(length=8), nullable=False),
        sa.Column("grade", sa.String(length=8), nullable=False),
        sa.Column("previous_score", sa.Float(), nullable=False),
        sa.Column("score", sa.Float(), nullable=False),
        sa.ForeignKeyConstraint(
            ["run_id"],
            ["rating_run.id"],
            name=op.f("fk_rating_change_run_id_rating_run"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rating_change")),
    )
    with op.batch_alter_table("rating_change", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_rating_change_run_id"), ["run_id"], unique=False)
        batch_op.create_index("ix_rating_change_uscc", ["uscc"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("rating_change", schema=None) as batch_op:
        batch_op.drop_index("ix_rating_change_uscc")
        batch_op.drop_index(batch_op.f("ix_rating_change_run_id"))

    op.drop_table("rating_change")
    with op.batch_alter_table("entity_rating", schema=None) as batch_op:
        batch_op.drop_index("ix_entity_rating_uscc")

    op.drop_table("entity_rating")
    op.drop_table("scorecard_model")
    with op.batch_alter_table("rating_run", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_rating_run_started_at"))

    op.drop_table("rating_run")
