"""The statements behind the metrics: the state read at each scrape, and the recipients a
report made final (for the report counters and latency).

Each scrape statement is cheap whatever the history: batch counts read the partial index of
live batches (``batches_live``, migration 0022) and of held/unknown ones through it; campaign
progress counts only the recipients of campaigns still moving, each statement naming its
``campaign_id`` so it reads that campaign's partition alone; the overdue scheduled campaign
comes from ``campaigns_due``.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

LIVE_BATCH_STATES = ("pending", "claimed", "sending", "submitted", "held", "unknown")
STUCK_BATCH_STATES = ("held", "unknown")
MOVING_CAMPAIGN_STATES = ("running", "paused", "needs_attention")
# A scrape that takes longer than this is worse than a gap in the graphs.
STATEMENT_TIMEOUT_MS = 3000


@dataclass(frozen=True)
class StateSnapshot:
    campaigns: dict[str, int]
    batches: dict[str, int]
    stuck: dict[tuple[str, str], int]  # (account, state) -> batches
    progress: dict[tuple[int, str], dict[str, int]]  # (campaign_id, account) -> status -> n
    overdue_seconds: float
    inbox_pending: int


def read_state(conn: Connection) -> StateSnapshot:
    """Everything the state collector reports from PostgreSQL, in one read-only transaction."""
    conn.execute(text(f"SET LOCAL statement_timeout = {STATEMENT_TIMEOUT_MS}"))
    conn.execute(text("SET TRANSACTION READ ONLY"))
    campaigns = {
        str(state): int(n)
        for state, n in conn.execute(
            text("SELECT state, count(*) FROM campaigns WHERE archived_at IS NULL GROUP BY state")
        )
    }
    batches = {
        str(state): int(n)
        for state, n in conn.execute(
            text("SELECT state, count(*) FROM batches WHERE state = ANY(:live) GROUP BY state"),
            {"live": list(LIVE_BATCH_STATES)},
        )
    }
    stuck = {
        (str(account), str(state)): int(n)
        for account, state, n in conn.execute(
            text(
                "SELECT c.account, b.state, count(*) FROM batches b "
                "JOIN campaigns c ON c.id = b.campaign_id "
                "WHERE b.state = ANY(:stuck) GROUP BY c.account, b.state"
            ),
            {"stuck": list(STUCK_BATCH_STATES)},
        )
    }
    moving = conn.execute(
        text("SELECT id, account FROM campaigns WHERE state = ANY(:moving) ORDER BY id"),
        {"moving": list(MOVING_CAMPAIGN_STATES)},
    ).all()
    progress = {
        (int(campaign_id), str(account)): campaign_progress(conn, int(campaign_id))
        for campaign_id, account in moving
    }
    overdue = conn.execute(
        text(
            "SELECT coalesce(extract(epoch FROM now() - min(send_at)), 0) FROM campaigns "
            "WHERE state = 'scheduled' AND send_at < now()"
        )
    ).scalar_one()
    inbox_pending = conn.execute(text("SELECT count(*) FROM callback_inbox")).scalar_one()
    return StateSnapshot(
        campaigns, batches, stuck, progress, float(overdue or 0), int(inbox_pending)
    )


def campaign_progress(conn: Connection, campaign_id: int) -> dict[str, int]:
    """Recipients per status of one campaign (its partition only)."""
    rows = conn.execute(
        text("SELECT status, count(*) FROM recipients WHERE campaign_id = :c GROUP BY status"),
        {"c": campaign_id},
    )
    return {str(status): int(n) for status, n in rows}
