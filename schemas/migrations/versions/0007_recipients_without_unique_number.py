"""recipients: drop the unique (campaign, number) index

The enqueue's single INSERT ... SELECT DISTINCT ON is the only writer of a campaign's
recipients and already keeps one row per number; maintaining the index cost 4 to 6 seconds
per million recipients (ops/bench), more than half of the enqueue budget.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_constraint("recipients_campaign_msisdn", "recipients", type_="unique")


def downgrade() -> None:
    op.create_unique_constraint(
        "recipients_campaign_msisdn", "recipients", ["campaign_id", "msisdn"]
    )
