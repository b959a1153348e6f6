"""Asking an account's circuit breaker before a request, and telling it the answer after.

submit and track both do this around their request (docs/design-rules.md 1.9, 3.2), so it is
written once here. The breaker itself is ``dispatcher/breaker.py``; this module adds what the
services need around it: how long a probe token lives, the reason a paced batch shows, the logs, and
the wake-up. A denied batch or poll waits with a due time in PostgreSQL and counts nothing.
When an answer closes an open breaker, the account's paced batches and polls become due at
once and are published, instead of each waiting out the probe interval it was given.

    admit(...)   before the rate-limit token: a denied request wastes no token
    release(...) allowed, but nothing was sent (no token, a lost claim): frees a probe token
    tell(...)    after the answer: failure, success or neither (``judge``)
    wake(...)    after the answer is recorded, when ``tell`` said the breaker closed
"""

from __future__ import annotations

import logging
import random
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy.exc import SQLAlchemyError

from dispatcher.breaker import (
    Abandon,
    BreakerConfig,
    Check,
    Decision,
    Event,
    Failure,
    Success,
)
from dispatcher.domain.models import PollResult, SendResult
from dispatcher.domain.statuses import Outcome
from dispatcher.persistence import batches
from dispatcher.providers.base import Provider
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

# Up to a second of random delay on a paced batch, so that the batches an open breaker sent
# away do not all come back in the same instant to be sent away again.
JITTER_SECONDS = 1.0


def config(deps: Deps) -> BreakerConfig:
    return BreakerConfig.from_timings(deps.settings.timings)


def probe_ttl(adapter: Provider, deps: Deps) -> float:
    """How long a probe token stays its holder's: the slowest possible answer, as for the send
    lease. A prober that dies frees it by then, and another worker probes."""
    account = adapter.account
    return (
        account.connect_timeout
        + account.read_timeout
        + adapter.retry_seconds
        + deps.settings.timings.send_lease_margin_seconds
    )


def admit(deps: Deps, adapter: Provider, holder: str) -> Decision:
    """May ``holder`` (a worker and its batch or poll) send to the account now?"""
    return _step(deps, adapter, Check(holder, probe_ttl(adapter, deps)))


def paced_until(deps: Deps, decision: Decision) -> datetime:
    jitter = random.uniform(0, JITTER_SECONDS)
    return deps.clock() + timedelta(seconds=decision.wait + jitter)


def reason(decision: Decision) -> str:
    """What a paced batch shows operators while it waits."""
    state = decision.state
    since = datetime.fromtimestamp(state.opened_at, UTC).isoformat(timespec="seconds")
    return f"provider unavailable (circuit open since {since}): {state.last_error}"


def release(deps: Deps, adapter: Provider, holder: str) -> None:
    _step(deps, adapter, Abandon(holder))


def tell(
    deps: Deps,
    adapter: Provider,
    holder: str,
    verdict: Verdict,
    code: str | None,
    description: str,
) -> bool:
    """Report an answer; True when it closed an open breaker (the caller then calls ``wake``
    once the answer is recorded, so a failed wake never costs the record)."""
    error = f"{code} {description}" if code else description
    event: Event = (
        Failure(holder, error)
        if verdict is Verdict.FAILURE
        else Success(holder)
        if verdict is Verdict.SUCCESS
        else Abandon(holder)
    )
    decision = _step(deps, adapter, event)
    state = decision.state
    if decision.opened:
        log.warning(
            "circuit of %s open after %s answers proving nothing was sent (last: %s): "
            "one probe in %.0f s, its batches and polls wait",
            adapter.account.name,
            state.failures,
            state.last_error,
            decision.wait,
        )
    if decision.closed:
        log.info(
            "circuit of %s closed: the provider answers again (%s probe(s) in all)",
            adapter.account.name,
            state.probes,
        )
    return decision.closed


def wake(deps: Deps, account: str) -> None:
    """The account's batches and polls that wait on the provider are due now, and published.

    Polls are recognised by a next poll within the longest wait a breaker gives (a probe
    interval, or a probe token's life), so a few polls that were simply not due yet come early:
    harmless, they respect the rate limit like any other."""
    timings = deps.settings.timings
    now = deps.clock()
    adapter = deps.adapters(account)
    longest = max(timings.breaker_probe_max_seconds, probe_ttl(adapter, deps)) + JITTER_SECONDS
    try:
        with deps.db.transaction() as conn:
            batch_ids = batches.wake_paced(
                conn,
                account,
                now,
                window=timings.queued_batches_per_campaign,
                republish_after=timedelta(seconds=timings.republish_after_seconds),
            )
            poll_ids = batches.wake_polls(
                conn,
                account,
                now,
                until=now + timedelta(seconds=longest),
                lease=timedelta(seconds=timings.poll_lease_seconds),
            )
    except SQLAlchemyError as exc:  # they stay due at their own times: only slower
        log.warning("could not wake %s's waiting batches: %s", account, exc)
        return
    deps.publisher.submit(batch_ids)
    deps.publisher.poll(poll_ids)
    if batch_ids or poll_ids:
        log.info("%s: woke %s batch(es) and %s poll(s)", account, len(batch_ids), len(poll_ids))


def _step(deps: Deps, adapter: Provider, event: Event) -> Decision:
    return deps.breaker.step(adapter.account.name, event, deps.clock(), config(deps))


class Verdict(StrEnum):
    """What an answer tells the breaker."""

    FAILURE = "failure"  # nothing was sent, or no answer came back at all
    SUCCESS = "success"  # the provider answered
    NEITHER = "neither"  # the provider's request limit: it is up, but this proves nothing


def judge(outcome: Outcome, *, answered: bool, rate_limited: bool = False) -> Verdict:
    """A request-level transient answer that is not the provider's request limit is a
    failure. So is an unknown outcome with no HTTP answer (read timeout, dropped connection):
    a provider that accepts connections and never answers would otherwise turn batch after
    batch ``unknown`` at full speed. Such a batch still becomes ``unknown``; only the pacing of
    the next ones changes. Anything else answered (accepted, permanent, an HTTP 500 body, a mix
    of per-destination answers) shows the provider is up."""
    if rate_limited:
        return Verdict.NEITHER
    if outcome is Outcome.TRANSIENT or (outcome is Outcome.UNKNOWN and not answered):
        return Verdict.FAILURE
    return Verdict.SUCCESS


def judge_send(result: SendResult) -> Verdict:
    limited = result.rate_limited or result.http_status == 429
    return judge(result.outcome, answered=result.answered, rate_limited=limited)


def judge_poll(result: PollResult) -> Verdict:
    return judge(result.outcome, answered=result.answered, rate_limited=result.rate_limited)
