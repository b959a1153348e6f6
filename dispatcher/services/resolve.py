"""An operator's decision on a batch nobody can place: ``dispatcher batch resolve ID``.

A batch stops for an operator when its outcome is ``unknown`` (the request may have left and
reconciliation could not place it in the provider's records) or ``held`` (refused before any
request). The operator looks elsewhere (the provider's console, the customer) and records
what they decided, WITHOUT anything being sent:

- ``--sent``: the operator saw the messages go out. The batch's ``unknown`` recipients become
  ``expired``, the product's existing meaning of "sent, and no report will come" (an account
  that asks for no report has its recipients expire at acceptance; see docs/architecture.md,
  the report horizon). The batch becomes ``done``. A ``held`` batch was never sent, so
  ``--sent`` is refused for it: ``--failed`` or ``batch resend`` are the choices there.
- ``--failed``: the batch's ``unknown`` and ``queued`` recipients become ``failed``; the batch
  becomes ``failed``.

Either way each recipient moved keeps a trace: provider code ``operator``, provider text the
reason given, and a delivery event of source ``operator``. In the same transaction the batch's
reconciliation ends (nothing looks for it any more), an audit entry records who decided, why
and how many recipients moved, and the campaign is settled: a ``needs_attention`` campaign
whose last stuck batch this was becomes ``done``.

Refused, with the reason: a batch that is not unknown or held; an unknown batch still being
looked for by reconciliation (the same rule as ``resend_batch``: the provider's records come
before a person's guess, docs/design-rules.md 1.11); a batch of a cancelled campaign.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from dispatcher.domain.statuses import BatchState, CampaignState, RecipientStatus
from dispatcher.errors import IllegalTransitionError, NotFoundError
from dispatcher.metrics import record as metrics
from dispatcher.persistence import audit, batches, campaigns, recipients, reconcile
from dispatcher.persistence.audit import AuditAction
from dispatcher.services.actor import os_actor
from dispatcher.services.deps import Deps

OPERATOR_CODE = "operator"


class Decision(StrEnum):
    SENT = "sent"
    FAILED = "failed"


# What each decision does: recipients from -> to, the batch's new state, the audit action.
_MOVES: dict[Decision, tuple[tuple[RecipientStatus, ...], RecipientStatus, BatchState]] = {
    Decision.SENT: ((RecipientStatus.UNKNOWN,), RecipientStatus.EXPIRED, BatchState.DONE),
    Decision.FAILED: (
        (RecipientStatus.UNKNOWN, RecipientStatus.QUEUED),
        RecipientStatus.FAILED,
        BatchState.FAILED,
    ),
}
_ACTIONS = {Decision.SENT: AuditAction.RESOLVED_SENT, Decision.FAILED: AuditAction.RESOLVED_FAILED}


@dataclass(frozen=True)
class Resolution:
    batch_id: int
    campaign_id: int
    decision: Decision
    was: BatchState
    batch_state: BatchState
    recipients: int  # recipients moved
    recipient_status: RecipientStatus
    campaign_state: CampaignState
    actor: str
    reason: str | None

    def as_dict(self) -> dict[str, Any]:
        return {
            "batch_id": self.batch_id,
            "campaign_id": self.campaign_id,
            "decision": self.decision.value,
            "was": self.was.value,
            "batch_state": self.batch_state.value,
            "recipients": self.recipients,
            "recipient_status": self.recipient_status.value,
            "campaign_state": self.campaign_state.value,
            "actor": self.actor,
            "reason": self.reason,
        }


def resolve_batch(
    deps: Deps,
    batch_id: int,
    decision: Decision | str,
    *,
    reason: str | None = None,
    actor: str | None = None,
) -> Resolution:
    """Record the operator's decision on an unknown or held batch; nothing is sent."""
    decision = Decision(decision)
    who = actor or os_actor()
    from_statuses, to_status, to_state = _MOVES[decision]
    with deps.db.transaction() as conn:
        found = reconcile.reconciliation(conn, batch_id, lock=True)  # holds the batch's row
        batch = batches.get_batch(conn, batch_id)
        if found is None or batch is None:
            raise NotFoundError(f"no batch {batch_id}")
        _check(batch.state, decision, batch_id, found)
        campaign = campaigns.get_campaign(conn, batch.campaign_id, lock=True)
        if campaign.state is CampaignState.CANCELLED:
            raise IllegalTransitionError(
                f"campaign {campaign.id} is cancelled; its batches are not resolved"
            )
        text = reason or f"resolved by an operator as {decision.value}"
        moved = recipients.set_batch_status(
            conn,
            batch.campaign_id,
            batch.seq,
            to_status,
            from_statuses=from_statuses,
            code=OPERATOR_CODE,
            description=text,
            source=OPERATOR_CODE,
            at=deps.clock(),
        )
        batches.set_state(
            conn,
            batch_id,
            to_state,
            from_states={batch.state},
            finished_at=deps.clock(),
            worker=None,
            lease_until=None,
            next_poll_at=None,
            reconcile_after=None,
        )
        audit.record(
            conn,
            actor=who,
            action=_ACTIONS[decision],
            campaign_id=batch.campaign_id,
            batch_id=batch_id,
            detail={"was": batch.state.value, "recipients": moved, "reason": reason},
        )
        settled = campaigns.finish_if_settled(conn, batch.campaign_id)
    metrics.reports(campaign.account, to_status.value, "operator", moved)
    return Resolution(
        batch_id=batch_id,
        campaign_id=batch.campaign_id,
        decision=decision,
        was=batch.state,
        batch_state=to_state,
        recipients=moved,
        recipient_status=to_status,
        campaign_state=settled or campaign.state,
        actor=who,
        reason=reason,
    )


def _check(
    state: BatchState, decision: Decision, batch_id: int, found: reconcile.Reconciliation
) -> None:
    if state not in (BatchState.UNKNOWN, BatchState.HELD):
        raise IllegalTransitionError(
            f"batch {batch_id} is {state.value}; only unknown or held batches are resolved"
        )
    if state is BatchState.UNKNOWN and found.state == "pending":
        when = f"{found.after:%Y-%m-%d %H:%M:%S %Z}" if found.after else "soon"
        raise IllegalTransitionError(
            f"batch {batch_id} is still being looked for in the provider's records "
            f"(reconciliation; next check at {when}): resolve it once reconciliation has "
            "ended unplaced or unsupported"
        )
    if state is BatchState.HELD and decision is Decision.SENT:
        raise IllegalTransitionError(
            f"batch {batch_id} is held: it was never sent, so it cannot be resolved as sent; "
            f"use `dispatcher batch resolve {batch_id} --failed` or "
            f"`dispatcher batch resend {batch_id}`"
        )
