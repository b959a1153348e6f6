"""The steps enqueue and estimate share: check a campaign whole, then fill in its rows.

``prepare`` runs before anything is written: the options parsed once with the provider's
model, the text planned, every problem collected, the campaign row and its fingerprint made.
``fill`` runs inside the caller's unit of work (enqueue's transaction, which commits, or
estimate's, which always rolls back): recipients copied in, what must go removed, how
personalised texts travel decided, the cost counted. One bad campaign is refused whole with
every problem named, and nothing of it stays in the database.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Literal

from sqlalchemy import Connection

from dispatcher.domain.audience import RawRecipient, RecipientSource, read_recipients
from dispatcher.domain.inputs import request_problems, row_problems
from dispatcher.domain.numbers import NumberNormaliser
from dispatcher.domain.options import CampaignOptions
from dispatcher.domain.problem_tally import ProblemTally
from dispatcher.domain.recipient_digest import RecipientDigest
from dispatcher.domain.statuses import CampaignKind, CampaignState
from dispatcher.errors import (
    AudienceFormatError,
    CampaignValidationError,
    ConfigurationError,
    MissingFieldsError,
    NumberRejected,
    Problem,
)
from dispatcher.persistence import campaigns, partitions, recipients
from dispatcher.providers.base import Provider
from dispatcher.services.content import Content, plan_content
from dispatcher.services.deps import Deps
from dispatcher.services.estimate import CostCounter, Estimate
from dispatcher.services.personalise import choose_mode

MAX_LISTED_PROBLEMS = 100
PROGRESS_EVERY = 5_000


@dataclass(frozen=True)
class CampaignRequest:
    """What a producer asks for. ``options`` stay the caller's mapping until ``prepare``
    parses them with the provider's model (docs/options.md); nothing reads them before."""

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
    # The API key that asked (HTTP service only); recorded, not part of the fingerprint.
    created_by: str | None = None
    # Told the rows read so far every PROGRESS_EVERY rows (the CLI's display); not stored.
    progress: Callable[[int], None] | None = field(default=None, compare=False)


@dataclass(frozen=True)
class Intake:
    """A request checked whole: what enqueue and estimate both start from."""

    request: CampaignRequest
    adapter: Provider
    content: Content  # content.options: the parsed options, with the text's decisions
    row: Mapping[str, Any]  # the campaigns row, fingerprint included
    batch_size: int

    @property
    def options(self) -> CampaignOptions:
        return self.content.options

    @property
    def fingerprint(self) -> str:
        return str(self.row["fingerprint"])


def prepare(deps: Deps, request: CampaignRequest) -> Intake:
    """The campaign as it will be stored, or CampaignValidationError naming every problem."""
    if problems := request_problems(vars(request)):  # types and texts, before anything reads
        raise CampaignValidationError(problems)
    account = deps.settings.account(request.account)
    adapter = deps.adapters(account.name)
    options, problems = adapter.options_model.checked(request.options, provider=adapter.name)
    content = plan_content(adapter, request.text or "", kind=request.kind, options=options)
    problems += content.problems
    problems += _request_problems(adapter, request, content)
    method = content.options.method or adapter.method
    try:
        batch_size = adapter.batch_size(method)
    except (ConfigurationError, KeyError) as exc:
        problems.append(Problem("options.method", str(exc)))
        batch_size = 0
    if problems:
        raise CampaignValidationError(list(dict.fromkeys(problems)))
    row = _campaign_row(deps, adapter, request, content, method, batch_size)
    return Intake(request, adapter, content, row, batch_size)


def fill(conn: Connection, campaign_id: int, intake: Intake) -> Estimate:
    """Copy the recipients in, remove what must go, decide how texts travel, count the cost.

    The returned estimate carries no balance: the caller asked for it before its transaction.
    """
    request, adapter, content = intake.request, intake.adapter, intake.content
    # Only a campaign with an idempotency key can be asked for again: only its list is hashed.
    digest = RecipientDigest() if request.idempotency_key is not None else None
    partitions.open_recipients(conn, campaign_id)  # the campaign's own table, attached last
    tally, rows, invalid = _copy(conn, campaign_id, intake, digest)
    if invalid and request.invalid == "reject":
        shown = tally.kept
        raise CampaignValidationError(
            shown, more=max(0, invalid - len(shown)), groups=tally.groups()
        )
    opted_out, opted_rows = recipients.remove_opted_out(conn, campaign_id)
    duplicates = recipients.remove_duplicates(conn, campaign_id)
    kept = rows - opted_rows - duplicates
    dropped = {"invalid": invalid, "duplicates": duplicates, "opted_out": opted_out}
    if kept == 0:
        raise CampaignValidationError(
            [Problem("recipients", f"no recipient left to send to (removed: {dropped})")]
        )
    checks = _stop_rule(conn, campaign_id, request, content)
    if content.personalised:
        mode, cost, more = choose_mode(
            conn, campaign_id, adapter, request.sender, content, intake.batch_size
        )
        checks += more
        decided = content.options.model_copy(update={"personalised": mode})
        campaigns.record_options(conn, campaign_id, decided.to_stored())
    else:
        cost = CostCounter(adapter, content.options)
        cost.add(content.text, kept)
    if checks:
        raise CampaignValidationError(checks)
    campaigns.record_audience(
        conn, campaign_id, recipients_count=kept, dropped=dropped,
        recipients_digest=digest.hexdigest() if digest is not None else None,
    )  # fmt: skip
    partitions.attach(conn, campaign_id)  # indexed, analysed; the parent locked until commit
    return Estimate(
        account=adapter.account.name, provider=adapter.name, recipients=kept, dropped=dropped,
        texts=cost.shown, distinct_texts=cost.distinct, parts=cost.parts,
        credits=cost.parts * adapter.account.credits_per_sms, non_gsm=content.non_gsm,
        transliterated=content.replaced, stop=content.stop, window=content.options.window,
    )  # fmt: skip


