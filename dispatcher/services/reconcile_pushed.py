"""Reconciliation by pushed reports: the bulk gateway's only record of a send.

The gateway has no list of sent messages and no report query (its document offers the send
and scheduler APIs only); its answer 1715 ("Response timeout", section 1.4) carries no message
id and forbids re-submitting. What it does offer is ``dlr=1``: a report pushed for every
message it took. A report for a message id we never stored is kept
(persistence/unmatched_reports.py), and each look at a batch with unknown recipients asks
which stored reports fit them: same account and number, submit date within the send's window
(its start to the moment it became unknown, with the adapter's ``pushed_match_slack``).
domain/report_matching.py places a recipient only when exactly one message fits it and
nothing else could own that message; the placed recipient takes the message id and the
report's status, and later reports find it by that id like any other.

    the account asks for no reports, or its reports carry no submit date   unsupported
    every unknown recipient placed         placed; an unknown batch becomes submitted (its
                                           horizon expires what no final report reaches)
    past the report horizon                unplaced: the rest wait for their operator, those
                                           placed and not final expire
    otherwise                              look again later; a stored report wakes it at once

What a match proves: *a* message to that number on that account was taken in that window.
That is this send's only if nothing else sends to that number on the account at the same
time (docs/providers.md, "Bulk gateway: pushed reports").
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection

from dispatcher.domain.models import Report
from dispatcher.domain.report_matching import match
from dispatcher.domain.statuses import BatchState
from dispatcher.metrics import record as metrics
from dispatcher.persistence import batches, recipients, reports
from dispatcher.persistence import reconcile as reconcile_rows
from dispatcher.persistence import unmatched_reports as rows
from dispatcher.persistence.reconcile import Due
from dispatcher.providers.base import Provider
from dispatcher.services.deps import Deps
from dispatcher.services.pacing import first_poll_interval, report_horizon
from dispatcher.services.track import settle_batch

log = logging.getLogger(__name__)

# The longest wait between two looks; a stored report wakes the account's batches anyway
# (services/callbacks.py), so this only bounds a missed wake-up.
MAX_WAIT = timedelta(minutes=10)
# How many ambiguous recipients the evidence names (the rest are counted).
EVIDENCE_SAMPLE = 20


@dataclass(frozen=True)
class Verdict:
    """How a look ends: ``outcome`` is a reconcile step's value ("placed", "unplaced",
    "unsupported", or "waiting" with ``next_at``); ``entry`` is the evidence it appends."""

    outcome: str
    entry: dict[str, Any] | None = None
    next_at: datetime | None = None


def look(deps: Deps, due: Due, adapter: Provider, unknown_since: datetime) -> Verdict:
    """One look at ``due``'s unknown recipients among the stored pushed reports."""
    now = deps.clock()
    timings = deps.settings.timings
    slack = adapter.pushed_match_slack()
    horizon = report_horizon(adapter, timings, polls=False)
    if slack is None or horizon is None:
        why = (
            f"account {adapter.account.name} asks for no delivery reports, or its reports "
            "carry no submit date: nothing can tell whether the gateway took these messages"
        )
        return Verdict("unsupported", {"event": "unsupported", "reason": why})
    ends = unknown_since + horizon + slack
    with deps.db.transaction() as conn:
        found = rows.candidates(
            conn,
            due.account,
            due.campaign_id,
            due.seq,
            sent_from=due.sent_after,
            sent_to=unknown_since,
            slack=slack,
        )
        matching = match(found)
        placed = rows.place(conn, due.campaign_id, matching.placed, now)
        if placed:
            message_ids = sorted(set(matching.placed.values()))
            stored = rows.stored_reports(conn, due.account, message_ids)
            applied = reports.apply_reports(
                conn, due.campaign_id, due.seq, stored, source="reconcile", received_at=now
            )
            metrics.final_reports(due.account, "callback", applied.finals)  # pushed, kept
            rows.consume(conn, due.account, message_ids)
        left = len(reconcile_rows.unknown_recipients(conn, due.campaign_id, due.seq))
        if left == 0:
            _track(deps, conn, due, now, unknown_since + horizon)
        elif now >= ends and due.state == BatchState.UNKNOWN.value:
            # The batch stays unknown for its operator: those placed expire here, as the
            # horizon would have expired them in a submitted batch.
            recipients.expire_batch(conn, due.campaign_id, due.seq, at=now, source="horizon")
    if placed:
        log.info("batch %s: %s unknown recipient(s) placed by pushed reports", due.batch_id, placed)
    entry: dict[str, Any] = {"at": now.isoformat(), "placed": placed, "left": left}
    if matching.ambiguous:
        entry["ambiguous"] = len(matching.ambiguous)
        entry["ambiguous_sample"] = {
            str(k): v for k, v in list(matching.ambiguous.items())[:EVIDENCE_SAMPLE]
        }
    if left == 0:
        return Verdict("placed", {"event": "found", **entry})
    if now >= ends:
        entry["event"] = "not-found"
        entry["reason"] = (
            f"no pushed report placed {left} recipient(s) within the report horizon "
            f"({horizon}) after the send"
        )
        return Verdict("unplaced", entry)
    wait = min(MAX_WAIT, max(timedelta(seconds=timings.reconcile_retry_seconds),
                             (now - unknown_since) / 10))  # fmt: skip
    # A look that placed nobody appends nothing: there may be thousands before the horizon.
    logged = {"event": "placed-by-reports", **entry} if placed else None
    return Verdict("waiting", logged, next_at=min(ends, now + wait))


def _track(deps: Deps, conn: Connection, due: Due, now: datetime, until: datetime) -> None:
    """Every recipient placed: an unknown batch becomes submitted, tracked like one accepted
    by the gateway (pushed reports until its horizon: services/track.py::_await_pushes), and
    done at once when they are all final."""
    until = max(until, now)
    batches.set_state(
        conn,
        due.batch_id,
        BatchState.SUBMITTED,
        from_states={BatchState.UNKNOWN},
        worker=None,
        lease_until=None,
        submitted_at=now,
        last_outcome="accepted",
        last_message="every recipient placed by its pushed report (reconciliation)",
        next_poll_at=until,
        poll_until=until,
        poll_interval=first_poll_interval(deps.settings.timings),
    )
    settle_batch(conn, due.batch_id, due.campaign_id, due.seq)


def keep_unmatched(
    deps: Deps, conn: Connection, account: str, found: Sequence[Report], now: datetime
) -> int:
    """Store reports no recipient was found for, and wake the account's reconciliations;
    now and then delete what is older than ``pushed_report_retention_hours``."""
    kept = rows.keep(conn, account, found, now)
    if kept:
        rows.wake(conn, account, now)
        if deps.cache.get(PRUNED_KEY) is None:
            deps.cache.set(PRUNED_KEY, "1", PRUNE_EVERY_SECONDS)
            hours = deps.settings.timings.pushed_report_retention_hours
            rows.prune(conn, now - timedelta(hours=hours))
    return kept


PRUNED_KEY = "unmatched-reports:pruned"
PRUNE_EVERY_SECONDS = 3600
