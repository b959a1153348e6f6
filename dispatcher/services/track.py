"""track: poll a batch's delivery reports and apply them, on a growing interval, until every
recipient is final or the provider's horizon has passed.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import Connection

from dispatcher.domain.models import Report
from dispatcher.domain.statuses import Outcome
from dispatcher.persistence import batches, campaigns, opt_outs, recipients, reports
from dispatcher.services import limits
from dispatcher.services.deps import Deps
from dispatcher.settings import Timings

log = logging.getLogger(__name__)


class PollStep(StrEnum):
    NOT_POLLABLE = "not-pollable"
    RATE_LIMITED = "rate-limited"
    APPLIED = "applied"
    FINISHED = "finished"
    FAILED = "failed"


def poll_batch(deps: Deps, batch_id: int) -> PollStep:
    timings = deps.settings.timings
    with deps.db.transaction() as conn:
        target = batches.poll_target(conn, batch_id)
    if target is None:
        return PollStep.NOT_POLLABLE
    adapter = deps.adapters(target.account)
    wait = limits.take_slot(deps, adapter)
    if wait > 0:
        with deps.db.transaction() as conn:
            batches.schedule_poll(
                conn, batch_id, deps.clock() + timedelta(seconds=wait), target.poll_interval
            )
        return PollStep.RATE_LIMITED

    result = adapter.fetch_reports(target.provider_ref)
    now = deps.clock()
    with deps.db.transaction() as conn:
        changed = 0
        if result.outcome is Outcome.ACCEPTED:
            changed = reports.apply_reports(
                conn, target.campaign_id, target.seq, result.reports, source="poll", received_at=now
            )
            record_opt_outs(conn, adapter.name, result.reports)
        if settle_batch(conn, batch_id, target.campaign_id, target.seq):
            return PollStep.FINISHED
        past_horizon = target.poll_until is not None and now >= target.poll_until
        if result.gone or past_horizon:
            why = (
                "the provider no longer knows this submission"
                if result.gone
                else "report horizon reached"
            )
            batches.finish(conn, batch_id, why)
            campaigns.finish_if_settled(conn, target.campaign_id)
            return PollStep.FINISHED
        interval = next_interval(target.poll_interval, timings)
        batches.schedule_poll(conn, batch_id, now + timedelta(seconds=interval), interval)
    if result.outcome is not Outcome.ACCEPTED:
        log.warning(
            "poll of batch %s: %s %s %s",
            batch_id,
            result.outcome,
            result.code or "-",
            result.description,
        )
        return PollStep.FAILED
    log.debug("poll of batch %s: %s reports, %s changed", batch_id, len(result.reports), changed)
    return PollStep.APPLIED


def next_interval(current: int, timings: Timings) -> int:
    grown = max(1.0, current * timings.poll_growth)
    return int(min(grown, timings.poll_max_interval_seconds))


def settle_batch(conn: Connection, batch_id: int, campaign_id: int, seq: int) -> bool:
    """Finish a submitted batch once all its recipients are final, and its campaign with it."""
    if recipients.unsettled_in_batch(conn, campaign_id, seq):
        return False
    if batches.finish(conn, batch_id, "every recipient has a final status"):
        campaigns.finish_if_settled(conn, campaign_id)
    return True


def record_opt_outs(conn: Connection, provider: str, found: Sequence[Report]) -> int:
    """Recipients a provider reports as opted out (Envoyer's "en STOP SMS") join our list."""
    numbers = [r.msisdn for r in found if r.opted_out and r.msisdn]
    return opt_outs.add(conn, numbers, source=f"provider:{provider}") if numbers else 0
