"""delivery_events: every report that changed a recipient, with its raw code

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "delivery_events",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("recipient_id", sa.BigInteger, nullable=False),
        sa.Column("campaign_id", sa.BigInteger, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("raw_code", sa.Text),
        sa.Column("raw_text", sa.Text),
        sa.Column("source", sa.Text, nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True)),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index("delivery_events_recipient", "delivery_events", ["recipient_id"])
    op.create_index("delivery_events_campaign", "delivery_events", ["campaign_id"])


def downgrade() -> None:
    op.drop_table("delivery_events")
