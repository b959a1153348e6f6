"""Set-wise queries of the periodic jobs: what to publish, what to poll, what to reap, what a
wiped Redis lost, and which batches the campaign's send deadline fails.

Each picks its rows with ``FOR UPDATE SKIP LOCKED`` over a partial index and stamps them in
the same statement, so two beat ticks or two workers never pick the same row twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import Connection, text

from dispatcher.persistence.batches import QUEUED, WAITING_FOR_BREAKER, WAITING_FOR_PROVIDER
from dispatcher.persistence.reconcile import INTO_UNKNOWN


def batches_to_publish(
    conn: Connection, now: datetime, republish_after: timedelta, window: int, limit: int
) -> list[int]:
    """Pending batches due at ``now`` (the service's clock) with no recent broker message, at
    most as many per running campaign as bring its queued batches up to ``window``
    (``batches.QUEUED``): claims publish each campaign's next batch (``batches.publish_next``),
    and this fills the windows that a lost message, a retry come due or a resumed campaign
    left open. Rows another transaction holds are skipped; the next sweep sees them.

    Each running campaign is asked for its own window (LATERAL, through batches_pending and
    batches_queued, migration 0022), so a sweep reads about a window per running campaign,
    not every pending batch; rows are then taken by primary key, as in ``publish_next``."""
    rows = conn.execute(
        text(
            f"""
            WITH open AS (
                SELECT n.id FROM campaigns c CROSS JOIN LATERAL (
                    SELECT b.id FROM batches b
                    WHERE b.campaign_id = c.id AND b.state = 'pending' AND b.due_at <= :now
                      AND (b.published_at IS NULL OR b.published_at < :now - :after)
                    ORDER BY b.due_at, b.id
                    LIMIT greatest(0, :window - (
                        SELECT count(*) FROM batches q
                        WHERE q.campaign_id = c.id AND {QUEUED}))) n
                WHERE c.state = 'running')
            UPDATE batches SET published_at = now()
            WHERE id = ANY(ARRAY(
                SELECT id FROM batches
                WHERE id = ANY(ARRAY(SELECT id FROM open))
                  AND state = 'pending'
                  AND (published_at IS NULL OR published_at < :now - :after)
                ORDER BY due_at LIMIT :limit FOR UPDATE SKIP LOCKED))
            RETURNING id
            """  # noqa: S608 (a constant of batches.py)
        ),
        {"after": republish_after, "window": window, "limit": limit, "now": now},
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


def forget_publications(conn: Connection, now: datetime, poll_lease: timedelta) -> tuple[int, int]:
    """Redis lost its messages: every wake-up it held is treated as never published.

    Pending batches lose ``published_at``, so the same sweep publishes those that are due.
    Polls due within a lease of ``now`` (the service's clock) are made due now: those are the
    polls whose message ``polls_to_publish`` stamped a lease ahead and Redis then dropped, and
    a poll that was merely due soon is read a few seconds early, which changes nothing.
    Batches claimed or being sent are left alone: their worker holds them, and one possibly
    sent is never sent again on its own. Returns (batches, polls) touched."""
    forgotten = conn.execute(
        text(
            "UPDATE batches SET published_at = NULL "
            "WHERE state = 'pending' AND published_at IS NOT NULL"
        )
    ).rowcount
    polls = conn.execute(
        text(
            "UPDATE batches SET next_poll_at = :now "
            "WHERE next_poll_at > :now AND next_poll_at <= :now + :lease"
        ),
        {"now": now, "lease": poll_lease},
    ).rowcount
    return forgotten, polls


def release_expired_claims(conn: Connection) -> list[int]:
    """claimed past its lease -> pending: nothing was sent from a claim. Stamped published
    because the caller publishes them at once (a dead worker's claim is back in work one reap
    after its lease, not one sweep later)."""
    rows = conn.execute(
        text(
            "UPDATE batches SET state = 'pending', worker = NULL, lease_until = NULL, "
            "published_at = now(), updated_at = now() "
            "WHERE state = 'claimed' AND lease_until < now() RETURNING id"
        )
    )
    return sorted(r.id for r in rows)


@dataclass(frozen=True)
class Reaped:
    batch_id: int
    campaign_id: int
    seq: int


@dataclass(frozen=True)
class LapsedSend:
    batch_id: int
    attempt: int
    worker: str | None  # who marked it sending: an answer kept as evidence must be theirs


def lapsed_sends(conn: Connection) -> list[LapsedSend]:
    """Batches still ``sending`` past their lease: before ``expire_sends`` guesses "unknown",
    the reaper looks for their sender's answer kept as evidence (services/evidence.py)."""
    rows = conn.execute(
        text(
            "SELECT id, attempts, worker FROM batches "
            "WHERE state = 'sending' AND lease_until < now() ORDER BY id"
        )
    )
    return [LapsedSend(r.id, r.attempts, r.worker) for r in rows]


def expire_sends(conn: Connection) -> list[Reaped]:
    """sending past its lease -> unknown: the request may have left, so never re-sent."""
    rows = conn.execute(
        text(
            "UPDATE batches SET state = 'unknown', worker = NULL, lease_until = NULL, "  # noqa: S608
            "last_outcome = 'unknown', last_message = :reason, "
            f"{INTO_UNKNOWN}, updated_at = now() "  # reconciliation starts (reconcile.py)
            "WHERE state = 'sending' AND lease_until < now() RETURNING id, campaign_id, seq"
        ),
        {"reason": "worker lost while sending"},
    )
    return [Reaped(r.id, r.campaign_id, r.seq) for r in rows]


@dataclass(frozen=True)
class Overdue:
    batch_id: int
    campaign_id: int
    seq: int
    code: str | None  # the provider's last answer, which the recipients keep
    message: str


# Waits the send deadline ends: on a provider that answered "not now", or that its account's
# circuit breaker paces. A send window or a request-rate limit is a wait by design.
_DEADLINE_WAITS = [WAITING_FOR_PROVIDER, WAITING_FOR_BREAKER]


def fail_overdue(conn: Connection, now: datetime, deadline: timedelta) -> list[Overdue]:
    """Pending batches still waiting on their provider ``deadline`` after their running
    campaign started -> failed, with the provider's last answer in the message; the caller
    fails their queued recipients with it. ``now`` is the service's clock. A paused campaign's
    batches wait for their operator, not for the provider, and are left alone."""
    rows = conn.execute(
        text(
            """
            UPDATE batches b SET state = 'failed', finished_at = now(), updated_at = now(),
                   worker = NULL, lease_until = NULL, published_at = NULL,
                   last_outcome = 'deadline',
                   last_message = :prefix || coalesce(b.last_message, 'no answer')
            FROM campaigns c
            WHERE b.state = 'pending' AND b.last_outcome = ANY(:waits)
              AND c.id = b.campaign_id AND c.state = 'running'
              AND c.started_at + :deadline < :now
            RETURNING b.id, b.campaign_id, b.seq, b.last_code, b.last_message
            """
        ),
        {
            "prefix": f"not sent by the campaign's send deadline ({_hours(deadline)}): ",
            "waits": _DEADLINE_WAITS,
            "deadline": deadline,
            "now": now,
        },
    )
    return [Overdue(r.id, r.campaign_id, r.seq, r.last_code, r.last_message) for r in rows]


def _hours(span: timedelta) -> str:
    return f"{span.total_seconds() / 3600:g} h"
