"""enqueue: validate a campaign, stream its recipients into PostgreSQL, commit, wake the planner.

Everything is checked before the commit; one bad campaign is rejected whole with every
problem named, and nothing of it stays in the database. Calling again with the same
idempotency key returns the first campaign without reading the recipients again.
``estimate`` runs the same steps and rolls them back, returning what the campaign would be.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from decimal import Decimal
from typing import Any, Literal

from sqlalchemy import Connection, text

from dispatcher.domain.audience import AudienceFormatError, RecipientSource, read_recipients
from dispatcher.domain.numbers import NumberNormaliser, NumberRejected
from dispatcher.domain.statuses import CampaignKind, CampaignState
from dispatcher.domain.template import MissingFieldsError
from dispatcher.domain.text import Encoding
from dispatcher.errors import (
    CampaignValidationError,
    ConfigurationError,
    IdempotencyConflictError,
    Problem,
)
from dispatcher.persistence import campaigns, recipients
from dispatcher.providers.base import Provider
from dispatcher.services.content import CONTENT_OPTIONS, Content, plan_content
from dispatcher.services.deps import Deps
from dispatcher.services.estimate import CostCounter, Estimate, known_balance
from dispatcher.services.personalise import choose_mode

log = logging.getLogger(__name__)

MAX_LISTED_PROBLEMS = 100
# Options every provider reads; each adapter adds its own (``campaign_options``).
COMMON_OPTIONS = (
    frozenset(
        {"stop", "allow_replies", "method", "encoding", "provider_scheduling", "ignore_balance"}
    )
    | CONTENT_OPTIONS
)


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


class _RolledBack(Exception):  # noqa: N818 (control flow, never leaves this module)
    """Ends a dry run's transaction, carrying what it found."""

    def __init__(self, estimate: Estimate) -> None:
        self.estimate = estimate


def enqueue(deps: Deps, request: CampaignRequest) -> int:
    campaign_id = _run(deps, request, dry_run=False)
    assert isinstance(campaign_id, int)
    return campaign_id


def estimate(deps: Deps, request: CampaignRequest) -> Estimate:
    """What enqueue would do with this request (recipients kept and dropped, texts, parts,
    credits, the balance), or the same CampaignValidationError; nothing is written."""
    found = _run(deps, request, dry_run=True)
    assert isinstance(found, Estimate)
    return found


def _run(deps: Deps, request: CampaignRequest, *, dry_run: bool) -> int | Estimate:
    account = deps.settings.account(request.account)
    adapter = deps.adapters(account.name)
    forced = _forced_encoding(request.options.get("encoding"))
    content = plan_content(adapter, request.text or "", kind=request.kind, sender=request.sender,
                           options=request.options, forced=forced)  # fmt: skip
    values = _campaign_values(deps, adapter, request, content)
    balance, note = (None, "not checked (ignore_balance)")
    if dry_run or not content.options.get("ignore_balance"):
        balance, note = known_balance(deps, adapter)
    try:
        with deps.db.transaction() as conn:
            if not dry_run and request.idempotency_key is not None:
                existing = campaigns.find_by_key(conn, request.idempotency_key)
                if existing is not None:
                    return _same_campaign(existing, values["fingerprint"], request.idempotency_key)
            if dry_run:
                values["idempotency_key"] = None
            campaign_id = campaigns.insert_campaign(conn, values)
            if campaign_id is None:  # a concurrent call with the same key committed first
                existing = campaigns.find_by_key(conn, request.idempotency_key or "")
                assert existing is not None
                return _same_campaign(
                    existing, values["fingerprint"], request.idempotency_key or ""
                )
            found = _fill(deps, conn, campaign_id, adapter, request, content, values)
            found.balance, found.balance_note = balance, note
            if (
                not dry_run
                and found.sufficient is False
                and not content.options.get("ignore_balance")
            ):
                needs = f"the campaign needs {found.credits:g} credits"
                has = f"account {account.name!r} has {balance}"
                raise CampaignValidationError(
                    [Problem("balance", f"{needs} and {has}; option ignore_balance sends anyway")]
                )
            if dry_run:
                raise _RolledBack(found)
    except _RolledBack as rolled_back:
        return rolled_back.estimate
    log.info("campaign %s enqueued: %s recipients on %s, dropped %s",
             campaign_id, found.recipients, account.name, dict(found.dropped))  # fmt: skip
    if _starts_now(request, deps.clock()):
        _wake_planner(deps, campaign_id)
    return campaign_id


def _fill(
    deps: Deps, conn: Connection, campaign_id: int, adapter: Provider, request: CampaignRequest,
    content: Content, values: dict[str, Any],
) -> Estimate:  # fmt: skip
    """Copy the recipients in, remove what must go, decide how texts travel, count the cost."""
    region = request.default_region or adapter.account.default_region
    problems, rows, invalid = _copy(
        conn, campaign_id, request, content, region, values["batch_size"]
    )
    if invalid and request.invalid == "reject":
        shown = problems[:MAX_LISTED_PROBLEMS]
        raise CampaignValidationError(shown, more=max(0, invalid - len(shown)))
    opted_out, opted_rows = recipients.remove_opted_out(conn, campaign_id)
    duplicates = recipients.remove_duplicates(conn, campaign_id)
    kept = rows - opted_rows - duplicates
    dropped = {"invalid": invalid, "duplicates": duplicates, "opted_out": opted_out}
    if kept == 0:
        raise CampaignValidationError(
            [Problem("recipients", f"no recipient left to send to (removed: {dropped})")]
        )
    checks = _stop_rule(conn, campaign_id, request, content)
    force = content.encoding
    if content.personalised:
        mode, cost, more = choose_mode(conn, campaign_id, adapter, request.sender, content, values)
        checks += more
        content.options["personalised"] = mode
        conn.execute(text("UPDATE campaigns SET options = CAST(:o AS jsonb) WHERE id = :id"),
                     {"o": json.dumps(content.options), "id": campaign_id})  # fmt: skip
    else:
        cost = CostCounter(adapter, content.options, force)
        cost.add(content.text, kept)
    if checks:
        raise CampaignValidationError(checks)
    campaigns.record_audience(conn, campaign_id, recipients_count=kept, dropped=dropped)
    credits = cost.parts * adapter.account.credits_per_sms
    return Estimate(
        account=adapter.account.name, provider=adapter.name, recipients=kept, dropped=dropped,
        texts=cost.shown, distinct_texts=cost.distinct, parts=cost.parts, credits=credits,
        non_gsm=content.non_gsm, transliterated=content.replaced, stop=content.stop,
        window=content.options.get("window"),
    )  # fmt: skip


