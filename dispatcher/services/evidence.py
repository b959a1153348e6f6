"""A provider's answer that could not be written to PostgreSQL, kept until it can be.

Once a send request has left, its answer is the only proof of what the provider did: the
provider's reference (without which the batch is never polled) and its per-recipient results.
submit retries the write across a database restart (``Database.run``); if the database is still
unreachable when that time is up, the answer is kept here, in Redis through ``deps.cache``
for a week, and logged at ERROR with the provider's reference, so that an operator holds it
even if Redis is lost too. The batch stays ``sending`` until its lease ends; the reaper then
replays the answer instead of guessing "worker lost" (services/maintenance.py::reap).

An answer belongs to one attempt of one worker: it is replayed only on the batch row that
still shows that worker and attempt, and forgotten once replayed, so it can never be applied
to a later send of the same batch.
"""

from __future__ import annotations

import json
import logging
from dataclasses import asdict, dataclass
from decimal import Decimal
from typing import Any

from dispatcher.domain.models import RecipientResult, SendResult
from dispatcher.domain.statuses import Outcome
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

# Long enough for an operator to come back after a weekend; the reaper normally replays the
# answer within a send lease of the failure.
TTL_SECONDS = 7 * 24 * 3600


@dataclass(frozen=True)
class Evidence:
    batch_id: int
    attempt: int
    worker: str  # the worker that sent the request and holds the batch in ``sending``
    result: SendResult


def key(batch_id: int) -> str:
    return f"evidence:{batch_id}"


def keep(deps: Deps, evidence: Evidence) -> None:
    """Keep an answer the database would not take. Logged first: if Redis fails too, the log
    line is what is left."""
    result = evidence.result
    log.error(
        "batch %s attempt %s: the provider's answer could not be written, kept as evidence: "
        "%s ref=%s code=%s %s (%s per-recipient results)",
        evidence.batch_id,
        evidence.attempt,
        result.outcome,
        result.provider_ref or "-",
        result.code or "-",
        result.description,
        len(result.recipients),
    )
    deps.cache.set(key(evidence.batch_id), encode(evidence), TTL_SECONDS)


def find(deps: Deps, batch_id: int) -> Evidence | None:
    raw = deps.cache.get(key(batch_id))
    return decode(raw) if raw else None


def forget(deps: Deps, batch_id: int) -> None:
    deps.cache.delete(key(batch_id))


def encode(evidence: Evidence) -> str:
    fields = asdict(evidence)
    result = fields["result"]
    result["balance"] = None if result["balance"] is None else str(result["balance"])
    return json.dumps(fields, sort_keys=True)


def decode(raw: str) -> Evidence:
    fields: dict[str, Any] = json.loads(raw)
    result = dict(fields["result"])
    result["outcome"] = Outcome(result["outcome"])
    result["recipients"] = tuple(
        RecipientResult(**{**r, "outcome": Outcome(r["outcome"])}) for r in result["recipients"]
    )
    result["balance"] = None if result["balance"] is None else Decimal(result["balance"])
    return Evidence(
        batch_id=int(fields["batch_id"]),
        attempt=int(fields["attempt"]),
        worker=str(fields["worker"]),
        result=SendResult(**result),
    )
