"""entity_rating: the uscc index carries run, grade and score

Every credit report shows the subject's latest rating (report schema 1.3). The uscc index
alone left each report a second random page read, the table row, for the grade and score; the
index on (uscc, run_id, grade, score) answers the lookup by itself (a covering index on both
engines), and still serves a portrait's history by uscc.

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 10:40:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("entity_rating", schema=None) as batch_op:
        batch_op.create_index(
            "ix_entity_rating_uscc_run", ["uscc", "run_id", "grade", "score"], unique=False
        )
        batch_op.drop_index("ix_entity_rating_uscc")


def downgrade() -> None:
    with op.batch_alter_table("entity_rating", schema=None) as batch_op:
        batch_op.create_index("ix_entity_rating_uscc", ["uscc"], unique=False)
        batch_op.drop_index("ix_entity_rating_uscc_run")
