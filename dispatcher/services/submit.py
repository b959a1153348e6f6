"""submit: send one batch, at most once, and record what the provider's answer proves.

    claim (pending -> claimed, committed)       a duplicate task stops here
    outside its campaign's send window          hand back, due when the window opens
    read recipients, build the request          nothing has left yet: safe to hand back
    take a rate-limit token                     none free: hand back with a due time
    mark sending (claimed -> sending, committed)
    HTTP request
    record: accepted -> submitted (polls start) | transient -> pending with backoff, or held
            permanent -> failed | unknown -> unknown (never re-sent automatically)

A worker that dies between "mark sending" and "record" leaves the batch in ``sending``; the
reaper turns it into ``unknown`` when its lease ends.
"""

from __future__ import annotations

import logging
import random
from dataclasses import replace
from datetime import timedelta
from enum import StrEnum

from sqlalchemy import Connection

from dispatcher.domain.models import Batch, Campaign, OutboundBatch, SendResult
from dispatcher.domain.refs import client_ref
from dispatcher.domain.statuses import BatchState, Outcome, RecipientStatus
from dispatcher.domain.window import SendWindow
from dispatcher.errors import ConfigurationError
from dispatcher.persistence import batches, campaigns, recipients, reports
from dispatcher.providers.base import Provider
from dispatcher.services import limits
from dispatcher.services.callbacks import callback_url
from dispatcher.services.deps import Deps
from dispatcher.settings import Timings

log = logging.getLogger(__name__)

QUEUED_OR_UNKNOWN = (RecipientStatus.QUEUED, RecipientStatus.UNKNOWN)


class SubmitStep(StrEnum):
    """How a submit task ended; for logs and tests."""

    NOT_CLAIMABLE = "not-claimable"
    OUTSIDE_WINDOW = "outside-window"
    EMPTY = "empty"
    RATE_LIMITED = "rate-limited"
    HELD = "held"
    LOST_CLAIM = "lost-claim"
    ACCEPTED = "accepted"
    RETRY = "retry"
    FAILED = "failed"
    UNKNOWN = "unknown"


def submit_batch(deps: Deps, batch_id: int) -> SubmitStep:
    timings = deps.settings.timings
    with deps.db.transaction() as conn:
        batch = batches.claim(
            conn, batch_id, deps.worker, _seconds(timings.claim_lease_seconds), deps.clock()
        )
        if batch is None:
            return SubmitStep.NOT_CLAIMABLE
        campaign = campaigns.get_campaign(conn, batch.campaign_id)
        rows = recipients.batch_recipients(conn, campaign.id, batch.seq)
        if not rows:
            batches.set_state(conn, batch.id, BatchState.DONE, from_states={BatchState.CLAIMED})
            campaigns.finish_if_settled(conn, campaign.id)
            return SubmitStep.EMPTY

    window = campaign.options.window
    if window and not SendWindow.parse(window).is_open(now := deps.clock()):
        opens = SendWindow.parse(window).next_open(now)
        with deps.db.transaction() as conn:
            batches.release(conn, batch.id, deps.worker, opens, reason=f"send window {window}")
        return SubmitStep.OUTSIDE_WINDOW

    adapter = deps.adapters(campaign.account)
    outbound = _outbound(deps, adapter, campaign, batch, rows)
    try:
        request = adapter.prepare_send(outbound)
    except ConfigurationError as exc:
        return _hold(deps, batch, str(exc))

    wait = limits.take_slot(deps, adapter)
    if wait > 0:
        with deps.db.transaction() as conn:
            batches.release(
                conn, batch.id, deps.worker, deps.clock() + _seconds(wait), reason="rate limit"
            )
        return SubmitStep.RATE_LIMITED

    with deps.db.transaction() as conn:
        attempt = batches.mark_sending(conn, batch.id, deps.worker, _send_lease(adapter, timings))
    if attempt is None:  # the reaper took the claim back: someone else may send it
        return SubmitStep.LOST_CLAIM

    result = adapter.execute_send(request, outbound)
    log.info(
        "batch %s (campaign %s, %s recipients) attempt %s: %s %s %s",
        batch.id,
        campaign.id,
        len(rows),
        attempt,
        result.outcome,
        result.code or "-",
        result.description,
    )
    with deps.db.transaction() as conn:
        step = _record(deps, conn, campaign, batch, attempt, result, adapter)
        campaigns.finish_if_settled(conn, campaign.id)
    return step


def _outbound(
    deps: Deps,
    adapter: Provider,
    campaign: Campaign,
    batch: Batch,
    rows: list[tuple[int, str, str | None]],
) -> OutboundBatch:
    scheduled = campaign.options.provider_scheduling and campaign.send_at > deps.clock()
    text, encoding, segments, method = (
        campaign.text, campaign.encoding, campaign.segments, campaign.method
    )  # fmt: skip
    texts: list[str] | None = None
    mode = campaign.options.personalised
    if mode == "file":  # one text per recipient in one request (sMsmode's batch file)
        texts = [row_text or campaign.text for _, _, row_text in rows]
        method = "POST"
    elif mode == "grouped":  # the planner put one text in each batch
        text = rows[0][2] or campaign.text
        measured = adapter.measure(text, force=campaign.options.forced_encoding)
        encoding, segments = measured.encoding, measured.segments
    return OutboundBatch(
        batch_id=batch.id,
        campaign_id=campaign.id,
        client_ref=client_ref(batch.id),
        text=text,
        encoding=encoding,
        segments=segments,
        sender=campaign.sender,
        msisdns=[msisdn for _, msisdn, _ in rows],
        recipient_ids=[rid for rid, _, _ in rows],
        method=method,
        options=campaign.options,
        provider_send_at=campaign.send_at if scheduled else None,
        callback_url=callback_url(deps.settings, adapter) if adapter.accepts_callbacks else None,
        texts=texts,
    )


