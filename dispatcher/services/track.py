"""track: poll a batch's delivery reports and apply them, on a growing interval, until every
recipient is final or a read made after the provider's horizon has succeeded.

    ask the account's circuit breaker  open: the poll is due at the next probe, nothing counted
    take a rate-limit token            none free: the poll is due again later, nothing counted
    read the reports (clock noted before the request)
    accepted -> apply them set-wise; every recipient final -> batch done
    gone (the provider no longer knows it), or accepted and the read began after the horizon
            -> recipients still submitted become expired, batch done
    failed -> logged, due again after the send backoff (poll_failures), never closes the batch
    else   -> due again after a grown interval, never later than the horizon

A batch no read can reach (push-only: the bulk gateway's reports only come pushed, applied
by services/callbacks.py) has one step instead, due at its horizon, with no request: pushed
reports that made every recipient final settle it (callbacks close it at once); else what
is still submitted expires, batch done.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial
from typing import NamedTuple

from sqlalchemy import Connection

from dispatcher import log_context
from dispatcher.domain.models import PollResult, Report
from dispatcher.domain.statuses import Outcome
from dispatcher.metrics import record as metrics
from dispatcher.persistence import batches, campaigns, opt_outs, recipients, reports
from dispatcher.persistence.batches import PollTarget
from dispatcher.services import limits, outage
from dispatcher.services.deps import Deps
from dispatcher.services.pacing import backoff, next_interval

log = logging.getLogger(__name__)


class PollStep(StrEnum):
    NOT_POLLABLE = "not-pollable"
    RATE_LIMITED = "rate-limited"
    PACED = "paced"  # the account's circuit breaker is open: the poll waits, uncounted
    APPLIED = "applied"
    FINISHED = "finished"
    FAILED = "failed"
    WAITING = "waiting"  # push-only: nothing to read, the horizon is still ahead


def poll_batch(deps: Deps, batch_id: int) -> PollStep:
    """One read of a batch's reports and what it proves.

    Reports usually come in seconds and sometimes in days, and a provider may be failing at the
    very moment the horizon passes: only a successful read that *began* after the horizon shows
    that nothing more will come (docs/design-rules.md 3.2). A failed read proves nothing, so it
    never closes the batch and never grows the interval as if it had read something.
    """
    with deps.db.transaction() as conn:
        target = batches.poll_target(conn, batch_id)
    if target is None:
        return PollStep.NOT_POLLABLE
    log_context.add_to_task(campaign_id=target.campaign_id)
    adapter = deps.adapters(target.account)
    if target.provider_ref is None or not adapter.can_poll:
        return _await_pushes(deps, target)
    holder = f"{deps.worker} poll {batch_id}"
    gate = outage.admit(deps, adapter, holder)
    if not gate.allow:
        with deps.db.transaction() as conn:
            batches.schedule_poll(
                conn, batch_id, outage.paced_until(deps, gate), target.poll_interval
            )
        return PollStep.PACED
    wait = limits.take_slot(deps, adapter)
    if wait > 0:
        outage.release(deps, adapter, holder)
        with deps.db.transaction() as conn:
            batches.schedule_poll(
                conn, batch_id, deps.clock() + timedelta(seconds=wait), target.poll_interval
            )
        return PollStep.RATE_LIMITED

    started = deps.clock()
    result = adapter.fetch_reports(target.provider_ref)
    verdict = outage.judge_poll(result)
    if outage.tell(deps, adapter, holder, verdict, result.code, result.description):
        # Woken before this poll is recorded: a lost record only means reading again.
        outage.wake(deps, adapter.account.name)
    now = deps.clock()
    read = result.outcome is Outcome.ACCEPTED
    applied = deps.db.run(
        partial(_apply, deps, target, adapter.name, result, started, now),
        retry_for=deps.settings.timings.db_retry_seconds,
    )
    if applied.settled:
        return PollStep.FINISHED
    closing, changed, expired = applied.closing, applied.changed, applied.expired
    if closing is not None:
        log.log(
            logging.WARNING if closing == "gone" else logging.INFO,
            "batch %s closed (%s): %s recipient(s) without a final report expired",
            batch_id,
            closing,
            expired,
        )
        return PollStep.FINISHED
    if not read:
        log.warning(
            "poll of batch %s failed (%s in a row): %s %s %s; retried after a backoff",
            batch_id,
            target.poll_failures + 1,
            result.outcome,
            result.code or "-",
            result.description,
        )
        return PollStep.FAILED
    log.debug("poll of batch %s: %s reports, %s changed", batch_id, len(result.reports), changed)
    return PollStep.APPLIED


class _Applied(NamedTuple):
    settled: bool  # every recipient final: the batch is done
    closing: str | None  # why tracking ends without that, or None
    changed: int  # recipients this answer changed
    expired: int  # recipients expired by closing


def _apply(
    deps: Deps,
    target: PollTarget,
    provider: str,
    result: PollResult,
    started: datetime,
    now: datetime,
    conn: Connection,
) -> _Applied:
    """What one poll answer proves, in one unit of work, retried across a database restart
    (``Database.run``): a lost answer would cost a poll lease. Safe to run again after a
    commit whose acknowledgement was lost: reports only move statuses forward, opt-outs are
    added once, closing and finishing are conditional on states the first commit left. Only
    the poll counters (``polls``, ``poll_failures``) may count such a poll twice."""
    changed = 0
    if result.outcome is Outcome.ACCEPTED:
        applied = reports.apply_reports(
            conn, target.campaign_id, target.seq, result.reports, source="poll", received_at=now
        )
        changed = applied.changed
        metrics.final_reports(target.account, "poll", applied.finals)
        record_opt_outs(conn, provider, result.reports)
    if settle_batch(conn, target.batch_id, target.campaign_id, target.seq):
        return _Applied(True, None, changed, 0)
    closing = _closing(target, result, started)
    if closing is not None:
        return _Applied(False, closing, changed, _close(conn, target, now, closing))
    _schedule_next(deps, conn, target, now, read=result.outcome is Outcome.ACCEPTED)
    return _Applied(False, None, changed, 0)


def _closing(target: PollTarget, result: PollResult, started: datetime) -> str | None:
    """Why this read ends tracking ("gone", "horizon"), or None while reports may still come."""
    if result.gone:
        return "gone"
    past_horizon = target.poll_until is not None and started >= target.poll_until
    if result.outcome is Outcome.ACCEPTED and past_horizon:
        return "horizon"
    return None


def _close(
    conn: Connection, target: PollTarget, now: datetime, why: str, message: str | None = None
) -> int:
    """Expire what is still pending, as of this read, and finish the batch and its campaign."""
    expired = recipients.expire_batch(conn, target.campaign_id, target.seq, at=now, source=why)
    metrics.reports(target.account, "expired", "horizon", expired)
    message = message or (
        "the provider no longer knows this submission"
        if why == "gone"
        else "report horizon reached after a successful read"
    )
    batches.finish(conn, target.batch_id, f"{message}; {expired} recipient(s) expired")
    campaigns.finish_if_settled(conn, target.campaign_id)
    return expired


def _schedule_next(
    deps: Deps, conn: Connection, target: PollTarget, now: datetime, *, read: bool
) -> None:
    """A failed read waits like a failed send and keeps its interval; a successful one grows
    the interval, but the next read is never later than the horizon, so the read that may
    close the batch comes on time."""
    timings = deps.settings.timings
    if not read:
        delay = backoff(target.poll_failures + 1, timings)
        at = now + timedelta(seconds=delay)
        batches.schedule_poll(conn, target.batch_id, at, target.poll_interval, failed=True)
        return
    interval = next_interval(target.poll_interval, timings)
    at = now + timedelta(seconds=interval)
    if target.poll_until is not None and at > target.poll_until:
        at = max(target.poll_until, now)
    batches.schedule_poll(conn, target.batch_id, at, interval, failed=False)


def _await_pushes(deps: Deps, target: PollTarget) -> PollStep:
    """A push-only batch's step: no request (nothing can be read), so no breaker and no
    rate-limit token. Due at its horizon (``next_poll_at = poll_until``, services/submit.py),
    it closes the batch there; woken earlier (a Redis wipe, a breaker's wake-up), it settles
    the batch if pushed reports made every recipient final, else waits for the horizon."""
    now = deps.clock()
    step, expired = deps.db.run(
        partial(_horizon_step, target, now), retry_for=deps.settings.timings.db_retry_seconds
    )
    if expired:
        log.info(
            "batch %s closed at its horizon: %s recipient(s) without a pushed final report expired",
            target.batch_id,
            expired,
        )
    return step


def _horizon_step(target: PollTarget, now: datetime, conn: Connection) -> tuple[PollStep, int]:
    """(step, recipients expired), in one unit of work; safe to run again after a commit
    whose acknowledgement was lost: the batch is then done, and nothing changes."""
    if settle_batch(conn, target.batch_id, target.campaign_id, target.seq):
        return PollStep.FINISHED, 0
    if target.poll_until is None or now >= target.poll_until:
        message = "report horizon reached; reports are only pushed"
        return PollStep.FINISHED, _close(conn, target, now, "horizon", message)
    batches.schedule_poll(conn, target.batch_id, target.poll_until, target.poll_interval)
    return PollStep.WAITING, 0


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
