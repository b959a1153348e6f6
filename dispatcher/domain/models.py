"""Value objects passed between the services, the repositories and the provider adapters.

Repositories return these plain dataclasses, never ORM objects, so a service can be read and
tested without a database session in mind.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any

from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.statuses import (
    BatchState,
    CampaignKind,
    CampaignState,
    Outcome,
    RecipientStatus,
)
from dispatcher.domain.text import Encoding
from dispatcher.domain.waiting import WaitingReason


@dataclass(frozen=True)
class Campaign:
    id: int
    account: str
    provider: str
    kind: CampaignKind
    text: str
    sender: str | None
    encoding: Encoding
    segments: int
    state: CampaignState
    send_at: datetime
    batch_size: int
    method: str
    # The provider's model (``Provider.options_model``), a subclass of CampaignOptions.
    options: CampaignOptions
    idempotency_key: str | None
    created_at: datetime


@dataclass(frozen=True)
class Batch:
    id: int
    campaign_id: int
    seq: int
    size: int
    state: BatchState
    attempts: int
    due_at: datetime
    provider_ref: str | None
    submitted_at: datetime | None
    last_code: str | None
    last_message: str | None
    retries: int = 0  # transient answers so far: the send backoff's counter, never an attempt


@dataclass(frozen=True)
class OutboundBatch:
    """Everything an adapter needs to build one send request; no database handles."""

    batch_id: int
    campaign_id: int
    client_ref: str
    text: str
    encoding: Encoding
    segments: int
    sender: str | None
    msisdns: Sequence[str]
    recipient_ids: Sequence[int]
    method: str
    options: CampaignOptions = field(default_factory=CampaignOptions)
    # Set only when the campaign asks the provider to hold the messages until this time.
    provider_send_at: datetime | None = None
    callback_url: str | None = None
    # Personalised campaigns: one text per recipient (same order as ``msisdns``); None when
    # every recipient gets ``text``. Adapters that take one text per request never see this
    # (the planner groups recipients by text); sMsmode's batch file takes it as it is.
    texts: Sequence[str] | None = None


@dataclass(frozen=True)
class RecipientResult:
    """A provider's per-destination answer (for providers that answer per number)."""

    msisdn: str
    outcome: Outcome
    code: str
    description: str = ""
    message_id: str | None = None


@dataclass(frozen=True)
class SendResult:
    """What one send request proved. Never raised: recorded."""

    outcome: Outcome
    code: str | None
    description: str
    provider_ref: str | None = None
    http_status: int | None = None
    recipients: Sequence[RecipientResult] = ()
    # Seconds the provider asks us to wait before the next request (request-rate limits).
    retry_after: float | None = None
    # The provider refused for its request-rate limit: wait for the window, and do not count
    # the attempt against the batch (Envoyer SMS Pro's HTTP 400 over its hourly limit).
    rate_limited: bool = False
    # The account's balance the answer reported, when it reports one (SMSFactor's credits).
    balance: Decimal | None = None
    # False when no HTTP answer came at all (refused, timed out, dropped): the circuit breaker
    # tells a silent provider from one that answers (dispatcher/breaker.py::judge).
    answered: bool = True


@dataclass(frozen=True)
class Report:
    """One delivery report for one recipient, as the provider gave it and as we read it.

    A report names its recipient by one of: ``recipient_id`` (our id, given to providers that
    take a reference per recipient, e.g. SMSFactor's gsmsmsid), ``message_id`` (the provider's
    id for that one recipient, e.g. the bulk gateway's), or ``msisdn`` within its submission
    (``provider_ref``, e.g. sMsmode's smsID).
    """

    msisdn: str
    status: RecipientStatus
    raw_code: str
    raw_text: str = ""
    occurred_at: datetime | None = None
    provider_ref: str | None = None
    client_ref: str | None = None
    recipient_id: int | None = None
    message_id: str | None = None
    # The provider says the recipient asked to receive no more SMS (Envoyer's "en STOP SMS").
    opted_out: bool = False
    # When the provider took the message, where its report says (the bulk gateway's
    # "submitdate"): what places a report for a message id we never stored
    # (services/reconcile_pushed.py).
    submitted_at: datetime | None = None


@dataclass(frozen=True)
class InboundMessage:
    """An SMS a recipient sent us (a reply, or an SMS to a rented number)."""

    from_msisdn: str
    text: str
    received_at: datetime | None = None
    to: str | None = None  # our number or short code
    provider_ref: str | None = None  # the submission it answers, when the provider links it
    client_ref: str | None = None
    message_id: str | None = None  # the provider's id of this inbound SMS, for de-duplication


@dataclass(frozen=True)
class PollResult:
    """A polling answer: the reports it carried, or why there were none."""

    outcome: Outcome
    reports: Sequence[Report] = ()
    code: str | None = None
    description: str = ""
    # True when the provider says it no longer knows this submission (past its horizon).
    gone: bool = False
    # As SendResult's: no HTTP answer at all; refused for the provider's request rate.
    answered: bool = True
    rate_limited: bool = False


@dataclass(frozen=True)
class CampaignTimes:
    """When a campaign was created, was to start, started and finished (``dispatcher status``)."""

    provider: str
    created_at: datetime
    send_at: datetime
    started_at: datetime | None
    finished_at: datetime | None


@dataclass(frozen=True)
class CampaignProgress:
    """What ``campaign_status`` returns."""

    campaign_id: int
    state: CampaignState
    account: str
    total: int
    by_status: Mapping[RecipientStatus, int]
    batches_by_state: Mapping[BatchState, int]
    dropped: Mapping[str, int]
    # Set once its rows were exported and dropped (services/retention.py).
    archived_at: datetime | None = None
    archive_path: str | None = None
    # Why it is not moving, first what decides (domain/waiting.py); empty when nothing waits.
    waiting: Sequence[WaitingReason] = ()
    times: CampaignTimes | None = None  # not in as_dict(): the JSON stays what callers parse

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready, for the CLI and the HTTP service."""
        archived = (
            {"archived": {"at": self.archived_at.isoformat(), "path": self.archive_path}}
            if self.archived_at is not None
            else {}
        )
        return {
            "id": self.campaign_id,
            "state": self.state.value,
            "account": self.account,
            "recipients": self.total,
            "final": self.final,
            "attention": self.attention,
            "by_status": {s.value: n for s, n in self.by_status.items()},
            "batches": {s.value: n for s, n in self.batches_by_state.items()},
            "dropped": dict(self.dropped),
            "waiting": [reason.as_dict() for reason in self.waiting],
        } | archived

    @property
    def final(self) -> int:
        return sum(n for s, n in self.by_status.items() if s.is_final)

    @property
    def attention(self) -> dict[str, int]:
        """What waits for an operator, whatever the state: a running campaign can already have
        a held batch. All zero when nothing does. (Once reconciliation lands, batches still
        being reconciled get their own count here.)"""
        return {
            "held_batches": self.batches_by_state.get(BatchState.HELD, 0),
            "unknown_batches": self.batches_by_state.get(BatchState.UNKNOWN, 0),
            "unknown_recipients": self.by_status.get(RecipientStatus.UNKNOWN, 0),
        }

    @property
    def settled(self) -> bool:
        """True once nothing changes without an operator or a late report: done, cancelled, or
        waiting for an operator (``needs_attention``)."""
        return self.state.is_settled
