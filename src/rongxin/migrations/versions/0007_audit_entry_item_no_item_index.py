"""audit_entry_item: no (item_code, seq) index

Providers' filters on the access log ask, entry by entry from the newest, whether an entry
touched one of their items: the primary key (seq, item_code) answers that, and the query plans
of both engines use it. The second index was never read, yet every logged report wrote one row
into it per item — about 27 B-tree leaves, one per item code, rewritten by every batch of the
group-commit writer (about half of the pages each SQLite commit wrote; docs/benchmarks.md).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 01:30:00.000000
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("audit_entry_item", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_entry_item_item_seq")


def downgrade() -> None:
    with op.batch_alter_table("audit_entry_item", schema=None) as batch_op:
        batch_op.create_index("ix_audit_entry_item_item_seq", ["item_code", "seq"], unique=False)
