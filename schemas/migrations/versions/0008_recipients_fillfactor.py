"""recipients: leave room in each page so status updates are HOT

A recipient's row is updated two or three times (submitted, then its reports). With free
space in the page and no indexed column changing, PostgreSQL updates it in place ("HOT"),
without touching any index.

Revision ID: 0008
Revises: 0007
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.execute("ALTER TABLE recipients SET (fillfactor = 70)")


def downgrade() -> None:
    op.execute("ALTER TABLE recipients RESET (fillfactor)")
