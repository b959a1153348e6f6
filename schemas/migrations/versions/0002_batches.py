"""batches: the unit of sending, with attempts, lease, due and poll times

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "batches",
        sa.Column("id", sa.BigInteger, sa.Identity(), primary_key=True),
        sa.Column("campaign_id", sa.BigInteger, sa.ForeignKey("campaigns.id"), nullable=False),
        sa.Column("seq", sa.Integer, nullable=False),
        sa.Column("size", sa.Integer, nullable=False),
        sa.Column("state", sa.Text, nullable=False),
        sa.Column("attempts", sa.SmallInteger, nullable=False, server_default=sa.text("0")),
        sa.Column(
            "due_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column("published_at", sa.DateTime(timezone=True)),
        sa.Column("worker", sa.Text),
        sa.Column("lease_until", sa.DateTime(timezone=True)),
        sa.Column("provider_ref", sa.Text),
        sa.Column("last_outcome", sa.Text),
        sa.Column("last_code", sa.Text),
        sa.Column("last_message", sa.Text),
        sa.Column("submitted_at", sa.DateTime(timezone=True)),
        sa.Column("finished_at", sa.DateTime(timezone=True)),
        sa.Column("next_poll_at", sa.DateTime(timezone=True)),
        sa.Column("poll_interval", sa.Integer),
        sa.Column("polls", sa.Integer, nullable=False, server_default=sa.text("0")),
        sa.Column("poll_until", sa.DateTime(timezone=True)),
        sa.Column(
            "created_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.Column(
            "updated_at", sa.DateTime(timezone=True), nullable=False, server_default=sa.func.now()
        ),
        sa.UniqueConstraint("campaign_id", "seq", name="batches_campaign_seq"),
        sa.CheckConstraint(
            "state in ('pending','claimed','sending','submitted','done','failed','unknown','held',"
            "'cancelled')",
            name="batch_state",
        ),
    )
    op.create_index(
        "batches_due", "batches", ["due_at"], postgresql_where=sa.text("state = 'pending'")
    )
    op.create_index(
        "batches_leased",
        "batches",
        ["lease_until"],
        postgresql_where=sa.text("state in ('claimed','sending')"),
    )
    op.create_index(
        "batches_poll_due",
        "batches",
        ["next_poll_at"],
        postgresql_where=sa.text("next_poll_at is not null"),
    )
    op.create_index("batches_provider_ref", "batches", ["provider_ref"])


def downgrade() -> None:
    op.drop_table("batches")
