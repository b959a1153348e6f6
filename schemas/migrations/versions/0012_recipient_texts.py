"""recipients.text: a personalised campaign's text for each recipient

Null for a campaign whose text has no placeholder (every recipient gets the campaign's).

Revision ID: 0012
Revises: 0011
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("recipients", sa.Column("text", sa.Text))


def downgrade() -> None:
    op.drop_column("recipients", "text")
