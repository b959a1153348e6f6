"""batches: what reconciliation of an unknown outcome needs

A batch whose send may have reached the provider (``unknown``) is looked for in the provider's
own records before an operator sees it (docs/design-rules.md 1.11). That needs:

- ``sending_at``: when the request started (``mark_sending``), the lower end of the window
  in which the provider may have recorded it;
- ``reconcile_state``: ``pending`` while the reconciler still looks, then ``placed`` (found
  at the provider), ``unplaced`` (proved absent, or given up) or ``unsupported`` (the
  provider's document offers no way to look);
- ``reconcile_after``: when the reconciler looks next; ``reconcile_tries``: reads so far;
- ``evidence``: a JSON array of what was learnt, oldest first (why the batch became unknown,
  each read of the provider's records), shown to the operator who decides on a re-send.

The partial index holds only batches still waiting for a look, so the reconciler's due query
stays small however long the history of settled batches grows.

Revision ID: 0016
Revises: 0015
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects.postgresql import JSONB

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

STATES = "reconcile_state in ('pending','placed','unplaced','unsupported')"


def upgrade() -> None:
    op.add_column("batches", sa.Column("sending_at", sa.DateTime(timezone=True)))
    op.add_column("batches", sa.Column("reconcile_state", sa.Text))
    op.add_column("batches", sa.Column("reconcile_after", sa.DateTime(timezone=True)))
    op.add_column(
        "batches",
        sa.Column("reconcile_tries", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
    )
    op.add_column(
        "batches",
        sa.Column("evidence", JSONB, nullable=False, server_default=sa.text("'[]'::jsonb")),
    )
    op.create_check_constraint("batch_reconcile_state", "batches", STATES)
    op.create_index(
        "batches_reconcile_due",
        "batches",
        ["reconcile_after"],
        postgresql_where=sa.text("reconcile_state = 'pending'"),
    )


def downgrade() -> None:
    op.drop_index("batches_reconcile_due", table_name="batches")
    op.drop_constraint("batch_reconcile_state", "batches", type_="check")
    for column in ("evidence", "reconcile_tries", "reconcile_after", "reconcile_state"):
        op.drop_column("batches", column)
    op.drop_column("batches", "sending_at")