def _request_problems(
    adapter: Provider, request: CampaignRequest, content: Content
) -> list[Problem]:
    """What is wrong with the request beyond its options' types and its text's planning."""
    problems: list[Problem] = []
    if request.send_at is not None and request.send_at.tzinfo is None:
        problems.append(
            Problem("send_at", "must be timezone-aware (e.g. datetime(..., tzinfo=UTC))")
        )
    if content.options.provider_scheduling and not adapter.can_schedule:
        problems.append(
            Problem("options.provider_scheduling", f"{adapter.name} cannot schedule sends")
        )
    if not content.personalised:  # personalised texts are checked one by one (choose_mode)
        problems += adapter.validate(
            text=content.text, sender=request.sender, options=content.options
        )
    return problems


def _campaign_row(
    deps: Deps, adapter: Provider, request: CampaignRequest, content: Content, method: str,
    batch_size: int,
) -> dict[str, Any]:  # fmt: skip
    """The campaigns row; its fingerprint is what a repeated idempotency key's parameters
    must match (its list must match ``recipients_digest``, which ``fill`` records)."""
    measured = adapter.measure(content.text, force=content.encoding)
    row: dict[str, Any] = {
        "idempotency_key": request.idempotency_key, "account": adapter.account.name,
        "provider": adapter.name, "kind": request.kind.value, "text": content.text,
        "sender": request.sender, "encoding": measured.encoding.value,
        "segments": measured.segments, "method": method, "batch_size": batch_size,
        "options": content.options.to_stored(), "state": CampaignState.SCHEDULED.value,
        "send_at": request.send_at or deps.clock(),
    }  # fmt: skip
    identity = {k: v for k, v in row.items() if k not in ("idempotency_key", "send_at")}
    identity["send_at"] = request.send_at.isoformat() if request.send_at else None
    row["fingerprint"] = hashlib.sha256(
        json.dumps(identity, sort_keys=True, default=str).encode()
    ).hexdigest()
    row["created_by"] = request.created_by
    return row


def _copy(
    conn: Connection, campaign_id: int, intake: Intake, digest: RecipientDigest | None
) -> tuple[ProblemTally, int, int]:
    """Stream the producer's rows into recipients: (problems, rows written, rows invalid).

    Every row read, valid or not, goes through ``digest``: the list a repeated idempotency
    key must bring again (enqueue.py)."""
    request, content = intake.request, intake.content
    normaliser = NumberNormaliser(request.default_region or intake.adapter.account.default_region)
    personalised = content.personalised  # read once: the loop runs a million times
    problems = ProblemTally(MAX_LISTED_PROBLEMS)
    invalid = 0
    with recipients.writer(conn, campaign_id, intake.batch_size) as writer:
        try:
            rows = read_recipients(request.recipients)
            if request.progress is not None:  # wrapped only then: the plain loop stays as fast
                rows = _reporting(rows, request.progress)
            for raw in digest.over(rows) if digest is not None else rows:
                if bad := row_problems(raw.row, raw.number, raw.fields):  # before COPY sees it
                    invalid += 1
                    for one in bad:
                        problems.add(one)
                    continue
                try:
                    msisdn = normaliser.normalise(raw.number)
                    personal = content.render_text(raw.fields or {}) if personalised else None
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
                problems.add(problem)
        except AudienceFormatError as exc:
            raise CampaignValidationError([Problem("recipients", str(exc))]) from None
    return problems, writer.rows, invalid


def _reporting(
    rows: Iterator[RawRecipient], progress: Callable[[int], None]
) -> Iterator[RawRecipient]:
    """``rows`` unchanged, telling ``progress`` how many were read every PROGRESS_EVERY."""
    read = 0
    for read, raw in enumerate(rows, 1):
        if read % PROGRESS_EVERY == 0:
            progress(read)
        yield raw
    progress(read)


def _stop_rule(
    conn: Connection, campaign_id: int, request: CampaignRequest, content: Content
) -> list[Problem]:
    """French operators block marketing SMS from a custom sender without a STOP mention."""
    if (
        request.kind is CampaignKind.MARKETING and request.sender and content.stop == "none"
        and not content.options.allow_without_stop
        and recipients.has_numbers_in(conn, campaign_id, "33")
    ):  # fmt: skip
        return [Problem(
            "stop_mention", "a marketing campaign to French numbers with a custom sender needs a "
            "STOP mention: this provider adds none and the account has no stop_text (set "
            "DISPATCHER_ACCOUNTS__<NAME>__STOP_TEXT), or pass the option allow_without_stop",
        )]  # fmt: skip
    return []
