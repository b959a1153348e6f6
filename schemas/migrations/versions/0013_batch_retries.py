"""batches.retries and batches.poll_failures: backoff counters that are not attempts

An answer that proves nothing was sent (a transient one) no longer counts as an attempt, so
``attempts`` stays put while the provider is down and cannot drive the backoff: ``retries``
counts those answers instead. ``poll_failures`` counts the failed report polls in a row (reset
by a successful read), so a failed poll backs off like a send instead of growing the report
interval as if it had succeeded. Integers, not smallints: neither is bounded in number, only in
time (a campaign's send deadline, the report horizon), and a short backoff cap in a test stack
would reach 32,767 within a day.

Revision ID: 0013
Revises: 0012
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "batches", sa.Column("retries", sa.Integer, nullable=False, server_default=sa.text("0"))
    )
    op.add_column(
        "batches",
        sa.Column("poll_failures", sa.Integer, nullable=False, server_default=sa.text("0")),
    )


def downgrade() -> None:
    op.drop_column("batches", "poll_failures")
    op.drop_column("batches", "retries")
