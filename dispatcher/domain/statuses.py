"""The small vocabularies everything else speaks: outcomes and states.

A provider's raw codes are mapped onto these by a table per provider; the raw code and text
are always kept beside the normalised value.
"""

from __future__ import annotations

from enum import StrEnum


class Outcome(StrEnum):
    """What a provider's answer to one request proves."""

    ACCEPTED = "accepted"  # the provider took the messages
    TRANSIENT = "transient"  # nothing was accepted; trying later may work
    PERMANENT = "permanent"  # refused; trying again will not help
    UNKNOWN = "unknown"  # may have been accepted: never re-sent automatically


class RecipientStatus(StrEnum):
    """Where one recipient's message stands."""

    QUEUED = "queued"
    UNKNOWN = "unknown"
    SUBMITTED = "submitted"
    DELIVERED = "delivered"
    FAILED = "failed"
    EXPIRED = "expired"
    CANCELLED = "cancelled"

    @property
    def rank(self) -> int:
        """Updates only move to a higher rank, so a late report never undoes a final one."""
        return _RANK[self]

    @property
    def is_final(self) -> bool:
        return self.rank == FINAL_RANK


FINAL_RANK = 3
_RANK = {
    RecipientStatus.QUEUED: 0,
    RecipientStatus.UNKNOWN: 1,
    RecipientStatus.SUBMITTED: 2,
    RecipientStatus.DELIVERED: FINAL_RANK,
    RecipientStatus.FAILED: FINAL_RANK,
    RecipientStatus.EXPIRED: FINAL_RANK,
    RecipientStatus.CANCELLED: FINAL_RANK,
}
FINAL_STATUSES = frozenset(s for s in RecipientStatus if s.is_final)


class BatchState(StrEnum):
    """A batch's life: pending -> claimed -> sending -> submitted -> done.

    ``claimed`` is safe to hand back (nothing left yet); ``sending`` is committed just before
    the HTTP request, so a batch found there after a crash was possibly sent and becomes
    ``unknown``, never re-sent on its own. ``held`` waits for an operator (it no longer fits).
    """

    PENDING = "pending"
    CLAIMED = "claimed"
    SENDING = "sending"
    SUBMITTED = "submitted"
    DONE = "done"
    FAILED = "failed"
    UNKNOWN = "unknown"
    HELD = "held"
    CANCELLED = "cancelled"

    @property
    def is_final(self) -> bool:
        return self in _FINAL_BATCH


_FINAL_BATCH = frozenset({BatchState.DONE, BatchState.FAILED, BatchState.CANCELLED})


class CampaignState(StrEnum):
    """scheduled -> running -> done; paused and cancelled by the user.

    ``done`` only when every recipient is final (docs/design-rules.md 1.10). When nothing can move
    any more but a batch is held or unknown, or a recipient is unknown, the campaign is
    ``needs_attention`` instead, with counts (``CampaignProgress.attention``); a batch that
    comes back to life (a late answer, a callback, an operator's re-send) takes it back to
    ``running``. ``persistence.campaigns.finish_if_settled`` decides between the three.
    """

    SCHEDULED = "scheduled"
    RUNNING = "running"
    PAUSED = "paused"
    NEEDS_ATTENTION = "needs_attention"
    DONE = "done"
    CANCELLED = "cancelled"

    @property
    def is_settled(self) -> bool:
        """Nothing will change without an operator or a late report."""
        return self in _SETTLED_CAMPAIGN


_SETTLED_CAMPAIGN = frozenset(
    {CampaignState.NEEDS_ATTENTION, CampaignState.DONE, CampaignState.CANCELLED}
)
# Batch states that still move on their own, and those that wait for an operator.
ACTIVE_BATCH_STATES = frozenset(
    {BatchState.PENDING, BatchState.CLAIMED, BatchState.SENDING, BatchState.SUBMITTED}
)
STUCK_BATCH_STATES = frozenset({BatchState.HELD, BatchState.UNKNOWN})


class CampaignKind(StrEnum):
    NOTIFICATION = "notification"
    MARKETING = "marketing"