def _copy(
    conn: Connection, campaign_id: int, request: CampaignRequest, content: Content, region: str,
    batch_size: int,
) -> tuple[list[Problem], int, int]:  # fmt: skip
    """Stream the producer's rows into recipients: (problems, rows written, rows invalid)."""
    normaliser = NumberNormaliser(region)
    problems: list[Problem] = []
    invalid = 0
    with recipients.writer(conn, campaign_id, batch_size) as writer:
        try:
            for raw in read_recipients(request.recipients):
                try:
                    msisdn = normaliser.normalise(raw.number)
                    personal = (
                        content.render_text(raw.fields or {}) if content.personalised else None
                    )
                except NumberRejected as exc:
                    problem = Problem("recipients", exc.reason, raw.row, raw.number)
                except MissingFieldsError as exc:
                    problem = Problem(
                        "recipients",
                        f"no value for {', '.join(exc.missing or exc.ambiguous)}",
                        raw.row,
                    )
                else:
                    writer.add(raw.row, msisdn, raw.fields, personal)
                    continue
                invalid += 1
                if len(problems) < MAX_LISTED_PROBLEMS:
                    problems.append(problem)
        except AudienceFormatError as exc:
            raise CampaignValidationError([Problem("recipients", str(exc))]) from None
    return problems, writer.rows, invalid


def _stop_rule(
    conn: Connection, campaign_id: int, request: CampaignRequest, content: Content
) -> list[Problem]:
    """French operators block marketing SMS from a custom sender without a STOP mention."""
    if (
        request.kind is CampaignKind.MARKETING and request.sender and content.stop == "none"
        and not content.options.get("allow_without_stop")
        and recipients.has_numbers_in(conn, campaign_id, "33")
    ):  # fmt: skip
        return [Problem(
            "stop_mention", "a marketing campaign to French numbers with a custom sender needs a "
            "STOP mention: this provider adds none and the account has no stop_text (set "
            "DISPATCHER_ACCOUNTS__<NAME>__STOP_TEXT), or pass the option allow_without_stop",
        )]  # fmt: skip
    return []


def _campaign_values(
    deps: Deps, adapter: Provider, request: CampaignRequest, content: Content
) -> dict[str, Any]:
    """The campaign row, or every problem with the request."""
    problems = list(content.problems)
    options = content.options
    known = COMMON_OPTIONS | adapter.campaign_options
    unknown = sorted(set(request.options) - known)
    if unknown:
        problems.append(Problem("options", f"unknown option(s) {unknown} for {adapter.name}; "
                                f"known: {sorted(known)}"))  # fmt: skip
    if request.send_at is not None and request.send_at.tzinfo is None:
        problems.append(
            Problem("send_at", "must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
        )
    if options.get("provider_scheduling") and not adapter.can_schedule:
        problems.append(
            Problem("options.provider_scheduling", f"{adapter.name} cannot schedule sends")
        )
    if request.options.get("encoding") not in (None, "auto", "gsm", "unicode"):
        problems.append(Problem("options.encoding", "must be 'auto', 'gsm' or 'unicode'",
                                value=str(request.options.get("encoding"))))  # fmt: skip
    if not content.personalised:
        problems += adapter.validate(text=content.text, sender=request.sender, options=options)
    method = options.get("method") or adapter.method
    try:
        batch_size = adapter.batch_size(method)
    except (ConfigurationError, KeyError) as exc:
        problems.append(Problem("options.method", str(exc)))
        batch_size = 0
    if problems:
        raise CampaignValidationError(list(dict.fromkeys(problems)))
    measured = adapter.measure(content.text, force=content.encoding)
    values = {
        "idempotency_key": request.idempotency_key, "account": adapter.account.name,
        "provider": adapter.name, "kind": request.kind.value, "text": content.text,
        "sender": request.sender, "encoding": measured.encoding.value,
        "segments": measured.segments, "method": method, "batch_size": batch_size,
        "options": options, "state": CampaignState.SCHEDULED.value,
        "send_at": request.send_at or deps.clock(),
    }  # fmt: skip
    identity = {k: v for k, v in values.items() if k not in ("idempotency_key", "send_at")}
    identity["send_at"] = request.send_at.isoformat() if request.send_at else None
    values["fingerprint"] = hashlib.sha256(
        json.dumps(identity, sort_keys=True, default=str).encode()
    ).hexdigest()
    return values


def _forced_encoding(value: object) -> Encoding | None:
    return Encoding(str(value)) if value in ("gsm", "unicode") else None


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
        log.warning("could not publish the plan of campaign %s; the sweeper will", campaign_id,
                    exc_info=True)  # fmt: skip


_ = Decimal  # the Estimate's balance type, for readers of this module
