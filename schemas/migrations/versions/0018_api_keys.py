"""api_keys, and campaigns.created_by: producers' keys named, stored as digests

Producers used to share the bearer tokens listed in ``DISPATCHER_API_TOKENS``, compared in
clear and with no identity. A key now has a name and only its SHA-256 digest is stored (the
key is shown once, by ``dispatcher api-key create NAME``); a revoked key keeps its row so
that its name is never given to another key. A campaign created through the HTTP service
records the name of the key that created it (NULL from the CLI or Python, and for campaigns
created before this revision).

Revision ID: 0018
Revises: 0017
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "api_keys",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("name", sa.Text, nullable=False, unique=True),
        sa.Column("key_hash", sa.LargeBinary, nullable=False, unique=True),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True)),
        sa.CheckConstraint("octet_length(key_hash) = 32", name="api_key_hash_length"),
    )
    op.add_column("campaigns", sa.Column("created_by", sa.Text))


def downgrade() -> None:
    op.drop_column("campaigns", "created_by")
    op.drop_table("api_keys")
