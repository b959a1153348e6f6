"""Set-wise queries of the periodic jobs: what to publish, what to poll, what to reap.

Each picks its rows with ``FOR UPDATE SKIP LOCKED`` over a partial index and stamps them in
the same statement, so two beat ticks or two workers never pick the same row twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, text


def batches_to_publish(
    conn: Connection, now: datetime, republish_after: timedelta, limit: int
) -> list[int]:
    """Pending batches due at ``now`` (the service's clock) with no recent broker message."""
    rows = conn.execute(
        text(
            """
            UPDATE batches SET published_at = now()
            WHERE id IN (
                SELECT b.id FROM batches b JOIN campaigns c ON c.id = b.campaign_id
                WHERE b.state = 'pending' AND b.due_at <= :now AND c.state = 'running'
                  AND (b.published_at IS NULL OR b.published_at < :now - :after)
                ORDER BY b.due_at LIMIT :limit FOR UPDATE OF b SKIP LOCKED)
            RETURNING id
            """
        ),
        {"after": republish_after, "limit": limit, "now": now},
    )
    return sorted(r.id for r in rows)


def polls_to_publish(conn: Connection, now: datetime, lease: timedelta, limit: int) -> list[int]:
    """Batches whose next poll is due; their next poll time moves a lease ahead meanwhile."""
    rows = conn.execute(
        text(
            """
            UPDATE batches SET next_poll_at = :now + :lease
            WHERE id IN (
                SELECT id FROM batches WHERE next_poll_at <= :now
                ORDER BY next_poll_at LIMIT :limit FOR UPDATE SKIP LOCKED)
            RETURNING id
            """
        ),
        {"lease": lease, "limit": limit, "now": now},
    )
    return sorted(r.id for r in rows)


def release_expired_claims(conn: Connection) -> list[int]:
    """claimed past its lease -> pending: nothing was sent from a claim."""
    rows = conn.execute(
        text(
            "UPDATE batches SET state = 'pending', worker = NULL, lease_until = NULL, "
            "published_at = NULL, updated_at = now() "
            "WHERE state = 'claimed' AND lease_until < now() RETURNING id"
        )
    )
    return [r.id for r in rows]


@dataclass(frozen=True)
class Reaped:
    batch_id: int
    campaign_id: int
    seq: int


def expire_sends(conn: Connection) -> list[Reaped]:
    """sending past its lease -> unknown: the request may have left, so never re-sent."""
    rows = conn.execute(
        text(
            "UPDATE batches SET state = 'unknown', worker = NULL, lease_until = NULL, "
            "last_outcome = 'unknown', last_message = 'worker lost while sending', "
            "updated_at = now() "
            "WHERE state = 'sending' AND lease_until < now() RETURNING id, campaign_id, seq"
        )
    )
    return [Reaped(r.id, r.campaign_id, r.seq) for r in rows]
