"""campaigns.state: needs_attention

A campaign is ``done`` only when every recipient is final. When nothing can move any more
but a batch is held or unknown, or a recipient is unknown, it is ``needs_attention`` instead
(docs/design-rules.md 1.10), and it goes back to ``running`` when such a batch comes back
to life.

No partial index on ``recipients(campaign_id) WHERE status = 'unknown'``: an index whose
predicate names ``status`` makes every status update non-HOT, which is what migration 0008
arranged for. The check for unknown recipients uses ``recipients_batch`` and runs once a
campaign has no active or stuck batch left (persistence.campaigns.finish_if_settled).

Revision ID: 0015
Revises: 0014
"""

from __future__ import annotations

from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

WITH_ATTENTION = "state in ('scheduled','running','paused','needs_attention','done','cancelled')"
WITHOUT = "state in ('scheduled','running','paused','done','cancelled')"


def upgrade() -> None:
    op.drop_constraint("campaign_state", "campaigns", type_="check")
    op.create_check_constraint("campaign_state", "campaigns", WITH_ATTENTION)


def downgrade() -> None:
    # What the code before this revision made of such a campaign: done.
    op.execute(
        "UPDATE campaigns SET state = 'done', finished_at = coalesce(finished_at, now()) "
        "WHERE state = 'needs_attention'"
    )
    op.drop_constraint("campaign_state", "campaigns", type_="check")
    op.create_check_constraint("campaign_state", "campaigns", WITHOUT)
