"""Push reports: the callback URL given to providers, and applying what arrives on it.

The URL carries a secret per account (``/callbacks/<provider>/<account>/<secret>``): providers
such as sMsmode call back with a plain GET and no signature, so knowing the URL is the proof.
The same report twice changes nothing (see recipients.apply_reports).
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
from dispatcher.persistence import batches, campaigns, recipients
from dispatcher.providers.base import Provider
from dispatcher.services.deps import Deps
from dispatcher.services.track import settle_batch
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
    deps: Deps, adapter: Provider, reports: Sequence[Report]
) -> CallbackOutcome:
    groups: dict[tuple[str | None, str | None], list[Report]] = defaultdict(list)
    for report in reports:
        groups[(report.provider_ref, report.client_ref)].append(report)
    applied = unmatched = 0
    now = deps.clock()
    with deps.db.transaction() as conn:
        for (provider_ref, ref), group in groups.items():
            batch = None
            if provider_ref is not None:
                batch = batches.find_by_provider_ref(conn, adapter.account.name, provider_ref)
                if batch is None:
                    batch = _reconcile(
                        deps, conn, adapter, provider_ref, batch_id_from_client_ref(ref)
                    )
            if batch is None:
                unmatched += len(group)
                continue
            applied += recipients.apply_reports(
                conn, batch.campaign_id, batch.seq, group, source="callback", received_at=now
            )
            settle_batch(conn, batch.id, batch.campaign_id, batch.seq)
    if unmatched:
        log.warning("%s callback report(s) on %s matched no batch", unmatched, adapter.account.name)
    return CallbackOutcome(applied, unmatched)


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
