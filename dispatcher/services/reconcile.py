"""reconcile: learn from the provider's own records whether an ``unknown`` batch went out.

A batch is ``unknown`` when its request may have reached the provider and no answer says so
(docs/design-rules.md 1.3: never re-sent on its own). Before an operator sees it, this asks the
provider's records, wherever its document offers a way (docs/design-rules.md 1.11; per provider in
docs/providers.md, "Reconciliation"). Beat runs ``reconcile_due`` every few seconds:

    take due batches (FOR UPDATE SKIP LOCKED, reserved for a lease)   two beats are safe
    the send's answer is kept as evidence in Redis   the reaper replays it first: wait
    no unknown recipient left                        placed (a late answer or a report did it)
    the adapter cannot look                          unsupported, with the reason
    past reconcile_give_up_hours                     unplaced
    circuit breaker open, or no rate-limit token     look again later, nothing counted
    find_submission(probe):
        Found      -> batch submitted with the provider's reference, its unknown recipients
                      submitted (events from source "reconcile"); polling takes over
        Absent     -> a second read at least reconcile_confirm_seconds after the first one
                      -> unplaced; else look again then
        Undecided  -> look again after a growing wait
    settle the campaign (an unknown batch under reconciliation keeps it running)

A batch proved absent is *not* re-sent: an operator decides (``resend-batch``), and the
evidence shows them why. Only the recipients nobody placed are re-sent then.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from dispatcher.domain.placement import Absent, Found, Placement, SubmissionProbe, Undecided
from dispatcher.domain.refs import client_ref
from dispatcher.domain.statuses import RecipientStatus
from dispatcher.metrics import record as metrics
from dispatcher.persistence import campaigns, recipients
from dispatcher.persistence import reconcile as rows
from dispatcher.persistence.reconcile import Due
from dispatcher.providers.base import Provider
from dispatcher.services import evidence, limits, outage, reconcile_pushed
from dispatcher.services.deps import Deps
from dispatcher.services.pacing import first_poll_interval, report_horizon

log = logging.getLogger(__name__)

PAGE = 50
# How much longer than the retry wait an undecided read may wait at most.
MAX_RETRY_FACTOR = 10


class Step(StrEnum):
    PLACED = "placed"
    UNPLACED = "unplaced"
    UNSUPPORTED = "unsupported"
    WAITING = "waiting"  # looks again later


@dataclass(frozen=True)
class ReconcileReport:
    steps: dict[int, Step] = field(default_factory=dict)  # batch id -> how its look ended

    def count(self, step: Step) -> int:
        return sum(1 for s in self.steps.values() if s is step)


def reconcile_due(deps: Deps, *, page: int = PAGE) -> ReconcileReport:
    timings = deps.settings.timings
    lease = timedelta(seconds=timings.reconcile_lease_seconds)
    with deps.db.transaction() as conn:
        due = rows.take_due(conn, deps.clock(), lease, page)
    return ReconcileReport({d.batch_id: reconcile_batch(deps, d) for d in due})


def reconcile_batch(deps: Deps, due: Due) -> Step:
    """One look at one batch the caller has taken."""
    now = deps.clock()
    if deps.cache.get(evidence.key(due.batch_id)) is not None:
        # The send's own answer was kept when its write failed: the reaper replays it first.
        return _later(deps, due, now + _retry_wait(deps, 0), None)
    adapter = deps.adapters(due.account)
    if adapter.matches_pushed_reports:  # the bulk gateway: services/reconcile_pushed.py
        verdict = reconcile_pushed.look(deps, due, adapter, _unknown_since(due))
        if verdict.next_at is not None:
            return _later(deps, due, verdict.next_at, verdict.entry)
        return _settle(deps, due, Step(verdict.outcome), verdict.entry or {})
    if not adapter.can_find_submissions:
        why = f"{adapter.name}'s document offers no way to find a send whose answer was lost"
        return _settle(deps, due, Step.UNSUPPORTED, {"event": "unsupported", "reason": why})
    with deps.db.transaction() as conn:
        campaign = campaigns.get_campaign(conn, due.campaign_id)
        unknown = rows.unknown_recipients(conn, due.campaign_id, due.seq)
    if not unknown:
        return _settle(deps, due, Step.PLACED, {"event": "resolved", "reason": "no unknown left"})
    sent_before = _unknown_since(due)
    give_up = timedelta(hours=deps.settings.timings.reconcile_give_up_hours)
    if now - sent_before > give_up:
        reason = f"not found within {give_up} of becoming unknown"
        return _settle(deps, due, Step.UNPLACED, {"event": "gave-up", "reason": reason})

    holder = f"{deps.worker} reconcile {due.batch_id}"
    gate = outage.admit(deps, adapter, holder)
    if not gate.allow:
        return _later(deps, due, outage.paced_until(deps, gate), None)
    wait = limits.take_slot(deps, adapter)
    if wait > 0:
        outage.release(deps, adapter, holder)
        return _later(deps, due, now + timedelta(seconds=wait), None)
    with deps.db.transaction() as conn:
        since = due.sent_after
        before, after = rows.neighbour_refs(conn, due.account, since, sent_before)
        probe = SubmissionProbe(
            batch_id=due.batch_id,
            client_ref=client_ref(due.batch_id),
            text=None
            if campaign.options.personalised == "file"
            else unknown[0][1] or campaign.text,
            msisdns=[msisdn for msisdn, _ in unknown],
            sent_after=since,
            sent_before=sent_before,
            recent_sends=rows.sends_since(conn, due.account, since),
            # Every other batch's reference, also those sent just before this one: concurrent
            # sends are numbered around it (Envoyer's walk skips them).
            taken_refs=rows.refs_since(
                conn, due.account, since - rows.NEIGHBOUR_LOOKBACK, due.batch_id
            ),
            ref_before=before,
            ref_after=after,
            # A look that asks more than once (Envoyer's gap walk) pays each further request.
            take_slot=lambda: limits.take_slot(deps, adapter) <= 0,
        )
    try:
        placement = adapter.find_submission(probe)
    finally:
        outage.release(deps, adapter, holder)  # a look judges nothing about sending
    log.info("batch %s reconciliation read: %s", due.batch_id, placement)
    metrics.reconcile_read(adapter, placement)
    return _apply(deps, due, adapter, placement, len(unknown))


def _apply(deps: Deps, due: Due, adapter: Provider, placement: Placement, count: int) -> Step:
    now = deps.clock()
    timings = deps.settings.timings
    if isinstance(placement, Found):
        return _placed(deps, due, adapter, placement, count)
    if isinstance(placement, Absent):
        entry = {
            "event": "absent",
            "at": now.isoformat(),
            "covered_from": placement.covered_from.isoformat(),
            "covered_to": placement.covered_to.isoformat(),
            "detail": placement.detail,
        }
        confirm = timedelta(seconds=timings.reconcile_confirm_seconds)
        since = _unknown_since(due)  # reads of an earlier episode (before a re-send) prove nothing
        if any(_absent_between(e, since, now - confirm) for e in due.evidence):
            entry["event"] = "not-found"
            return _settle(deps, due, Step.UNPLACED, entry)
        return _later(deps, due, now + confirm, entry)
    assert isinstance(placement, Undecided)
    entry = {"event": "undecided", "at": now.isoformat(), "reason": placement.reason}
    return _later(deps, due, now + _retry_wait(deps, due.tries), entry)


def _placed(deps: Deps, due: Due, adapter: Provider, found: Found, count: int) -> Step:
    timings = deps.settings.timings
    now = deps.clock()
    polls = adapter.can_poll
    # A batch that cannot be polled waits for pushed reports until its horizon (or expires at
    # once when none will come), like one accepted on its first answer (services/track.py).
    horizon = report_horizon(adapter, timings, polls=polls) or timedelta(0)
    first_delay = timedelta(seconds=timings.poll_first_delay_seconds)
    entry: dict[str, Any] = {
        "event": "found",
        "at": now.isoformat(),
        "provider_ref": found.provider_ref,
        "detail": found.detail,
    }
    with deps.db.transaction() as conn:
        rows.record_placed(
            conn,
            due.batch_id,
            provider_ref=found.provider_ref,
            evidence=entry,
            first_poll=now + (first_delay if polls else horizon),
            poll_until=now + horizon,
            poll_interval=first_poll_interval(timings),
            now=now,
        )
        placed = recipients.set_batch_status(
            conn,
            due.campaign_id,
            due.seq,
            RecipientStatus.SUBMITTED,
            from_statuses=(RecipientStatus.UNKNOWN,),
            description=f"found at the provider: {found.provider_ref}",
            source="reconcile",
            at=now,
        )
        campaigns.finish_if_settled(conn, due.campaign_id)
    log.info(
        "batch %s found at the provider as %s: %s of %s unknown recipient(s) submitted",
        due.batch_id,
        found.provider_ref,
        placed,
        count,
    )
    return Step.PLACED


def _settle(deps: Deps, due: Due, step: Step, entry: dict[str, Any]) -> Step:
    entry.setdefault("at", deps.clock().isoformat())
    with deps.db.transaction() as conn:
        rows.settle(conn, due.batch_id, step.value, entry)
        campaigns.finish_if_settled(conn, due.campaign_id)
    if step is not Step.PLACED:
        log.warning(
            "batch %s (campaign %s) is %s; an operator decides: %s",
            due.batch_id,
            due.campaign_id,
            step.value,
            entry.get("reason") or entry.get("detail"),
        )
    return step


def _later(deps: Deps, due: Due, at: datetime, entry: dict[str, Any] | None) -> Step:
    with deps.db.transaction() as conn:
        rows.look_again(conn, due.batch_id, at, entry or {}, counted=entry is not None)
    return Step.WAITING


def _retry_wait(deps: Deps, tries: int) -> timedelta:
    base = deps.settings.timings.reconcile_retry_seconds
    return timedelta(seconds=min(base * MAX_RETRY_FACTOR, base * 2.0 ** min(tries, 10)))


def _unknown_since(due: Due) -> datetime:
    """When the batch became unknown (its request had surely ended by then): the latest
    "unknown" entry, as a re-sent batch may have become unknown more than once."""
    times = [_time(e.get("at")) for e in due.evidence if e.get("event") == "unknown"]
    known = [t for t in times if t is not None]
    return max(known) if known else due.sent_after


def _absent_between(entry: dict[str, Any], start: datetime, end: datetime) -> bool:
    at = _time(entry.get("at"))
    return entry.get("event") == "absent" and at is not None and start <= at <= end


def _time(value: object) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        return datetime.fromisoformat(value)
    except ValueError:
        return None
