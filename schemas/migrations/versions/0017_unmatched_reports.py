"""unmatched_reports: pushed delivery reports no recipient was known for, kept for a while

The bulk gateway's 1715 ("Response timeout", "do NOT re-submit") and a send whose answer was
lost leave recipients ``unknown`` without the gateway's message id, so their pushed delivery
reports (``dlr=1``) name a message id we never stored. Such reports used to be dropped with a
warning. They are kept here instead, so that the reconciler (services/reconcile_pushed.py) can
place an unknown recipient by account, number and submit date when exactly one report fits
(docs/providers.md, "Bulk gateway: pushed reports"). Rows older than
``pushed_report_retention_hours`` are deleted: nothing that old can still be matched.

No index on recipients for it: a partial index naming ``status`` would make every status
update non-HOT (migration 0008). "Is another unknown send to this number on this account?"
goes through the batches that entered reconciliation and ``recipients_batch`` instead
(persistence/unmatched_reports.py), which stays small however long the history grows
(docs/design-rules.md 2.5).

Revision ID: 0017
Revises: 0016
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "unmatched_reports",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("message_id", sa.Text, nullable=False),
        sa.Column("destination", sa.Text, nullable=False),
        sa.Column("status", sa.Text, nullable=False),
        sa.Column("raw_code", sa.Text, nullable=False),
        sa.Column("raw_text", sa.Text, nullable=False, server_default=sa.text("''")),
        sa.Column("occurred_at", sa.DateTime(timezone=True)),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column(
            "received_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
    )
    op.create_index(
        "unmatched_reports_destination",
        "unmatched_reports",
        ["account", "destination", "submitted_at"],
    )
    op.create_index("unmatched_reports_received", "unmatched_reports", ["received_at"])


def downgrade() -> None:
    op.drop_index("unmatched_reports_received", table_name="unmatched_reports")
    op.drop_index("unmatched_reports_destination", table_name="unmatched_reports")
    op.drop_table("unmatched_reports")
