"""submit: send one batch, at most once, and record what the provider's answer proves.

    claim (pending -> claimed, committed)       a duplicate task stops here; the campaign's
                                                next batch is published (fairness, below)
    outside its campaign's send window          hand back, due when the window opens
    read recipients, build the request          nothing has left yet: safe to hand back
    ask the account's circuit breaker           open: hand back, due at the next probe (paced)
    take a rate-limit token                     none free: hand back with a due time
    mark sending (claimed -> sending, committed)
    HTTP request                                the answer is told to the breaker
    record: accepted -> submitted (polls start; push-only: pushed reports until the horizon)
            transient -> pending with a growing backoff, the attempt given back
            permanent -> failed | unknown -> unknown (never re-sent automatically)

A transient answer proves nothing was sent, so it never uses a batch up (docs/design-rules.md
1.9): the batch waits and is sent when the provider answers again, and only the campaign's send
deadline (services/maintenance.py::reap) ends the wait, failing its recipients with the last answer.
A worker that dies between "mark sending" and "record" leaves the batch in ``sending``; the
reaper turns it into ``unknown`` when its lease ends.

The claim, "mark sending" and the record are retried across a database restart
(``Database.run``, ``db_retry_seconds``, which the send lease includes), each written to
recognise its own commit if the acknowledgement was lost. An answer that still cannot be
written is kept as evidence (services/evidence.py) and the reaper records it from there.

Fairness: a campaign has at most ``queued_batches_per_campaign`` batches waiting in the submit
queue. The claim that takes one off it marks the campaign's next one published in the same
transaction, and it is published once that commits, so the queue interleaves campaigns and a
new one's batches are never behind a whole big campaign (docs/architecture.md, "Fairness").
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import datetime, timedelta
from enum import StrEnum
from functools import partial

from sqlalchemy import Connection

from dispatcher import log_context
from dispatcher.domain.models import Batch, Campaign, OutboundBatch, SendResult
from dispatcher.domain.refs import client_ref
from dispatcher.domain.statuses import BatchState, Outcome, RecipientStatus
from dispatcher.domain.window import SendWindow
from dispatcher.errors import ConfigurationError
from dispatcher.metrics import record
from dispatcher.persistence import batches, campaigns, recipients, reports, unmatched_reports
from dispatcher.providers.base import Provider
from dispatcher.services import evidence, limits, outage
from dispatcher.services.callbacks import callback_url
from dispatcher.services.deps import Deps
from dispatcher.services.pacing import backoff, first_poll_interval, report_horizon

log = logging.getLogger(__name__)

QUEUED_OR_UNKNOWN = (RecipientStatus.QUEUED, RecipientStatus.UNKNOWN)


class SubmitStep(StrEnum):
    """How a submit task ended; for logs and tests."""

    NOT_CLAIMABLE = "not-claimable"
    OUTSIDE_WINDOW = "outside-window"
    EMPTY = "empty"
    RATE_LIMITED = "rate-limited"
    PACED = "paced"  # the account's circuit breaker is open: the batch waits, uncounted
    HELD = "held"
    LOST_CLAIM = "lost-claim"
    ACCEPTED = "accepted"
    RETRY = "retry"
    FAILED = "failed"
    UNKNOWN = "unknown"


def submit_batch(deps: Deps, batch_id: int) -> SubmitStep:
    timings = deps.settings.timings
    claimed = deps.db.run(partial(_claim, deps, batch_id), retry_for=timings.db_retry_seconds)
    if claimed is None:
        return SubmitStep.NOT_CLAIMABLE
    batch, campaign, rows, following = claimed
    log_context.add_to_task(campaign_id=campaign.id)
    publish_following(deps, campaign.id, following)
    if not rows:
        return SubmitStep.EMPTY

    window = campaign.options.window
    if window and not SendWindow.parse(window).is_open(now := deps.clock()):
        opens = SendWindow.parse(window).next_open(now)
        with deps.db.transaction() as conn:
            batches.release(
                conn,
                batch.id,
                deps.worker,
                opens,
                reason=f"send window {window}",
                waiting_for=batches.WAITING_FOR_WINDOW,
            )
        record.submit_step(campaign.account, SubmitStep.OUTSIDE_WINDOW)
        return SubmitStep.OUTSIDE_WINDOW

    adapter = deps.adapters(campaign.account)
    outbound = _outbound(deps, adapter, campaign, batch, rows)
    try:
        request = adapter.prepare_send(outbound)
    except ConfigurationError as exc:
        return _hold(deps, batch, str(exc))

    holder = f"{deps.worker} batch {batch.id}"
    gate = outage.admit(deps, adapter, holder)  # before the token: a paced batch wastes none
    if not gate.allow:
        with deps.db.transaction() as conn:
            batches.release(
                conn,
                batch.id,
                deps.worker,
                outage.paced_until(deps, gate),
                reason=outage.reason(gate),
                waiting_for=batches.WAITING_FOR_BREAKER,
            )
        record.submit_step(campaign.account, SubmitStep.PACED)
        return SubmitStep.PACED

    wait = limits.take_slot(deps, adapter)
    record.rate_limit_wait(campaign.account, wait)
    if wait > 0:
        record.submit_step(campaign.account, SubmitStep.RATE_LIMITED)
        outage.release(deps, adapter, holder)
        with deps.db.transaction() as conn:
            batches.release(
                conn, batch.id, deps.worker, deps.clock() + _seconds(wait), reason="rate limit"
            )
        return SubmitStep.RATE_LIMITED

    mark = partial(
        batches.mark_sending,
        batch_id=batch.id,
        worker=deps.worker,
        lease=_send_lease(adapter, deps),
        claimed_attempts=batch.attempts,
    )
    attempt = deps.db.run(mark, retry_for=timings.db_retry_seconds)
    if attempt is None:  # the reaper took the claim back: someone else may send it
        outage.release(deps, adapter, holder)
        return SubmitStep.LOST_CLAIM

    result = adapter.execute_send(request, outbound)
    resumed = outage.tell(
        deps, adapter, holder, outage.judge_send(result), result.code, result.description
    )
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
    step = record_answer(deps, campaign, batch, attempt, result, adapter)
    record.submit_step(campaign.account, step, result, len(rows))
    if resumed:  # this answer closed the account's breaker: what waited on it goes now
        outage.wake(deps, adapter.account.name)
    return step


def _claim(
    deps: Deps, batch_id: int, conn: Connection
) -> tuple[Batch, Campaign, list[tuple[int, str, str | None]], list[int]] | None:
    """The claim, what the send needs and the campaign's next batch to publish, in one unit of
    work; an empty batch is done at once. Retried across a database restart: ``batches.claim``
    takes this worker's own claim again. A retry after a commit whose acknowledgement was lost
    finds the next batch already marked published and publishes nothing: that batch waits for
    ``republish_after_seconds`` (the sweep), one slot of the campaign's window meanwhile."""
    timings = deps.settings.timings
    now = deps.clock()
    batch = batches.claim(conn, batch_id, deps.worker, _seconds(timings.claim_lease_seconds), now)
    if batch is None:
        return None
    campaign = campaigns.get_campaign(conn, batch.campaign_id)
    rows = recipients.batch_recipients(conn, campaign.id, batch.seq)
    if not rows:
        batches.set_state(conn, batch.id, BatchState.DONE, from_states={BatchState.CLAIMED})
        campaigns.finish_if_settled(conn, campaign.id)
    following = batches.publish_next(
        conn,
        campaign.id,
        now,
        window=timings.queued_batches_per_campaign,
        republish_after=_seconds(timings.republish_after_seconds),
    )
    return batch, campaign, rows, following


