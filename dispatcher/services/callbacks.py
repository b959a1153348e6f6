"""Push reports: the callback URL given to providers, and applying what arrives on it.

The URL carries a secret per account (``/callbacks/<provider>/<account>/<secret>``): providers
such as sMsmode call back with a plain GET and no signature, so knowing the URL is the proof.
The same report twice changes nothing (see persistence.reports).
"""

from __future__ import annotations

import logging
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import timedelta
from urllib.parse import parse_qsl

from sqlalchemy import Connection

from dispatcher.domain.models import Batch, Report
from dispatcher.domain.refs import batch_id_from_client_ref
from dispatcher.domain.statuses import BatchState
from dispatcher.errors import CallbackError, CapabilityError, ConfigurationError
from dispatcher.metrics import record as metrics
from dispatcher.persistence import batches, campaigns, inbox, reports
from dispatcher.providers.base import Provider
from dispatcher.services import reconcile_pushed
from dispatcher.services.deps import Deps
from dispatcher.services.pacing import first_poll_interval, report_horizon
from dispatcher.services.track import record_opt_outs, settle_batch
from dispatcher.settings import Settings

log = logging.getLogger(__name__)


def callback_url(settings: Settings, adapter: Provider) -> str | None:
    """None when the service has no public URL or the account no callback secret."""
    account = adapter.account
    if not settings.callback_base_url or account.callback_secret is None:
        return None
    secret = account.callback_secret.get_secret_value()
    base = settings.callback_base_url.rstrip("/")
    return f"{base}/callbacks/{adapter.name}/{account.name}/{secret}"


@dataclass(frozen=True)
class CallbackOutcome:
    applied: int  # recipients changed
    unmatched: int  # reports naming a submission we do not know


def apply_callback(deps: Deps, account: str, params: Mapping[str, str]) -> CallbackOutcome:
    """Parse and apply one callback request at once (raises CallbackError when malformed).
    The HTTP service records callbacks in the inbox instead; this is for tools and tests."""
    adapter = deps.adapters(account)
    if not adapter.accepts_callbacks:
        raise CapabilityError(
            adapter.name, "accepts_callbacks", "sends no delivery-report callbacks"
        )
    reports = adapter.parse_callback(params)
    with deps.db.transaction() as conn:
        return apply_pushed_reports(deps, conn, adapter, reports)


def apply_pushed_reports(
    deps: Deps, conn: Connection, adapter: Provider, pushed: Sequence[Report]
) -> CallbackOutcome:
    """Apply reports that name their submission (sMsmode's smsID, with our refClient) or only
    the provider's per-recipient id (the bulk gateway's message id), in ``conn``'s
    transaction. A batch whose recipients these reports made all final is done at once, and
    its campaign settled: for a push-only account nothing else would close it before its
    horizon (services/track.py::_await_pushes)."""
    now = deps.clock()
    applied = unmatched = 0
    lost: list[Report] = []
    for (campaign_id, seq), group, batch_id in _targets(deps, conn, adapter, pushed):
        if campaign_id is None:
            unmatched += len(group)
            lost += group
            continue
        done = reports.apply_reports(
            conn, campaign_id, seq, group, source="callback", received_at=now
        )
        applied += done.changed
        metrics.final_reports(adapter.account.name, "callback", done.finals)
        record_opt_outs(conn, adapter.name, group)
        if batch_id is not None:
            settle_batch(conn, batch_id, campaign_id, seq)
    if unmatched:
        # Those naming only a message id may be a 1715's or a lost answer's: kept for the
        # reconciler (services/reconcile_pushed.py), not dropped.
        kept = (
            reconcile_pushed.keep_unmatched(deps, conn, adapter.account.name, lost, now)
            if adapter.matches_pushed_reports
            else 0
        )
        log.warning(
            "%s pushed report(s) on %s matched no batch (%s kept for reconciliation)",
            unmatched,
            adapter.account.name,
            kept,
        )
    return CallbackOutcome(applied, unmatched)


Target = tuple[tuple[int | None, int], list[Report], int | None]


def _targets(
    deps: Deps, conn: Connection, adapter: Provider, pushed: Sequence[Report]
) -> list[Target]:
    """Group reports by the batch they belong to: ((campaign, seq), reports, batch id)."""
    by_submission: dict[tuple[str | None, str | None], list[Report]] = defaultdict(list)
    # Several reports may name one message (ACCEPTD, then DELIVRD, in any order): keep all,
    # apply_reports keeps the highest-ranked of each recipient.
    by_message: dict[str, list[Report]] = defaultdict(list)
    for report in pushed:
        if report.provider_ref is None and report.message_id:
            by_message[report.message_id].append(report)
        else:
            by_submission[(report.provider_ref, report.client_ref)].append(report)
    targets: list[Target] = []
    for (provider_ref, ref), group in by_submission.items():
        batch = None
        if provider_ref is not None:
            batch = batches.find_by_provider_ref(conn, adapter.account.name, provider_ref)
            if batch is None:
                batch = _reconcile(deps, conn, adapter, provider_ref, batch_id_from_client_ref(ref))
        if batch is None:
            targets.append(((None, 0), group, None))
        else:
            targets.append(((batch.campaign_id, batch.seq), group, batch.id))
    located = reports.locate_message_ids(conn, adapter.account.name, list(by_message))
    grouped: dict[tuple[int | None, int], list[Report]] = defaultdict(list)
    for message_id, found in by_message.items():
        grouped[located.get(message_id, (None, 0))].extend(found)
    targets += [(where, group, _batch_at(conn, where)) for where, group in grouped.items()]
    return targets


