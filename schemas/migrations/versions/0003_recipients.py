"""recipients: one row per recipient, unique per campaign and number

Revision ID: 0003
Revises: 0002
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "recipients",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("campaign_id", sa.BigInteger, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("batch_seq", sa.Integer, nullable=False),
        sa.Column("row_no", sa.Integer, nullable=False),
        sa.Column("msisdn", sa.Text, nullable=False),
        sa.Column("fields", JSONB),
        sa.Column("status", sa.Text, nullable=False, server_default=sa.text("'queued'")),
        sa.Column("provider_code", sa.Text),
        sa.Column("provider_text", sa.Text),
        sa.Column("provider_message_id", sa.Text),
        sa.Column("status_at", sa.DateTime(timezone=True)),
        sa.Column("updated_at", sa.DateTime(timezone=True)),
        sa.UniqueConstraint("campaign_id", "msisdn", name="recipients_campaign_msisdn"),
        sa.CheckConstraint(
            "status in ('queued','unknown','submitted','delivered','failed','expired','cancelled')",
            name="recipient_status",
        ),
    )
    op.create_index("recipients_batch", "recipients", ["campaign_id", "batch_seq"])


def downgrade() -> None:
    op.drop_table("recipients")
