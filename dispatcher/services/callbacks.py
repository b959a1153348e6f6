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

from sqlalchemy import Connection

from dispatcher.domain.models import Batch, Report
from dispatcher.domain.refs import batch_id_from_client_ref
from dispatcher.domain.statuses import BatchState
from dispatcher.persistence import batches, campaigns, reports
from dispatcher.providers.base import Provider
from dispatcher.services.deps import Deps
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
    """Parse and apply one callback request (raises CallbackError when it is malformed)."""
    adapter = deps.adapters(account)
    return apply_pushed_reports(deps, adapter, adapter.parse_callback(params))


def apply_pushed_reports(
    deps: Deps, adapter: Provider, pushed: Sequence[Report]
) -> CallbackOutcome:
    """Apply reports that name their submission (sMsmode's smsID, with our refClient) or only
    the provider's per-recipient id (the bulk gateway's message id)."""
    account = adapter.account.name
    now = deps.clock()
    applied = unmatched = 0
    with deps.db.transaction() as conn:
        for (campaign_id, seq), group, batch_id in _targets(deps, conn, adapter, pushed):
            if campaign_id is None:
                unmatched += len(group)
                continue
            applied += reports.apply_reports(
                conn, campaign_id, seq, group, source="callback", received_at=now
            )
            record_opt_outs(conn, adapter.name, group)
            if batch_id is not None:
                settle_batch(conn, batch_id, campaign_id, seq)
    if unmatched:
        log.warning("%s pushed report(s) on %s matched no batch", unmatched, account)
    return CallbackOutcome(applied, unmatched)


Target = tuple[tuple[int | None, int], list[Report], int | None]


def _targets(
    deps: Deps, conn: Connection, adapter: Provider, pushed: Sequence[Report]
) -> list[Target]:
    """Group reports by the batch they belong to: ((campaign, seq), reports, batch id)."""
    by_submission: dict[tuple[str | None, str | None], list[Report]] = defaultdict(list)
    by_message: dict[str, Report] = {}
    for report in pushed:
        if report.provider_ref is None and report.message_id:
            by_message[report.message_id] = report
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
    for message_id, report in by_message.items():
        grouped[located.get(message_id, (None, 0))].append(report)
    targets += [(where, group, None) for where, group in grouped.items()]
    return targets


def _reconcile(
    deps: Deps, conn: Connection, adapter: Provider, provider_ref: str, batch_id: int | None
) -> Batch | None:
    """A report for a batch whose send answer never came: the provider did accept it.

    The batch leaves ``unknown`` (or ``sending``) for ``submitted`` with the provider's id;
    polling takes over from there.
    """
    if batch_id is None:
        return None
    batch = batches.get_batch(conn, batch_id)
    if batch is None or batch.state not in (BatchState.UNKNOWN, BatchState.SENDING):
        return None
    if campaigns.get_campaign(conn, batch.campaign_id).account != adapter.account.name:
        return None
    timings = deps.settings.timings
    now = deps.clock()
    first_poll = now + timedelta(seconds=timings.poll_first_delay_seconds)
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
        next_poll_at=first_poll if adapter.can_poll else None,
        poll_until=now + adapter.report_horizon,
        poll_interval=max(1, int(timings.poll_first_delay_seconds)),
    )
    log.info("batch %s reconciled from a callback: provider id %s", batch.id, provider_ref)
    return batches.get_batch(conn, batch.id)
