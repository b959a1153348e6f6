"""campaigns.recipients_digest: a repeated idempotency key must bring the same list

The fingerprint covered a campaign's parameters but not its recipients, so the same key with
another list returned the first campaign and dropped the new list without a word (issue 11).
The list's SHA-256, computed as its rows are copied in (domain/recipient_digest.py), is kept
beside the fingerprint, apart from it so that a conflict can say which of the two differs.
Campaigns stored before this revision have none: a repeated key on one of them is compared
on its parameters only, as before.

Revision ID: 0020
Revises: 0019
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("campaigns", sa.Column("recipients_digest", sa.Text))


def downgrade() -> None:
    op.drop_column("campaigns", "recipients_digest")