def publish_following(deps: Deps, campaign_id: int, batch_ids: list[int]) -> None:
    """Publish what the claim marked published. A broker that cannot take it must not stop this
    batch's send: the sweep publishes those batches again after ``republish_after_seconds``,
    or at once if Redis comes back empty."""
    try:
        deps.publisher.submit(batch_ids)
    except Exception:  # the broker's errors vary with its transport
        log.warning(
            "could not publish batch(es) %s of campaign %s; the sweeper will",
            batch_ids,
            campaign_id,
            exc_info=True,
        )


def record_answer(
    deps: Deps,
    campaign: Campaign,
    batch: Batch,
    attempt: int,
    result: SendResult,
    adapter: Provider,
) -> SubmitStep:
    """Record the provider's answer and settle the campaign, retried across a database restart
    for ``db_retry_seconds``: the request cannot be taken back, and its answer (the provider's
    reference above all) is the only proof of what it did. Safe to run again after a commit
    whose acknowledgement was lost: every batch statement is conditional on the sender's
    ``sending`` row (``batches._AFTER_SEND``) and every recipient statement on a status the
    first commit already moved past. If it still cannot be written, the answer is kept as
    evidence for the reaper (services/evidence.py) and the error raised."""

    def work(conn: Connection) -> SubmitStep:
        step = _record(deps, conn, campaign, batch, attempt, result, adapter)
        campaigns.finish_if_settled(conn, campaign.id)
        return step

    try:
        return deps.db.run(work, retry_for=deps.settings.timings.db_retry_seconds)
    except Exception:
        evidence.keep(deps, evidence.Evidence(batch.id, attempt, deps.worker, result))
        raise


