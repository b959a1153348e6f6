"""campaigns: one row per enqueued campaign, unique on the caller's idempotency key

Revision ID: 0001
Revises:
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "campaigns",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("idempotency_key", sa.Text, unique=True),
        sa.Column("fingerprint", sa.Text, nullable=False),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("provider", sa.Text, nullable=False),
        sa.Column("kind", sa.Text, nullable=False),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("sender", sa.Text),
        sa.Column("encoding", sa.Text, nullable=False),
        sa.Column("segments", sa.SmallInteger, nullable=False),
        sa.Column("method", sa.Text, nullable=False),
        sa.Column("batch_size", sa.Integer, nullable=False),
        sa.Column("options", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column(
            "send_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("recipients", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("dropped", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("started_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.CheckConstraint(
            "state in ('scheduled','running','paused','done','cancelled')", name="campaign_state"
        ),
    )
    op.create_index(
        "campaigns_due", "campaigns", ["send_at"], postgresql_where=sa.text("state = 'scheduled'")
    )


def downgrade() -> None:
    op.drop_table("campaigns")
