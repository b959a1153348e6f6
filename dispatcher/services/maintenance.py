"""The periodic jobs run from Celery beat.

sweep: start campaigns whose time has come, re-publish pending batches that are due and have
no live message (Redis may have lost it, or a retry's due time has come), and publish due
polls. Because every task re-checks PostgreSQL, publishing twice is harmless, and wiping
Redis at any moment loses nothing.

reap: a claim whose lease ended goes back to pending (nothing was sent from a claim); a send
whose lease ended becomes unknown (the request may have left) and is never re-sent on its own.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import timedelta

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.persistence import campaigns, maintenance, recipients
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

PUBLISH_PAGE = 2000


@dataclass(frozen=True)
class SweepReport:
    campaigns_started: int
    batches_published: int
    polls_published: int


def sweep(deps: Deps) -> SweepReport:
    timings = deps.settings.timings
    with deps.db.transaction() as conn:
        due = campaigns.due_campaigns(conn, deps.clock())
    for campaign_id in due:
        deps.publisher.plan(campaign_id)
    with deps.db.transaction() as conn:
        batch_ids = maintenance.batches_to_publish(
            conn, deps.clock(), timedelta(seconds=timings.republish_after_seconds), PUBLISH_PAGE
        )
    deps.publisher.submit(batch_ids)
    with deps.db.transaction() as conn:
        poll_ids = maintenance.polls_to_publish(
            conn, deps.clock(), timedelta(seconds=timings.poll_lease_seconds), PUBLISH_PAGE
        )
    deps.publisher.poll(poll_ids)
    if batch_ids:
        log.info("sweep re-published %s batch(es)", len(batch_ids))
    return SweepReport(len(due), len(batch_ids), len(poll_ids))


@dataclass(frozen=True)
class ReapReport:
    released: list[int]
    unknown: list[int]


def reap(deps: Deps) -> ReapReport:
    with deps.db.transaction() as conn:
        released = maintenance.release_expired_claims(conn)
        reaped = maintenance.expire_sends(conn)
        for r in reaped:
            recipients.set_batch_status(
                conn,
                r.campaign_id,
                r.seq,
                RecipientStatus.UNKNOWN,
                from_statuses=(RecipientStatus.QUEUED,),
                code=None,
                description="worker lost while sending",
                source="reaper",
            )
        for campaign_id in {r.campaign_id for r in reaped}:
            campaigns.finish_if_settled(conn, campaign_id)
    if reaped:
        log.warning(
            "reaper: batch(es) %s were being sent when their worker was lost: now unknown",
            [r.batch_id for r in reaped],
        )
    if released:
        log.info("reaper: released expired claim(s) on batch(es) %s", released)
    return ReapReport(released, [r.batch_id for r in reaped])
