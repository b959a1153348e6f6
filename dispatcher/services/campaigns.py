"""What producers and operators do with a campaign once it exists: read its progress, export
its recipients, pause, resume, cancel, and re-send a batch whose outcome is unknown.
"""

from __future__ import annotations

import logging
from typing import IO, Any

from sqlalchemy import Connection

from dispatcher.domain.models import CampaignProgress
from dispatcher.domain.statuses import BatchState, CampaignState, RecipientStatus
from dispatcher.errors import (
    IllegalTransitionError,
    NotFoundError,
    ProviderError,
)
from dispatcher.persistence import audit, batches, campaigns, recipients, reconcile
from dispatcher.persistence import waiting as waiting_store
from dispatcher.persistence.audit import AuditAction
from dispatcher.persistence.reconcile import Reconciliation
from dispatcher.services import waiting
from dispatcher.services.actor import os_actor
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)


def campaign_status(deps: Deps, campaign_id: int) -> CampaignProgress:
    with deps.db.snapshot() as conn:  # the state and the counts always agree
        campaign = campaigns.get_campaign(conn, campaign_id)
        by_status = campaigns.recipient_counts(conn, campaign_id)
        return CampaignProgress(
            campaign_id=campaign_id,
            state=campaign.state,
            account=campaign.account,
            total=sum(by_status.values()),
            by_status=by_status,
            batches_by_state=campaigns.batch_counts(conn, campaign_id),
            dropped=campaigns.dropped_counts(conn, campaign_id),
            waiting=waiting.reasons_in(
                deps,
                conn,
                campaign,
                deps.clock(),
                unknown_recipients=by_status.get(RecipientStatus.UNKNOWN, 0),
            ),
            times=waiting_store.campaign_times(conn, campaign_id),
            **_archived(conn, campaign_id),
        )


def _archived(conn: Connection, campaign_id: int) -> dict[str, Any]:
    found = campaigns.archive_of(conn, campaign_id)
    return {"archived_at": found[0], "archive_path": found[1]} if found else {}


def export_recipients(deps: Deps, campaign_id: int, out: IO[bytes]) -> None:
    with deps.db.transaction() as conn:
        campaigns.get_campaign(conn, campaign_id)  # NotFoundError for a wrong id
        recipients.export_csv(conn, campaign_id, out)


def pause_campaign(deps: Deps, campaign_id: int, *, actor: str | None = None) -> None:
    """Batches already sent go on being tracked; pending ones wait (claims need ``running``).
    ``actor`` (every action here): who, for the audit trail; default the OS user."""
    with deps.db.transaction() as conn:
        was = _move(
            conn,
            campaign_id,
            {CampaignState.RUNNING, CampaignState.SCHEDULED},
            CampaignState.PAUSED,
        )
        _audit(conn, actor, AuditAction.PAUSED, campaign_id, detail={"was": was.value})


def resume_campaign(deps: Deps, campaign_id: int, *, actor: str | None = None) -> None:
    """Back to ``running``, settled at once: batches that ended while it was paused leave it
    ``done`` or ``needs_attention`` rather than running with nothing left to move it."""
    with deps.db.transaction() as conn:
        started = campaigns.has_started(conn, campaign_id)
        to = CampaignState.RUNNING if started else CampaignState.SCHEDULED
        _move(conn, campaign_id, {CampaignState.PAUSED}, to)
        _audit(conn, actor, AuditAction.RESUMED, campaign_id, detail={"to": to.value})
        if to is CampaignState.RUNNING:
            campaigns.finish_if_settled(conn, campaign_id)
    if to is CampaignState.SCHEDULED:
        deps.publisher.plan(campaign_id)


def cancel_campaign(deps: Deps, campaign_id: int, *, actor: str | None = None) -> int:
    """Stop what has not left; ask the provider to drop what it holds for later. Returns how
    many recipients were cancelled, each with its delivery event like any status change.

    A ``needs_attention`` campaign can be cancelled too: its held batches are cancelled with
    their queued recipients; unknown recipients stay unknown (they may have been sent)."""
    with deps.db.transaction() as conn:
        campaign = campaigns.get_campaign(conn, campaign_id, lock=True)
        if campaign.state in (CampaignState.DONE, CampaignState.CANCELLED):
            raise IllegalTransitionError(f"campaign {campaign_id} is already {campaign.state}")
        campaigns.move(conn, campaign_id, from_states={campaign.state}, to=CampaignState.CANCELLED)
        batches.cancel_unsent(conn, campaign_id)
        held_by_provider = (
            batches.submitted_with_ref(conn, campaign_id)
            if campaign.options.provider_scheduling and campaign.send_at > deps.clock()
            else []
        )
        cancelled = recipients.set_campaign_status(
            conn,
            campaign_id,
            RecipientStatus.CANCELLED,
            from_statuses=(RecipientStatus.QUEUED,),
            source="operator",
        )
        _audit(
            conn,
            actor,
            AuditAction.CANCELLED,
            campaign_id,
            detail={"was": campaign.state.value, "recipients": cancelled},
        )
    if held_by_provider:
        cancelled += _cancel_at_provider(deps, campaign.account, campaign_id, held_by_provider)
    return cancelled


