"""inbound_messages, and an index to find a recipient by the provider's per-recipient id

Delivery reports pushed by the bulk gateway name only its message id; SMS sent to us (replies,
STOP requests) are kept once each.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index(
        "recipients_provider_message_id",
        "recipients",
        ["provider_message_id"],
        postgresql_where=sa.text("provider_message_id IS NOT NULL"),
    )
    op.create_table(
        "inbound_messages",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("account", sa.Text, nullable=False),
        sa.Column("from_msisdn", sa.Text, nullable=False),
        sa.Column("to_number", sa.Text),
        sa.Column("text", sa.Text, nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True)),
        sa.Column("provider_ref", sa.Text),
        sa.Column("client_ref", sa.Text),
        sa.Column("message_id", sa.Text),
        sa.Column("opt_out", sa.Boolean, nullable=False, server_default=sa.false()),
        sa.Column(
            "recorded_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("account", "message_id", name="inbound_messages_account_message_id"),
    )


def downgrade() -> None:
    op.drop_table("inbound_messages")
    op.drop_index("recipients_provider_message_id", table_name="recipients")
