"""The tables, as SQLAlchemy Core metadata. Migrations in ``schemas/migrations`` create them;
``tests/integration/test_schema.py`` checks the two agree.

PostgreSQL is the source of truth: a campaign's recipients live here (one row each, written
with COPY), batches carry their attempts, lease and due times, and every report that changed a
recipient is kept as a delivery event.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Identity,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    false,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import JSONB

metadata = MetaData()

NOW = func.now()

campaigns = Table(
    "campaigns",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("idempotency_key", Text, unique=True),
    Column("fingerprint", Text, nullable=False),
    Column("account", Text, nullable=False),
    Column("provider", Text, nullable=False),
    Column("kind", Text, nullable=False),
    Column("text", Text, nullable=False),
    Column("sender", Text),
    Column("encoding", Text, nullable=False),
    Column("segments", SmallInteger, nullable=False),
    Column("method", Text, nullable=False),
    Column("batch_size", Integer, nullable=False),
    Column("options", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("state", Text, nullable=False),
    Column("send_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("recipients", Integer, nullable=False, server_default=text("0")),
    Column("dropped", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("started_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    # The name of the API key whose request created it; NULL from the CLI or Python (0018).
    Column("created_by", Text),
    # The SHA-256 of the producer's rows (domain/recipient_digest.py), which a repeated
    # idempotency key's list must match; NULL for campaigns stored before 0020.
    Column("recipients_digest", Text),
    # Set when the campaign's recipients and events were exported and their partitions
    # dropped (0021, services/retention.py); the row itself stays, with its counters.
    Column("archived_at", DateTime(timezone=True)),
    Column("archive_path", Text),
    Column("archived_counts", JSONB),  # recipients per status when archived
    CheckConstraint(
        # needs_attention: migration 0015
        "state in ('scheduled','running','paused','needs_attention','done','cancelled')",
        name="campaign_state",
    ),
)
Index("campaigns_due", campaigns.c.send_at, postgresql_where=text("state = 'scheduled'"))

batches = Table(
    "batches",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("campaign_id", BigInteger, ForeignKey("campaigns.id"), nullable=False),
    Column("seq", Integer, nullable=False),
    Column("size", Integer, nullable=False),
    Column("state", Text, nullable=False),
    Column("attempts", SmallInteger, nullable=False, server_default=text("0")),
    # Transient answers (nothing sent): the send backoff's counter, not attempts (0013).
    Column("retries", Integer, nullable=False, server_default=text("0")),
    Column("due_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("published_at", DateTime(timezone=True)),
    Column("worker", Text),
    Column("lease_until", DateTime(timezone=True)),
    Column("provider_ref", Text),
    Column("last_outcome", Text),
    Column("last_code", Text),
    Column("last_message", Text),
    Column("submitted_at", DateTime(timezone=True)),
    Column("finished_at", DateTime(timezone=True)),
    Column("next_poll_at", DateTime(timezone=True)),
    Column("poll_interval", Integer),  # seconds
    Column("polls", Integer, nullable=False, server_default=text("0")),
    Column("poll_until", DateTime(timezone=True)),
    Column("poll_failures", Integer, nullable=False, server_default=text("0")),  # in a row (0013)
    # Reconciliation of unknown outcomes (0016): see dispatcher/services/reconcile.py.
    Column("sending_at", DateTime(timezone=True)),
    Column("reconcile_state", Text),
    Column("reconcile_after", DateTime(timezone=True)),
    Column("reconcile_tries", SmallInteger, nullable=False, server_default=text("0")),
    Column("evidence", JSONB, nullable=False, server_default=text("'[]'::jsonb")),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    UniqueConstraint("campaign_id", "seq", name="batches_campaign_seq"),
    CheckConstraint(
        "state in ('pending','claimed','sending','submitted','done','failed','unknown','held',"
        "'cancelled')",
        name="batch_state",
    ),
    CheckConstraint(
        "reconcile_state in ('pending','placed','unplaced','unsupported')",
        name="batch_reconcile_state",
    ),
)
# Per campaign, for the statements run at every batch (0022): its next due batches, its queued
# ones, and its batches in a state that is not final (what settling it asks).
Index(
    "batches_pending",
    batches.c.campaign_id,
    batches.c.due_at,
    batches.c.id,
    postgresql_where=text("state = 'pending'"),
)
Index(
    "batches_queued",
    batches.c.campaign_id,
    batches.c.published_at,
    postgresql_where=text("state = 'pending'"),
)
Index(
    "batches_live",
    batches.c.campaign_id,
    batches.c.state,
    postgresql_where=text(
        "state IN ('pending', 'claimed', 'sending', 'submitted', 'held', 'unknown')"
    ),
)
Index(
    "batches_leased", batches.c.lease_until, postgresql_where=text("state in ('claimed','sending')")
)
Index("batches_poll_due", batches.c.next_poll_at, postgresql_where=text("next_poll_at is not null"))
Index("batches_provider_ref", batches.c.provider_ref)
Index(
    "batches_reconcile_due",
    batches.c.reconcile_after,
    postgresql_where=text("reconcile_state = 'pending'"),
)

# A partition per campaign (0021, persistence/partitions.py): every statement of a campaign
# names its campaign_id and touches only its own rows, whatever the history; a finished
# campaign is archived by dropping its partitions. Partitions carry fillfactor 70 (room for
# HOT status updates, 0008): a partitioned parent has no storage of its own.
recipients = Table(
    "recipients",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    # No foreign key: checked row by row it cost more than the COPY (migration 0009).
    Column("campaign_id", BigInteger, primary_key=True),
    Column("batch_seq", Integer, nullable=False),
    Column("row_no", Integer, nullable=False),  # 1-based position in the producer's input
    Column("msisdn", Text, nullable=False),
    Column("fields", JSONB),
    Column("text", Text),  # a personalised campaign's text for this recipient (0012)
    Column("status", Text, nullable=False, server_default=text("'queued'")),
    Column("provider_code", Text),
    Column("provider_text", Text),
    Column("provider_message_id", Text),
    Column("status_at", DateTime(timezone=True)),
    Column("updated_at", DateTime(timezone=True)),
    # One row per number and campaign: enqueue's de-duplication ensures it (migration 0007
    # says why there is no unique index).
    CheckConstraint(
        "status in ('queued','unknown','submitted','delivered','failed','expired','cancelled')",
        name="recipient_status",
    ),
    postgresql_partition_by="LIST (campaign_id)",
)
Index("recipients_batch", recipients.c.campaign_id, recipients.c.batch_seq)
Index(
    "recipients_provider_message_id",
    recipients.c.provider_message_id,
    postgresql_where=text("provider_message_id IS NOT NULL"),
)

delivery_events = Table(
    "delivery_events",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("recipient_id", BigInteger, nullable=False),
    Column("campaign_id", BigInteger, primary_key=True),
    Column("status", Text, nullable=False),
    Column("raw_code", Text),
    Column("raw_text", Text),
    # submit, poll, callback, reaper, operator, horizon, gone, deadline
    Column("source", Text, nullable=False),
    Column("occurred_at", DateTime(timezone=True)),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    postgresql_partition_by="LIST (campaign_id)",
)
Index("delivery_events_recipient", delivery_events.c.recipient_id)

inbound_messages = Table(
    "inbound_messages",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("account", Text, nullable=False),
    Column("from_msisdn", Text, nullable=False),
    Column("to_number", Text),
    Column("text", Text, nullable=False),
    Column("received_at", DateTime(timezone=True)),
    Column("provider_ref", Text),
    Column("client_ref", Text),
    Column("message_id", Text),  # the provider's id of this SMS: the same one twice is kept once
    Column("opt_out", Boolean, nullable=False, server_default=false()),
    Column("recorded_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    UniqueConstraint("account", "message_id", name="inbound_messages_account_message_id"),
)

# Reports pushed by providers, recorded before the HTTP service answers (migration 0010).
callback_inbox = Table(
    "callback_inbox",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("account", Text, nullable=False),
    Column("params", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)

callback_cursor = Table(
    "callback_cursor",
    metadata,
    Column("id", SmallInteger, primary_key=True),
    Column("last_id", BigInteger, nullable=False),
    CheckConstraint("id = 1", name="callback_cursor_single_row"),
)

opt_outs = Table(
    "opt_outs",
    metadata,
    Column("msisdn", Text, primary_key=True),
    Column("source", Text, nullable=False),  # import, stop-reply, provider, operator
    Column("reason", Text),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)

# The request-rate limit each account's provider last gave (migration 0014).
provider_limits = Table(
    "provider_limits",
    metadata,
    Column("account", Text, primary_key=True),
    Column("rate", Text, nullable=False),  # "3 per 60 minutes"
    Column("learnt_at", DateTime(timezone=True), nullable=False),
)

# Pushed reports naming a message id no recipient has, kept for reconciliation (0017):
# services/reconcile_pushed.py.
unmatched_reports = Table(
    "unmatched_reports",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("account", Text, nullable=False),
    Column("message_id", Text, nullable=False),
    Column("destination", Text, nullable=False),
    Column("status", Text, nullable=False),
    Column("raw_code", Text, nullable=False),
    Column("raw_text", Text, nullable=False, server_default=text("''")),
    Column("occurred_at", DateTime(timezone=True)),
    Column("submitted_at", DateTime(timezone=True)),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=NOW),
)
Index(
    "unmatched_reports_destination",
    unmatched_reports.c.account,
    unmatched_reports.c.destination,
    unmatched_reports.c.submitted_at,
)
Index("unmatched_reports_received", unmatched_reports.c.received_at)

# Producers' API keys, by name; only the SHA-256 digest of each key is kept (0018).
api_keys = Table(
    "api_keys",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("name", Text, nullable=False, unique=True),
    Column("key_hash", LargeBinary, nullable=False, unique=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("revoked_at", DateTime(timezone=True)),
    CheckConstraint("octet_length(key_hash) = 32", name="api_key_hash_length"),
)


# Who paused, resumed, cancelled, resolved, re-sent or archived what (0023): one row per change,
# written in the change's own transaction (persistence/audit.py).
audit_log = Table(
    "audit_log",
    metadata,
    Column("id", BigInteger, Identity(), primary_key=True),
    Column("at", DateTime(timezone=True), nullable=False, server_default=NOW),
    Column("actor", Text, nullable=False),  # key:<api key name> or os:<user>
    Column("action", Text, nullable=False),
    Column("campaign_id", BigInteger, nullable=False),
    Column("batch_id", BigInteger),
    Column("detail", JSONB, nullable=False, server_default=text("'{}'::jsonb")),
    CheckConstraint(
        "action in ('paused','resumed','cancelled','resolved_sent','resolved_failed','resent',"
        "'archived')",
        name="audit_action",
    ),
)
Index("audit_log_campaign", audit_log.c.campaign_id, audit_log.c.at)
Index("audit_log_batch", audit_log.c.batch_id, postgresql_where=text("batch_id IS NOT NULL"))