def _record(
    deps: Deps,
    conn: Connection,
    campaign: Campaign,
    batch: Batch,
    attempt: int,
    result: SendResult,
    adapter: Provider,
) -> SubmitStep:
    timings = deps.settings.timings
    now = deps.clock()
    code, message = result.code, result.description
    if result.balance is not None:  # estimates use it where the provider has no balance call
        deps.cache.set(f"balance:{adapter.account.name}", str(result.balance), 30 * 24 * 3600)
    if result.recipients:
        reports.apply_send_results(conn, campaign.id, batch.seq, result.recipients)
        result = replace(result, outcome=batch_outcome(result))
    if result.rate_limited:
        delay = result.retry_after if result.retry_after is not None else timings.retry_cap_seconds
        batches.record_retry(
            conn,
            batch.id,
            attempt,
            due_at=now + _seconds(delay),
            code=code,
            message=f"provider's request limit: {message}",
            count_attempt=False,
        )
        return SubmitStep.RATE_LIMITED
    if result.outcome is Outcome.ACCEPTED:
        polls = adapter.can_poll and result.provider_ref is not None
        horizon = (
            timedelta(hours=timings.poll_horizon_hours)
            if timings.poll_horizon_hours
            else adapter.report_horizon
        )
        start = max(now, campaign.send_at) if campaign.options.provider_scheduling else now
        batches.record_accepted(
            conn,
            batch.id,
            attempt,
            provider_ref=result.provider_ref,
            code=code,
            message=message,
            first_poll=start + _seconds(timings.poll_first_delay_seconds) if polls else None,
            poll_until=start + horizon if polls else None,
            poll_interval=int(timings.poll_first_delay_seconds) or 1,
        )
        recipients.set_batch_status(
            conn,
            campaign.id,
            batch.seq,
            RecipientStatus.SUBMITTED,
            from_statuses=QUEUED_OR_UNKNOWN,
            log_events=False,
            stamp=False,
        )
        if not polls:
            # No report will come: the batch's work is done once the provider has it.
            batches.finish(conn, batch.id, "accepted; no polling (reports, if any, come pushed)")
        return SubmitStep.ACCEPTED
    if result.outcome is Outcome.TRANSIENT and attempt < timings.submit_max_attempts:
        delay = result.retry_after if result.retry_after is not None else backoff(attempt, timings)
        batches.record_retry(
            conn, batch.id, attempt, due_at=now + _seconds(delay), code=code, message=message
        )
        return SubmitStep.RETRY
    if result.outcome is Outcome.TRANSIENT:
        batches.record_stopped(
            conn,
            batch.id,
            attempt,
            state=BatchState.HELD,
            outcome=result.outcome.value,
            code=code,
            message=f"gave up after {attempt} attempts: {message}",
        )
        return SubmitStep.HELD
    batch_state, recipient_status, from_statuses, step = _STOPPED[result.outcome]
    batches.record_stopped(
        conn,
        batch.id,
        attempt,
        state=batch_state,
        outcome=result.outcome.value,
        code=code,
        message=message,
    )
    recipients.set_batch_status(
        conn,
        campaign.id,
        batch.seq,
        recipient_status,
        from_statuses=from_statuses,
        code=code,
        description=message,
    )
    return step


# Where sending stops without acceptance: the batch's state, its recipients' status, which
# recipients change, and the step reported. An unknown outcome leaves recipients that already
# have a report alone.
_STOPPED = {
    Outcome.PERMANENT: (
        BatchState.FAILED,
        RecipientStatus.FAILED,
        QUEUED_OR_UNKNOWN,
        SubmitStep.FAILED,
    ),
    Outcome.UNKNOWN: (
        BatchState.UNKNOWN,
        RecipientStatus.UNKNOWN,
        (RecipientStatus.QUEUED,),
        SubmitStep.UNKNOWN,
    ),
}


def batch_outcome(result: SendResult) -> Outcome:
    """The batch's outcome from per-destination answers: retry while any destination may still
    go (transient), submitted once any was accepted, else unknown if any may have gone."""
    outcomes = {r.outcome for r in result.recipients}
    for outcome in (Outcome.TRANSIENT, Outcome.ACCEPTED, Outcome.UNKNOWN):
        if outcome in outcomes:
            return outcome
    return Outcome.PERMANENT


def backoff(attempt: int, timings: Timings) -> float:
    """Capped exponential backoff with equal jitter: half fixed, half random."""
    ceiling = min(timings.retry_cap_seconds, timings.retry_base_seconds * 2.0 ** (attempt - 1))
    return float(ceiling / 2 + random.uniform(0, ceiling / 2))


def _hold(deps: Deps, batch: Batch, reason: str) -> SubmitStep:
    with deps.db.transaction() as conn:
        batches.set_state(
            conn,
            batch.id,
            BatchState.HELD,
            from_states={BatchState.CLAIMED},
            worker=None,
            lease_until=None,
            last_message=reason,
        )
        campaigns.finish_if_settled(conn, batch.campaign_id)
    log.error("batch %s held for an operator: %s", batch.id, reason)
    return SubmitStep.HELD


def _send_lease(adapter: Provider, timings: Timings) -> timedelta:
    """Long enough for the slowest possible answer, so the reaper never races a live request."""
    account = adapter.account
    return _seconds(
        account.connect_timeout
        + account.read_timeout
        + adapter.retry_seconds
        + timings.send_lease_margin_seconds
    )


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