def _batch_at(conn: Connection, where: tuple[int | None, int]) -> int | None:
    """The id of the batch (campaign, number) that message-id reports were located in."""
    campaign_id, seq = where
    return batches.id_at(conn, campaign_id, seq) if campaign_id is not None else None


def _reconcile(
    deps: Deps, conn: Connection, adapter: Provider, provider_ref: str, batch_id: int | None
) -> Batch | None:
    """A report naming a submission we do not know, with our reference (refClient).

    For a batch whose send answer never came, the provider did accept it: the batch leaves
    ``unknown`` (or ``sending``) for ``submitted`` with the provider's id and polling takes
    over from there. For a batch already submitted, it is simply that batch.
    """
    if batch_id is None:
        return None
    batch = batches.get_batch(conn, batch_id)
    if (
        batch is None
        or campaigns.get_campaign(conn, batch.campaign_id).account != adapter.account.name
    ):
        return None
    if batch.state in (BatchState.SUBMITTED, BatchState.DONE):
        # Known under another id (a report naming one message of a batch file, say): our
        # reference still says which batch, and reports match by number within it.
        return batch
    if batch.state not in (BatchState.UNKNOWN, BatchState.SENDING):
        return None
    timings = deps.settings.timings
    now = deps.clock()
    first_poll = now + timedelta(seconds=timings.poll_first_delay_seconds)
    # A report came, so reports do; unpolled, the batch's one step left is its horizon's.
    until = now + (report_horizon(adapter, timings, polls=adapter.can_poll) or timedelta(0))
    batches.set_state(
        conn,
        batch.id,
        BatchState.SUBMITTED,
        from_states={BatchState.UNKNOWN, BatchState.SENDING},
        provider_ref=provider_ref,
        worker=None,
        lease_until=None,
        submitted_at=now,
        last_outcome="accepted",
        last_message="reconciled from a delivery report",
        next_poll_at=first_poll if adapter.can_poll else until,
        poll_until=until,
        poll_interval=first_poll_interval(timings),
    )
    # An unknown batch had let its campaign stop for an operator: it moves again.
    campaigns.finish_if_settled(conn, batch.campaign_id)
    log.info("batch %s reconciled from a callback: provider id %s", batch.id, provider_ref)
    return batches.get_batch(conn, batch.id)


@dataclass(frozen=True)
class DrainReport:
    recorded: int  # inbox rows consumed
    applied: int  # recipients changed
    malformed: int


def drain_inbox(deps: Deps, *, page: int = 5000, pages: int = 20) -> DrainReport:
    """Apply recorded callbacks, a page per transaction: the reports, the rows' deletion and
    the cursor commit together, so a crash repeats a page (harmlessly) and loses none."""
    timings = deps.settings.timings
    settle = timedelta(seconds=timings.callback_settle_seconds)
    recorded = applied = malformed = 0
    for _ in range(pages):
        with deps.db.transaction() as conn:
            if not inbox.take_applier_lock(conn):
                break
            last = inbox.cursor(conn)
            rows = inbox.page_after(conn, last, settle, page)
            if deps.cache.get("callbacks:stragglers-checked") is None:
                deps.cache.set("callbacks:stragglers-checked", "1", STRAGGLER_CHECK_SECONDS)
                rows = inbox.stragglers(conn, last, page) + rows
            if not rows:
                break
            done, bad = _apply_rows(deps, conn, rows)
            inbox.consume(conn, rows, max(last, max(r.id for r in rows)))
        recorded, applied, malformed = recorded + len(rows), applied + done, malformed + bad
    return DrainReport(recorded, applied, malformed)


STRAGGLER_CHECK_SECONDS = 60


def _apply_rows(deps: Deps, conn: Connection, rows: Sequence[inbox.InboxRow]) -> tuple[int, int]:
    by_account: dict[str, list[Report]] = defaultdict(list)
    malformed = 0
    for row in rows:
        try:
            adapter = deps.adapters(row.account)
            by_account[row.account] += adapter.parse_callback(dict(parse_qsl(row.params)))
        except (CallbackError, ConfigurationError) as exc:
            malformed += 1  # checked when received: only a changed setting gets here
            log.error("callback %s on %s dropped: %s", row.id, row.account, exc)
    applied = sum(
        apply_pushed_reports(deps, conn, deps.adapters(account), found).applied
        for account, found in by_account.items()
    )
    return applied, malformed
