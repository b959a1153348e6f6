"""The periodic jobs run from Celery beat.

sweep: start campaigns whose time has come, re-publish pending batches that are due and have
no live message (Redis may have lost it, or a retry's due time has come), up to each running
campaign's window of queued batches (docs/architecture.md, "Fairness"), and publish due
polls. Because every task re-checks PostgreSQL, publishing twice is harmless, and wiping Redis
at any moment loses nothing. A wipe is also noticed, so that it costs one sweep rather
than ``republish_after_seconds``: the sweep keeps a marker key in the broker's Redis, and when
the marker is gone every wake-up Redis held is forgotten and re-published at once.

reap: a claim whose lease ended goes back to pending (nothing was sent from a claim) and is
published at once, so a dead worker's claim is back in work one lease and one reap after it
was taken; a send whose lease ended is first recorded from its sender's answer if that answer
was kept as evidence because the database would not take it (services/evidence.py), and
otherwise becomes unknown (the request may have left) and is never re-sent on its own; a
batch still waiting on its provider once its campaign's send deadline has passed fails, and
its recipients with it, with the provider's last answer: a transient answer is never counted
against a batch, so time is the only bound on the wait, and it ends visibly, never silently.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass, field
from datetime import timedelta

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.persistence import campaigns, maintenance, recipients
from dispatcher.services import evidence, submit
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

PUBLISH_PAGE = 2000
# The marker whose absence means Redis lost its data (flushed, restarted empty, a new
# instance). Its time-to-live only bounds how long it may outlive its use: when it expires, the
# next sweep re-publishes what is pending, which every task's claim makes harmless.
EPOCH_KEY = "epoch"
EPOCH_TTL_SECONDS = 30 * 24 * 3600


@dataclass(frozen=True)
class SweepReport:
    campaigns_started: int
    batches_published: int
    polls_published: int


def sweep(deps: Deps) -> SweepReport:
    timings = deps.settings.timings
    if deps.cache.add(EPOCH_KEY, uuid.uuid4().hex, EPOCH_TTL_SECONDS):
        _forget_publications(deps)
    with deps.db.transaction() as conn:
        due = campaigns.due_campaigns(conn, deps.clock())
    for campaign_id in due:
        deps.publisher.plan(campaign_id)
    with deps.db.transaction() as conn:
        batch_ids = maintenance.batches_to_publish(
            conn,
            deps.clock(),
            timedelta(seconds=timings.republish_after_seconds),
            timings.queued_batches_per_campaign,
            PUBLISH_PAGE,
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


def _forget_publications(deps: Deps) -> None:
    """The marker was missing: Redis lost every message it held (or this is the first sweep
    on a new Redis). The sweep that follows publishes what is due without waiting
    ``republish_after_seconds``; polls whose message was lost are due now instead of a
    lease later. Claims and sends are left to their worker and the reaper."""
    lease = timedelta(seconds=deps.settings.timings.poll_lease_seconds)
    with deps.db.transaction() as conn:
        batches, polls = maintenance.forget_publications(conn, deps.clock(), lease)
    log.warning(
        "sweep: Redis has no marker (wiped, restarted empty, or new): %s pending batch(es) "
        "and %s poll(s) it may have held are published again now",
        batches,
        polls,
    )


@dataclass(frozen=True)
class ReapReport:
    released: list[int]
    unknown: list[int]
    overdue: list[int] = field(default_factory=list)  # failed by the send deadline
    replayed: list[int] = field(default_factory=list)  # recorded from their kept answer


def reap(deps: Deps) -> ReapReport:
    replayed = replay_evidence(deps)
    deadline = timedelta(hours=deps.settings.timings.send_deadline_hours)
    with deps.db.transaction() as conn:
        released = maintenance.release_expired_claims(conn)
        reaped = maintenance.expire_sends(conn)
        overdue = maintenance.fail_overdue(conn, deps.clock(), deadline)
        for o in overdue:
            recipients.set_batch_status(
                conn,
                o.campaign_id,
                o.seq,
                RecipientStatus.FAILED,
                from_statuses=(RecipientStatus.QUEUED,),
                code=o.code,
                description=o.message,
                source="deadline",
            )
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
        for campaign_id in {r.campaign_id for r in reaped} | {o.campaign_id for o in overdue}:
            campaigns.finish_if_settled(conn, campaign_id)
    if reaped:
        log.warning(
            "reaper: batch(es) %s were being sent when their worker was lost: now unknown",
            [r.batch_id for r in reaped],
        )
    for o in overdue:
        log.warning(
            "reaper: batch %s (campaign %s) failed: %s", o.batch_id, o.campaign_id, o.message
        )
    deps.publisher.submit(released)  # stamped published by release_expired_claims
    if released:
        log.info("reaper: released expired claim(s) on batch(es) %s", released)
    return ReapReport(
        released, [r.batch_id for r in reaped], [o.batch_id for o in overdue], replayed
    )


def replay_evidence(deps: Deps) -> list[int]:
    """Sends whose lease ended, recorded from the answer their sender kept as evidence when
    the database would not take it; before the reaper would guess "worker lost" and make them
    unknown, losing the provider's reference. An answer is replayed only on the row that still
    shows its sender and attempt, then forgotten; one that cannot be recorded stays kept (the
    reconciler looks for it too) and its batch becomes unknown like any other. If Redis cannot
    be read this raises, and the reap waits for it: Redis is also the broker, so nothing else
    moves meanwhile."""
    with deps.db.transaction() as conn:
        lapsed = maintenance.lapsed_sends(conn)
    replayed = []
    for send in lapsed:
        kept = evidence.find(deps, send.batch_id)
        if kept is None or (kept.attempt, kept.worker) != (send.attempt, send.worker):
            continue
        try:
            step = submit.replay(deps, kept)
        except Exception:  # one bad answer must not stop the reaper: the rest goes on
            log.exception("reaper: batch %s: its kept answer could not be recorded", send.batch_id)
            continue  # kept for reconciliation; the batch becomes unknown below
        evidence.forget(deps, send.batch_id)
        replayed.append(send.batch_id)
        log.warning(
            "reaper: batch %s recorded from its sender's kept answer (%s, ref %s): %s",
            send.batch_id,
            kept.result.outcome,
            kept.result.provider_ref or "-",
            step,
        )
    return replayed
