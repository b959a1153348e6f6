"""provider_limits: the request-rate limit each account's provider last gave

Learnt limits lived only in Redis for an hour; when the provider could not be asked, the
documented default was used, which is above what some Envoyer SMS Pro accounts have.

Revision ID: 0014
Revises: 0013
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "provider_limits",
        sa.Column("account", sa.Text, primary_key=True),
        sa.Column("rate", sa.Text, nullable=False),
        sa.Column("learnt_at", sa.DateTime(timezone=True), nullable=False),
    )


def downgrade() -> None:
    op.drop_table("provider_limits")
