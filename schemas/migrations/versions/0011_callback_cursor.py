"""callback_cursor: how far the workers have applied callback_inbox

Pages are read with a keyset (id > cursor) rather than by skipping locked rows, which slows
badly on the dead index entries that applied-and-deleted rows leave behind.

Revision ID: 0011
Revises: 0010
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_cursor",
        sa.Column("id", sa.SmallInteger, primary_key=True),
        sa.Column("last_id", sa.BigInteger, nullable=False),
        sa.CheckConstraint("id = 1", name="callback_cursor_single_row"),
    )
    op.execute("INSERT INTO callback_cursor (id, last_id) VALUES (1, 0)")


def downgrade() -> None:
    op.drop_table("callback_cursor")
