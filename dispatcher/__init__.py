"""Bulk SMS campaigns through HTTP providers, dispatched by Celery workers.

    from dispatcher import enqueue_campaign, campaign_status

    campaign_id = enqueue_campaign(
        account="smsmode-main", text="Spring sale: -20% until Sunday",
        recipients=numbers, sender="SHOP", idempotency_key="spring-sale",
    )
    campaign_status(campaign_id)

Settings come from ``DISPATCHER_*`` environment variables or ``.env`` (see
dispatcher.settings). Every function here also takes ``deps=`` for code that wires its own.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from datetime import datetime
from typing import IO, TYPE_CHECKING, Any, Literal

from dispatcher.domain.audience import RecipientSource
from dispatcher.domain.models import CampaignProgress
from dispatcher.domain.statuses import (
    BatchState,
    CampaignKind,
    CampaignState,
    Outcome,
    RecipientStatus,
)
from dispatcher.errors import (
    CampaignValidationError,
    ConfigurationError,
    DispatcherError,
    IdempotencyConflictError,
    IllegalTransitionError,
    NotFoundError,
    PermanentProviderError,
    Problem,
    ProviderError,
    TransientProviderError,
    UnknownOutcomeError,
)

if TYPE_CHECKING:
    from dispatcher.services.deps import Deps
    from dispatcher.services.enqueue import CampaignRequest
    from dispatcher.services.estimate import Estimate

__all__ = [
    "BatchState",
    "CampaignKind",
    "CampaignProgress",
    "CampaignState",
    "CampaignValidationError",
    "ConfigurationError",
    "DispatcherError",
    "IdempotencyConflictError",
    "IllegalTransitionError",
    "NotFoundError",
    "Outcome",
    "PermanentProviderError",
    "Problem",
    "ProviderError",
    "RecipientStatus",
    "TransientProviderError",
    "UnknownOutcomeError",
    "campaign_status",
    "cancel_campaign",
    "enqueue_campaign",
    "estimate_campaign",
    "export_recipients",
    "pause_campaign",
    "resume_campaign",
]


def _deps(deps: Deps | None) -> Deps:
    if deps is not None:
        return deps
    from dispatcher.runtime import default_deps

    return default_deps()


def enqueue_campaign(
    *,
    account: str,
    text: str,
    recipients: RecipientSource,
    sender: str | None = None,
    send_at: datetime | None = None,
    idempotency_key: str | None = None,
    kind: CampaignKind | str = CampaignKind.NOTIFICATION,
    invalid: Literal["reject", "drop"] = "reject",
    default_region: str | None = None,
    options: Mapping[str, Any] | None = None,
    deps: Deps | None = None,
    progress: Callable[[int], None] | None = None,
) -> int:
    """Validate and store a campaign, and return its id at once; workers do the sending.

    ``recipients``: an iterable of numbers or of mappings (a number column plus fields), or a
    ``pathlib.Path`` / open text file of CSV. ``send_at``: timezone-aware; None sends now.
    ``idempotency_key``: calling again with the same key returns the same campaign.
    ``invalid``: "reject" (default) refuses the whole campaign if any number is invalid,
    listing them; "drop" leaves them out and counts them.
    ``kind``: "notification" (default) or "marketing" (a send window, Monday-Saturday
    08:00-20:00 Europe/Paris without French public holidays unless set, and a STOP mention).
    ``text`` may hold ``{field}`` placeholders filled from each recipient's row.
    ``options``: a mapping of the campaign's options (the STOP mention, transliteration, a
    send window, the encoding...) and the provider's own; docs/options.md lists every key
    with its type and default. An unknown or ill-typed option is a problem like any other.
    ``progress``: called with the rows read so far, every few thousand rows (a display).
    Raises CampaignValidationError naming every problem; nothing is written then.
    """
    from dispatcher.services.enqueue import enqueue

    request = _request(
        account=account,
        text=text,
        recipients=recipients,
        sender=sender,
        send_at=send_at,
        idempotency_key=idempotency_key,
        kind=kind,
        invalid=invalid,
        default_region=default_region,
        options=options,
        progress=progress,
    )
    return enqueue(_deps(deps), request)


def estimate_campaign(
    *,
    account: str,
    text: str,
    recipients: RecipientSource,
    sender: str | None = None,
    send_at: datetime | None = None,
    kind: CampaignKind | str = CampaignKind.NOTIFICATION,
    invalid: Literal["reject", "drop"] = "reject",
    default_region: str | None = None,
    options: Mapping[str, Any] | None = None,
    deps: Deps | None = None,
) -> Estimate:
    """What ``enqueue_campaign`` would do, without doing it: recipients kept and dropped (by
    reason), each distinct text's encoding and parts, the credits needed, the provider's
    balance and whether it suffices. Raises the same CampaignValidationError."""
    from dispatcher.services.enqueue import estimate

    request = _request(
        account=account, text=text, recipients=recipients, sender=sender, send_at=send_at,
        kind=kind, invalid=invalid, default_region=default_region, options=options,
    )  # fmt: skip
    return estimate(_deps(deps), request)


def _request(**given: Any) -> CampaignRequest:
    """The caller's arguments as a request, or CampaignValidationError naming each bad one:
    ``recipients=42`` or ``kind="promo"`` is a problem like any other, never a TypeError."""
    from dispatcher.domain.inputs import request_problems
    from dispatcher.services.enqueue import CampaignRequest

    if given["options"] is None:
        given["options"] = {}
    if problems := request_problems(given):
        raise CampaignValidationError(problems)
    return CampaignRequest(
        **{**given, "kind": CampaignKind(given["kind"]), "options": dict(given["options"])}
    )


def campaign_status(campaign_id: int, *, deps: Deps | None = None) -> CampaignProgress:
    """Recipients per normalised status, batches per state, and what was dropped."""
    from dispatcher.services import campaigns

    return campaigns.campaign_status(_deps(deps), campaign_id)


def export_recipients(campaign_id: int, out: IO[bytes], *, deps: Deps | None = None) -> None:
    """Write every recipient of a campaign as CSV (status, provider code and text...)."""
    from dispatcher.services import campaigns

    campaigns.export_recipients(_deps(deps), campaign_id, out)


def pause_campaign(campaign_id: int, *, actor: str | None = None, deps: Deps | None = None) -> None:
    """``actor``: who, as the audit trail names them; default ``os:<user>``."""
    from dispatcher.services import campaigns

    campaigns.pause_campaign(_deps(deps), campaign_id, actor=actor)


def resume_campaign(
    campaign_id: int, *, actor: str | None = None, deps: Deps | None = None
) -> None:
    """``actor``: who, as the audit trail names them; default ``os:<user>``."""
    from dispatcher.services import campaigns

    campaigns.resume_campaign(_deps(deps), campaign_id, actor=actor)


def cancel_campaign(campaign_id: int, *, actor: str | None = None, deps: Deps | None = None) -> int:
    """``actor``: who, as the audit trail names them; default ``os:<user>``."""
    from dispatcher.services import campaigns

    return campaigns.cancel_campaign(_deps(deps), campaign_id, actor=actor)
