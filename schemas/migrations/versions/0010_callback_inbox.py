"""callback_inbox: delivery reports pushed by providers, recorded before they are answered

The HTTP service writes each report here (many per COPY, committed before it answers 200);
a worker applies them in pages and deletes them. A report the service acknowledged is never
lost, even if the service dies the next instant.

Revision ID: 0010
Revises: 0009
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "callback_inbox",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("params", sa.Text, nullable=False),  # the query string (and form body)
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )


def downgrade() -> None:
    op.drop_table("callback_inbox")