def _cancel_at_provider(
    deps: Deps, account: str, campaign_id: int, held: list[batches.AtProvider]
) -> int:
    """Delete each batch the provider holds for a later send time, one request and one
    transaction per batch: a refusal for one leaves it submitted (and logged) and the others
    still go. Returns how many recipients were cancelled."""
    adapter = deps.adapters(account)
    if not adapter.can_cancel:  # it holds them (can_schedule) but has no delete endpoint
        log.error("%s cannot delete what it holds: %s batch(es) will go", adapter.name, len(held))
        return 0
    cancelled = 0
    for batch in held:
        try:
            adapter.cancel(batch.provider_ref)
        except ProviderError as exc:
            log.error("could not cancel batch %s at %s: %s", batch.batch_id, adapter.name, exc)
            continue
        with deps.db.transaction() as conn:
            batches.set_state(
                conn,
                batch.batch_id,
                BatchState.CANCELLED,
                from_states={BatchState.SUBMITTED},
                next_poll_at=None,
            )
            cancelled += recipients.set_batch_status(
                conn,
                campaign_id,
                batch.seq,
                RecipientStatus.CANCELLED,
                from_statuses=(RecipientStatus.SUBMITTED,),
                source="operator",
                description="deleted at the provider before its send time",
            )
    return cancelled


def resend_batch(deps: Deps, batch_id: int, *, actor: str | None = None) -> Reconciliation | None:
    """Operator's decision: send an ``unknown`` or ``held`` batch again, accepting that an
    unknown one may reach some recipients twice. Its campaign (``needs_attention``, or
    ``done`` from before that state existed) runs again; a cancelled one refuses, since
    nothing would ever send the batch and its recipients would wait forever.

    An unknown batch is refused while its reconciliation still looks for it at the provider
    (docs/design-rules.md 1.11), and only its recipients still ``unknown`` go back to the queue:
    those reconciliation placed are ``submitted`` already. Returns what reconciliation learnt (the
    evidence the operator decided on), None for a batch that never was unknown."""
    with deps.db.transaction() as conn:
        batch = batches.get_batch(conn, batch_id)
        if batch is None:
            raise NotFoundError(f"no batch {batch_id}")
        if batch.state not in (BatchState.UNKNOWN, BatchState.HELD):
            raise IllegalTransitionError(
                f"batch {batch_id} is {batch.state}; only unknown or held batches are re-sent"
            )
        found = reconcile.reconciliation(conn, batch_id, lock=True)
        if batch.state is BatchState.UNKNOWN and found and found.state == "pending":
            when = f"{found.after:%Y-%m-%d %H:%M:%S %Z}" if found.after else "soon"
            raise IllegalTransitionError(
                f"batch {batch_id} is still being looked for in the provider's records "
                f"(reconciliation; next check at {when}): re-send it only once reconciliation "
                "has ended unplaced or unsupported"
            )
        campaign = campaigns.get_campaign(conn, batch.campaign_id, lock=True)
        if campaign.state is CampaignState.CANCELLED:
            raise IllegalTransitionError(
                f"campaign {campaign.id} is cancelled; its batches are not re-sent"
            )
        requeued = recipients.set_batch_status(
            conn,
            batch.campaign_id,
            batch.seq,
            RecipientStatus.QUEUED,
            from_statuses=(RecipientStatus.UNKNOWN,),
            source="operator",
            description="re-sent by an operator",
        )
        _audit(
            conn,
            actor,
            AuditAction.RESENT,
            batch.campaign_id,
            batch_id=batch_id,
            detail={"was": batch.state.value, "requeued": requeued},
        )
        batches.set_state(
            conn,
            batch_id,
            BatchState.PENDING,
            from_states={BatchState.UNKNOWN, BatchState.HELD},
            attempts=0,
            published_at=None,
            due_at=deps.clock(),
        )
        campaigns.move(
            conn,
            batch.campaign_id,
            from_states={CampaignState.DONE, CampaignState.NEEDS_ATTENTION},
            to=CampaignState.RUNNING,
        )
    deps.publisher.submit([batch_id])
    return found if found is not None and found.state is not None else None


def _move(
    conn: Connection, campaign_id: int, from_states: set[CampaignState], to: CampaignState
) -> CampaignState:
    """Returns the state it was in."""
    campaign = campaigns.get_campaign(conn, campaign_id)
    if not campaigns.move(conn, campaign_id, from_states=from_states, to=to):
        raise IllegalTransitionError(
            f"campaign {campaign_id} is {campaign.state}; cannot become {to}"
        )
    return campaign.state


def _audit(
    conn: Connection,
    actor: str | None,
    action: AuditAction,
    campaign_id: int,
    *,
    batch_id: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    """The change's audit entry, in the change's own transaction."""
    audit.record(
        conn,
        actor=actor or os_actor(),
        action=action,
        campaign_id=campaign_id,
        batch_id=batch_id,
        detail=detail,
    )
