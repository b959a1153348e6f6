"""audit_log: who paused, resumed, cancelled, resolved, re-sent or archived what, and when

Operators act on campaigns and batches from the CLI and producers through the HTTP service;
until now nothing recorded who did it. Each such change writes one row here in the same
transaction as the change itself, so an entry exists exactly when the change committed.

- ``actor``: ``key:<name>`` for an API key (the HTTP service), ``os:<user>`` for the CLI or
  Python (services/actor.py); never a secret.
- ``action``: paused, resumed, cancelled, resolved_sent, resolved_failed, resent, archived.
- ``detail``: counts and the reason an operator gave.

No foreign key to campaigns: an entry outlives nothing it names (campaign rows are never
deleted, archiving drops only partitions), and a check per insert buys nothing.
``audit_log_campaign`` (campaign_id, at) answers ``status``; ``audit_log_batch`` (batch_id)
where not null answers ``batch show``.

Revision ID: 0023
Revises: 0022
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0023"
down_revision = "0022"
branch_labels = None
depends_on = None

_ACTIONS = (
    "action in ('paused','resumed','cancelled','resolved_sent','resolved_failed','resent',"
    "'archived')"
)


def upgrade() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()),
        sa.Column("actor", sa.Text, nullable=False),
        sa.Column("action", sa.Text, nullable=False),
        sa.Column("campaign_id", sa.BigInteger, nullable=False),
        sa.Column("batch_id", sa.BigInteger),
        sa.Column("detail", JSONB, nullable=False, server_default=sa.text("'{}'::jsonb")),
        sa.CheckConstraint(_ACTIONS, name="audit_action"),
    )
    op.create_index("audit_log_campaign", "audit_log", ["campaign_id", "at"])
    op.create_index(
        "audit_log_batch",
        "audit_log",
        ["batch_id"],
        postgresql_where=sa.text("batch_id IS NOT NULL"),
    )


def downgrade() -> None:
    op.drop_index("audit_log_batch", table_name="audit_log")
    op.drop_index("audit_log_campaign", table_name="audit_log")
    op.drop_table("audit_log")