def replay(deps: Deps, kept: evidence.Evidence) -> SubmitStep:
    """Record an answer its sender kept as evidence, as that sender would have (its worker
    name is what the ``sending`` row must still show); the reaper calls this once the send's
    lease has ended."""
    with deps.db.transaction() as conn:
        batch = batches.get_batch(conn, kept.batch_id)
        if batch is None:
            raise LookupError(f"batch {kept.batch_id} of a kept answer does not exist")
        campaign = campaigns.get_campaign(conn, batch.campaign_id)
    sender = replace(deps, worker=kept.worker)
    adapter = deps.adapters(campaign.account)
    return record_answer(sender, campaign, batch, kept.attempt, kept.result, adapter)


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
    per_destination = bool(result.recipients)
    if result.recipients:
        reports.apply_send_results(conn, campaign.id, batch.seq, result.recipients)
        result = replace(result, outcome=batch_outcome(result))
    if result.rate_limited:
        delay = result.retry_after if result.retry_after is not None else timings.retry_cap_seconds
        batches.record_retry(
            conn,
            batch.id,
            attempt,
            worker=deps.worker,
            due_at=now + _seconds(delay),
            code=code,
            message=f"provider's request limit: {message}",
            waiting_for=batches.WAITING_FOR_RATE,
        )
        return SubmitStep.RATE_LIMITED
    if result.outcome is Outcome.ACCEPTED:
        polls = adapter.can_poll and result.provider_ref is not None
        horizon = report_horizon(adapter, timings, polls=polls)
        start = max(now, campaign.send_at) if campaign.options.provider_scheduling else now
        until = start + horizon if horizon is not None else None
        batches.record_accepted(
            conn,
            batch.id,
            attempt,
            worker=deps.worker,
            provider_ref=result.provider_ref,
            code=code,
            message=message,
            # Unpolled (push-only), its one step left is the horizon's (services/track.py::
            # _await_pushes), unless pushed reports make every recipient final before it.
            first_poll=start + _seconds(timings.poll_first_delay_seconds) if polls else until,
            poll_until=until,
            poll_interval=first_poll_interval(timings),
        )
        recipients.set_batch_status(
            conn,
            campaign.id,
            batch.seq,
            RecipientStatus.SUBMITTED,
            # Per-destination answers set every recipient already: one answered "unknown"
            # (the bulk gateway's 1715) stays so, and is reconciled (not re-sent).
            from_statuses=(RecipientStatus.QUEUED,) if per_destination else QUEUED_OR_UNKNOWN,
            log_events=False,
            stamp=False,
        )
        unknown = sum(1 for r in result.recipients if r.outcome is Outcome.UNKNOWN)
        if unknown:
            why = f"{unknown} destination(s) of an accepted request: {result.description}"
            unmatched_reports.enter_reconciliation(conn, batch.id, why)
        if horizon is None:
            _expire_at_acceptance(conn, campaign, batch, now)
        return SubmitStep.ACCEPTED
    if result.outcome is Outcome.TRANSIENT:
        # Paced, never counted: however long the provider is down, the batch waits (its
        # ``retries`` grow the backoff up to its cap) until it answers or the deadline comes.
        delay = (
            result.retry_after
            if result.retry_after is not None
            else backoff(batch.retries + 1, timings)
        )
        batches.record_retry(
            conn,
            batch.id,
            attempt,
            worker=deps.worker,
            due_at=now + _seconds(delay),
            code=code,
            message=message,
        )
        return SubmitStep.RETRY
    batch_state, recipient_status, from_statuses, step = _STOPPED[result.outcome]
    batches.record_stopped(
        conn,
        batch.id,
        attempt,
        worker=deps.worker,
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


def _expire_at_acceptance(
    conn: Connection, campaign: Campaign, batch: Batch, now: datetime
) -> None:
    """No report will ever come (the account asks for none: the bulk gateway without ``dlr``),
    so the horizon is the acceptance itself: the recipients expire now, each with an event,
    rather than end their campaign still ``submitted`` (docs/design-rules.md 1.10)."""
    expired = recipients.expire_batch(conn, campaign.id, batch.seq, at=now, source="horizon")
    batches.finish(
        conn, batch.id, f"accepted; no delivery report is asked for: {expired} recipient(s) expired"
    )


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


def _send_lease(adapter: Provider, deps: Deps) -> timedelta:
    """Long enough for the slowest possible answer (a probe token's life), so the reaper never
    races a live request, and for the answer's write, which may retry that long."""
    return _seconds(outage.probe_ttl(adapter, deps) + deps.settings.timings.db_retry_seconds)


def _seconds(value: float) -> timedelta:
    return timedelta(seconds=value)
