"""credit_record: one secondary index (uscc, item_code, record_key, version) instead of two;
no content_hash column

Every natural key includes uscc, so the new index is exactly as unique as the old
(item_code, record_key, version) constraint and also serves the subject lookup that
ix_credit_record_subject served. Unchanged re-deliveries are now recognised by comparing the
canonical payload text itself, so the content_hash column goes (downgrade recomputes it).
On SQLite the upgrade rebuilds the table once.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-27 11:01:47.841698
"""

import hashlib
from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("credit_record", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("item_key_version"), type_="unique")
        batch_op.drop_index(batch_op.f("ix_credit_record_subject"))
        batch_op.create_index(
            "uq_credit_record_subject_key",
            ["uscc", "item_code", "record_key", "version"],
            unique=True,
        )
        batch_op.drop_column("content_hash")


def _restore_content_hashes() -> None:
    """BLAKE2b-128 of each payload's text, as revision 0003's code computed it."""
    conn = op.get_bind()
    text_of = "CAST(payload AS TEXT)" if conn.dialect.name == "postgresql" else "payload"
    query = f"SELECT change_seq, {text_of} FROM credit_record"  # noqa: S608 - constant names
    rows = conn.exec_driver_sql(query).fetchall()
    update = sa.text("UPDATE credit_record SET content_hash = :h WHERE change_seq = :s")
    for start in range(0, len(rows), 10_000):
        conn.execute(
            update,
            [
                {"s": seq, "h": hashlib.blake2b(str(payload).encode(), digest_size=16).hexdigest()}
                for seq, payload in rows[start : start + 10_000]
            ],
        )


def downgrade() -> None:
    with op.batch_alter_table("credit_record", schema=None) as batch_op:
        batch_op.add_column(sa.Column("content_hash", sa.String(length=64), nullable=True))
    _restore_content_hashes()
    with op.batch_alter_table("credit_record", schema=None) as batch_op:
        batch_op.alter_column("content_hash", existing_type=sa.String(length=64), nullable=False)
        batch_op.drop_index("uq_credit_record_subject_key")
        batch_op.create_index(
            batch_op.f("ix_credit_record_subject"), ["uscc", "item_code"], unique=False
        )
        batch_op.create_unique_constraint(
            batch_op.f("item_key_version"), ["item_code", "record_key", "version"]
        )
