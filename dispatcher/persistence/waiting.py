"""Reads behind ``dispatcher status``: what a campaign's unfinished batches wait for, and its
times. Read-only; every statement names its campaign.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text

from dispatcher.domain.models import CampaignTimes
from dispatcher.domain.statuses import BatchState
from dispatcher.domain.waiting import BatchGroup
from dispatcher.errors import NotFoundError

# Unfinished batches only: an index range of batches_live (migration 0022), however many
# finished batches the campaign has. A pending batch is classified by what it was last handed
# back for: "rate limit" is the message of our own limiter's hand-back, which keeps
# ``last_outcome`` (persistence/batches.py::release), so it is read first.
_GROUPS = text(
    """
    SELECT state, waiting_for, deferred, reconciling, count(*) AS batches,
           min(next_at) AS next_at,
           mode() WITHIN GROUP (ORDER BY last_code) AS last_code,
           mode() WITHIN GROUP (ORDER BY last_message) AS last_message
    FROM (
        SELECT state, last_code, last_message,
               CASE WHEN state <> 'pending' THEN NULL
                    WHEN last_message = 'rate limit' THEN 'limiter'
                    ELSE last_outcome END AS waiting_for,
               state = 'pending' AND due_at > :now AS deferred,
               state = 'unknown' AND reconcile_state IS NOT DISTINCT FROM 'pending'
                   AS reconciling,
               CASE state WHEN 'pending' THEN due_at
                          WHEN 'submitted' THEN next_poll_at
                          WHEN 'unknown' THEN reconcile_after END AS next_at
        FROM batches
        WHERE campaign_id = :c
          AND state IN ('pending', 'claimed', 'sending', 'submitted', 'held', 'unknown')
    ) b
    GROUP BY state, waiting_for, deferred, reconciling
    ORDER BY state, waiting_for
    """
)


def batch_groups(conn: Connection, campaign_id: int, now: datetime) -> list[BatchGroup]:
    rows = conn.execute(_GROUPS, {"c": campaign_id, "now": now})
    return [
        BatchGroup(
            state=BatchState(r.state),
            batches=int(r.batches),
            waiting_for=r.waiting_for,
            deferred=bool(r.deferred),
            reconciling=bool(r.reconciling),
            next_at=r.next_at,
            last_code=r.last_code,
            last_message=r.last_message,
        )
        for r in rows
    ]


def campaign_times(conn: Connection, campaign_id: int) -> CampaignTimes:
    row = conn.execute(
        text(
            "SELECT provider, created_at, send_at, started_at, finished_at "
            "FROM campaigns WHERE id = :c"
        ),
        {"c": campaign_id},
    ).first()
    if row is None:
        raise NotFoundError(f"no campaign {campaign_id}")
    return CampaignTimes(
        provider=row.provider,
        created_at=row.created_at,
        send_at=row.send_at,
        started_at=row.started_at,
        finished_at=row.finished_at,
    )
