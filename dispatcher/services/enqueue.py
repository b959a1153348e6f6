"""enqueue: validate a campaign, stream its recipients into PostgreSQL, commit, wake the planner.

Everything is checked before the commit; one bad campaign is rejected whole with every
problem named, and nothing of it stays in the database. Calling again with the same
idempotency key returns the first campaign without reading the recipients again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from dispatcher.domain.audience import AudienceFormatError, RecipientSource, read_recipients
from dispatcher.domain.numbers import NumberNormaliser, NumberRejected
from dispatcher.domain.statuses import CampaignKind, CampaignState
from dispatcher.domain.text import Encoding
from dispatcher.errors import (
    CampaignValidationError,
    ConfigurationError,
    IdempotencyConflictError,
    Problem,
)
from dispatcher.persistence import campaigns, recipients
from dispatcher.providers.base import Provider
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

MAX_LISTED_PROBLEMS = 100
# Options every provider reads; each adapter adds its own (``campaign_options``).
COMMON_OPTIONS = frozenset({"stop", "allow_replies", "method", "encoding", "provider_scheduling"})


@dataclass(frozen=True)
class CampaignRequest:
    account: str
    text: str
    recipients: RecipientSource
    sender: str | None = None
    send_at: datetime | None = None
    idempotency_key: str | None = None
    kind: CampaignKind = CampaignKind.NOTIFICATION
    invalid: Literal["reject", "drop"] = "reject"
    default_region: str | None = None
    options: Mapping[str, Any] = field(default_factory=dict)


def enqueue(deps: Deps, request: CampaignRequest) -> int:
    account = deps.settings.account(request.account)
    adapter = deps.adapters(account.name)
    values = _campaign_values(deps, adapter, request)

    with deps.db.transaction() as conn:
        if request.idempotency_key is not None:
            existing = campaigns.find_by_key(conn, request.idempotency_key)
            if existing is not None:
                return _same_campaign(existing, values["fingerprint"], request.idempotency_key)
        campaign_id = campaigns.insert_campaign(conn, values)
        if campaign_id is None:  # a concurrent call with the same key committed first
            existing = campaigns.find_by_key(conn, request.idempotency_key or "")
            assert existing is not None
            return _same_campaign(existing, values["fingerprint"], request.idempotency_key or "")

        normaliser = NumberNormaliser(request.default_region or account.default_region)
        problems: list[Problem] = []
        invalid = 0
        with recipients.writer(conn, campaign_id, values["batch_size"]) as writer:
            try:
                for raw in read_recipients(request.recipients):
                    try:
                        msisdn = normaliser.normalise(raw.number)
                    except NumberRejected as exc:
                        invalid += 1
                        if len(problems) < MAX_LISTED_PROBLEMS:
                            problems.append(Problem("recipients", exc.reason, raw.row, raw.number))
                        continue
                    writer.add(raw.row, msisdn, raw.fields)
            except AudienceFormatError as exc:
                raise CampaignValidationError([Problem("recipients", str(exc))]) from None
        if invalid and request.invalid == "reject":
            raise CampaignValidationError(problems, more=invalid - len(problems))

        opted_out, opted_rows = recipients.remove_opted_out(conn, campaign_id)
        duplicates = recipients.remove_duplicates(conn, campaign_id)
        kept = writer.rows - opted_rows - duplicates
        dropped = {"invalid": invalid, "duplicates": duplicates, "opted_out": opted_out}
        if kept == 0:
            raise CampaignValidationError(
                [Problem("recipients", f"no recipient left to send to (removed: {dropped})")]
            )
        campaigns.record_audience(conn, campaign_id, recipients_count=kept, dropped=dropped)
    log.info(
        "campaign %s enqueued: %s recipients on %s, dropped %s",
        campaign_id,
        kept,
        account.name,
        dropped,
    )
    if _starts_now(request, deps.clock()):
        _wake_planner(deps, campaign_id)
    return campaign_id


def _campaign_values(deps: Deps, adapter: Provider, request: CampaignRequest) -> dict[str, Any]:
    """The campaign row, or every problem with the request."""
    problems: list[Problem] = []
    options = dict(request.options)
    known = COMMON_OPTIONS | adapter.campaign_options
    unknown = sorted(set(options) - known)
    if unknown:
        problems.append(
            Problem(
                "options", f"unknown option(s) {unknown} for {adapter.name}; known: {sorted(known)}"
            )
        )
    if request.send_at is not None and request.send_at.tzinfo is None:
        problems.append(
            Problem("send_at", "must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
        )
    if options.get("provider_scheduling") and not adapter.can_schedule:
        problems.append(
            Problem("options.provider_scheduling", f"{adapter.name} cannot schedule sends")
        )

    encoding = _forced_encoding(options.get("encoding"), problems)
    text_measure = adapter.measure(request.text or "", force=encoding)
    if encoding is Encoding.GSM and text_measure.non_gsm:
        chars = ", ".join(repr(c) for c in text_measure.non_gsm)
        problems.append(Problem("text", f"characters outside {adapter.name}'s GSM set: {chars}"))
    problems += adapter.validate(text=request.text or "", sender=request.sender, options=options)

    method = options.get("method") or adapter.method
    try:
        batch_size = adapter.batch_size(method)
    except (ConfigurationError, KeyError) as exc:
        problems.append(Problem("options.method", str(exc)))
        batch_size = 0
    if problems:
        raise CampaignValidationError(problems)

    send_at = request.send_at or deps.clock()
    values = {
        "idempotency_key": request.idempotency_key,
        "account": adapter.account.name,
        "provider": adapter.name,
        "kind": request.kind.value,
        "text": request.text,
        "sender": request.sender,
        "encoding": text_measure.encoding.value,
        "segments": text_measure.segments,
        "method": method,
        "batch_size": batch_size,
        "options": options,
        "state": CampaignState.SCHEDULED.value,
        "send_at": send_at,
    }
    identity = {k: v for k, v in values.items() if k not in ("idempotency_key", "send_at")}
    identity["send_at"] = request.send_at.isoformat() if request.send_at else None
    values["fingerprint"] = hashlib.sha256(
        json.dumps(identity, sort_keys=True, default=str).encode()
    ).hexdigest()
    return values


def _forced_encoding(value: object, problems: list[Problem]) -> Encoding | None:
    if value in (None, "auto"):
        return None
    try:
        return Encoding(str(value))
    except ValueError:
        problems.append(
            Problem("options.encoding", "must be 'auto', 'gsm' or 'unicode'", value=str(value))
        )
        return None


def _same_campaign(existing: tuple[int, str], fingerprint: str, key: str) -> int:
    campaign_id, known = existing
    if known != fingerprint:
        raise IdempotencyConflictError(
            f"idempotency key {key!r} already names campaign {campaign_id} with other parameters"
        )
    return campaign_id


def _starts_now(request: CampaignRequest, now: datetime) -> bool:
    return bool(request.options.get("provider_scheduling")) or (
        request.send_at is None or request.send_at <= now
    )


def _wake_planner(deps: Deps, campaign_id: int) -> None:
    """Best effort: if the broker is down, the sweeper starts the campaign from PostgreSQL."""
    try:
        deps.publisher.plan(campaign_id)
    except Exception:  # the campaign is committed; losing this message loses nothing
        log.warning(
            "could not publish the plan of campaign %s; the sweeper will",
            campaign_id,
            exc_info=True,
        )
