"""Why a campaign is not moving: the facts behind it read from PostgreSQL (the campaign, its
unfinished batches, who paused it) and from the account's circuit breaker, turned into words
by ``domain/waiting.py``. Reads only, never changes anything.

``reasons_in`` runs inside the caller's snapshot (``campaign_status``), so the state, the
counts and the reasons shown together always agree.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta

from sqlalchemy import Connection

from dispatcher.breaker import BreakerState
from dispatcher.domain.models import Campaign
from dispatcher.domain.statuses import CampaignState, RecipientStatus
from dispatcher.domain.waiting import Circuit, Facts, WaitingReason, reasons
from dispatcher.persistence import audit, campaigns
from dispatcher.persistence import waiting as stored
from dispatcher.services.deps import Deps

# How many audit entries back the one that paused a campaign is looked for.
AUDIT_LOOKBACK = 20
OVERDUE_AFTER_SWEEPS = 3  # the sweeper starts due campaigns every sweep: three missed is late
OVERDUE_AFTER_MIN = timedelta(minutes=1)


def waiting_reasons(deps: Deps, campaign_id: int, now: datetime) -> list[WaitingReason]:
    """Every reason campaign ``campaign_id`` waits at ``now``; empty when it is moving or over."""
    with deps.db.snapshot() as conn:
        campaign = campaigns.get_campaign(conn, campaign_id)
        unknown = campaigns.recipient_counts(conn, campaign_id)
        return reasons_in(deps, conn, campaign, now, unknown_recipients=_unknown(unknown))


def reasons_in(
    deps: Deps,
    conn: Connection,
    campaign: Campaign,
    now: datetime,
    *,
    unknown_recipients: int,
) -> list[WaitingReason]:
    """The reasons, read on ``conn`` (the caller's snapshot) and from the breaker."""
    if campaign.state in (CampaignState.DONE, CampaignState.CANCELLED):
        return []
    sweep = timedelta(seconds=deps.settings.timings.sweep_interval_seconds)
    running = campaign.state is CampaignState.RUNNING
    facts = Facts(
        campaign_id=campaign.id,
        state=campaign.state,
        provider=campaign.provider,
        send_at=campaign.send_at,
        window=campaign.options.window,
        groups=stored.batch_groups(conn, campaign.id, now),
        # Only a running campaign sends: the others never pay for the Redis read.
        circuit=_circuit(deps.breaker.state(campaign.account)) if running else None,
        paused=_paused_by(conn, campaign) if campaign.state is CampaignState.PAUSED else None,
        unknown_recipients=unknown_recipients,
        overdue_after=max(OVERDUE_AFTER_MIN, sweep * OVERDUE_AFTER_SWEEPS),
    )
    return reasons(facts, now)


def _unknown(counts: Mapping[RecipientStatus, int]) -> int:
    return counts.get(RecipientStatus.UNKNOWN, 0)


def _circuit(state: BreakerState) -> Circuit | None:
    if not state.is_open:
        return None
    probe = datetime.fromtimestamp(state.next_probe_at, UTC) if state.next_probe_at else None
    return Circuit(datetime.fromtimestamp(state.opened_at, UTC), probe, state.last_error)


def _paused_by(conn: Connection, campaign: Campaign) -> tuple[str, datetime] | None:
    for entry in audit.for_campaign(conn, campaign.id, limit=AUDIT_LOOKBACK):
        if entry.action == audit.AuditAction.PAUSED.value:
            return entry.actor, entry.at
    return None
