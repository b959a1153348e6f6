"""batches: partial indexes per campaign for the statements run at every batch

Three statements run once or twice per batch read every batch of their campaign (a campaign
of 10,000 batches on two worker hosts): ``publish_next`` (every claim) found its campaign's
due pending batches through ``batches_due`` (due_at of every campaign) and counted its queued
ones over all its batches; the settle of ``finish_if_settled`` (every batch change, under the
campaign's advisory lock) walked ``batches_campaign_seq`` past the finished batches to the
first active one; the sweep ranked every pending batch. Quadratic in a campaign's batches:
13 ms a claim at 10,000 batches against 1.2 ms at 1,000.

- ``batches_pending`` (campaign_id, due_at, id) WHERE pending replaces ``batches_due``: a
  campaign's next due batches in order, for ``publish_next`` and the sweep (which now asks
  each running campaign for its own window).
- ``batches_queued`` (campaign_id, published_at) WHERE pending: the campaign's queued
  batches counted by a range, as many rows as the window.
- ``batches_live`` (campaign_id, state) WHERE the state is not final (done, failed,
  cancelled): the settle's checks (anything active? anything stuck?) each find their first
  row in a range, and a cancel finds the campaign's pending and held batches.

Revision ID: 0022
Revises: 0021
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None

_PENDING = sa.text("state = 'pending'")
_LIVE = sa.text("state IN ('pending', 'claimed', 'sending', 'submitted', 'held', 'unknown')")


def upgrade() -> None:
    op.drop_index("batches_due", table_name="batches")
    op.create_index(
        "batches_pending", "batches", ["campaign_id", "due_at", "id"], postgresql_where=_PENDING
    )
    op.create_index(
        "batches_queued", "batches", ["campaign_id", "published_at"], postgresql_where=_PENDING
    )
    op.create_index("batches_live", "batches", ["campaign_id", "state"], postgresql_where=_LIVE)


def downgrade() -> None:
    op.drop_index("batches_live", table_name="batches")
    op.drop_index("batches_queued", table_name="batches")
    op.drop_index("batches_pending", table_name="batches")
    op.create_index("batches_due", "batches", ["due_at"], postgresql_where=_PENDING)
