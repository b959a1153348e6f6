"""The circuit breaker's rule (``step``) through MemoryBreaker, with time in the test's hands,
and what each kind of answer tells it."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.breaker import (
    Abandon,
    BreakerConfig,
    Check,
    Decision,
    Failure,
    MemoryBreaker,
    RedisBreaker,
    Success,
)
from dispatcher.domain.models import PollResult, SendResult
from dispatcher.domain.statuses import Outcome
from dispatcher.services.outage import Verdict, judge, judge_poll, judge_send

CFG = BreakerConfig(threshold=3, failure_window=60, probe_base=5, probe_growth=2, probe_max=30)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TTL = 10.0


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def fail(breaker: MemoryBreaker, seconds: float, holder: str = "w1") -> Decision:
    return breaker.step("acct", Failure(holder, "HTTP 503"), at(seconds), CFG)


def check(breaker: MemoryBreaker, seconds: float, holder: str = "w1") -> Decision:
    return breaker.step("acct", Check(holder, TTL), at(seconds), CFG)


def opened() -> MemoryBreaker:
    """A breaker that opened at t=2: its first probe is due at t=7."""
    breaker = MemoryBreaker()
    for t in (0, 1, 2):
        fail(breaker, t)
    return breaker


def test_a_closed_breaker_allows_every_request() -> None:
    breaker = MemoryBreaker()
    fail(breaker, 0)
    assert check(breaker, 1) == Decision(state=breaker.state("acct"))


def test_it_opens_at_the_threshold_and_not_before() -> None:
    breaker = MemoryBreaker()
    assert not fail(breaker, 0).opened
    assert not fail(breaker, 1).opened
    decision = fail(breaker, 2)
    assert decision.opened
    assert decision.wait == CFG.probe_base
    assert breaker.state("acct").last_error == "HTTP 503"


def test_an_open_breaker_denies_until_the_probe_is_due() -> None:
    breaker = opened()
    decision = check(breaker, 4)
    assert not decision.allow
    assert decision.wait == pytest.approx(3.0)


def test_exactly_one_caller_gets_the_probe() -> None:
    breaker = opened()
    first, second = check(breaker, 7, "w1"), check(breaker, 7.5, "w2")
    assert (first.allow, first.probe) == (True, True)
    assert not second.allow
    assert second.wait == pytest.approx(min(TTL - 0.5, CFG.probe_base))
    assert breaker.state("acct").probes == 1


def test_a_failed_probe_grows_the_interval_up_to_the_cap() -> None:
    breaker, now, waits = opened(), 7.0, []
    for _ in range(5):
        assert check(breaker, now).probe
        decision = fail(breaker, now + 1)
        waits.append(decision.wait)
        now = breaker.state("acct").next_probe_at - T0.timestamp()
    assert waits == [10, 20, 30, 30, 30]


def test_failures_of_requests_that_were_not_the_probe_do_not_move_it() -> None:
    breaker = opened()
    fail(breaker, 3, "in-flight-before-opening")
    assert breaker.state("acct").next_probe_at == at(7).timestamp()


def test_a_failure_long_after_the_last_one_starts_a_new_run() -> None:
    breaker = MemoryBreaker()
    fail(breaker, 0)
    fail(breaker, 1)
    assert not fail(breaker, 1 + CFG.failure_window + 1).opened
    assert breaker.state("acct").failures == 1


def test_an_answer_closes_an_open_breaker_and_says_so() -> None:
    breaker = opened()
    check(breaker, 7)
    decision = breaker.step("acct", Success("w1"), at(8), CFG)
    assert decision.closed
    assert not breaker.state("acct").is_open
    assert check(breaker, 8.1, "w2").allow


def test_an_answer_on_a_closed_breaker_resets_its_run_without_closing_anything() -> None:
    breaker = MemoryBreaker()
    fail(breaker, 0)
    fail(breaker, 1)
    assert not breaker.step("acct", Success("w1"), at(2), CFG).closed
    assert not fail(breaker, 3).opened


def test_a_dead_probers_token_expires_and_another_worker_probes() -> None:
    breaker = opened()
    assert check(breaker, 7, "dies").probe
    assert not check(breaker, 7 + TTL - 1, "w2").allow
    assert check(breaker, 7 + TTL + 0.1, "w2").probe
    assert breaker.state("acct").probes == 2


def test_a_prober_that_sends_nothing_frees_its_token_at_once() -> None:
    breaker = opened()
    check(breaker, 7, "w1")
    breaker.step("acct", Abandon("w1"), at(7.1), CFG)
    assert check(breaker, 7.2, "w2").probe


def test_accounts_have_breakers_of_their_own() -> None:
    breaker = opened()
    assert breaker.step("other", Check("w1", TTL), at(4), CFG).allow


@pytest.mark.parametrize(
    ("outcome", "answered", "rate_limited", "verdict"),
    [
        (Outcome.TRANSIENT, True, False, Verdict.FAILURE),  # 503, "temporarily unavailable"
        (Outcome.TRANSIENT, False, False, Verdict.FAILURE),  # connection refused
        (Outcome.UNKNOWN, False, False, Verdict.FAILURE),  # read timeout, dropped connection
        (Outcome.UNKNOWN, True, False, Verdict.SUCCESS),  # HTTP 500, an unreadable body
        (Outcome.PERMANENT, True, False, Verdict.SUCCESS),
        (Outcome.ACCEPTED, True, False, Verdict.SUCCESS),
        (Outcome.TRANSIENT, True, True, Verdict.NEITHER),  # the provider's request limit
    ],
)
def test_what_an_answer_tells_the_breaker(
    outcome: Outcome, answered: bool, rate_limited: bool, verdict: Verdict
) -> None:
    assert judge(outcome, answered=answered, rate_limited=rate_limited) is verdict


def test_an_http_429_is_the_request_limit_not_an_outage() -> None:
    result = SendResult(Outcome.TRANSIENT, None, "HTTP 429", http_status=429)
    assert judge_send(result) is Verdict.NEITHER


def test_a_poll_without_any_answer_is_a_failure() -> None:
    assert judge_poll(PollResult(Outcome.UNKNOWN, answered=False)) is Verdict.FAILURE


def test_an_unreachable_redis_fails_open_and_logs(caplog: pytest.LogCaptureFixture) -> None:
    breaker = RedisBreaker("redis://127.0.0.1:1/0")  # nothing listens on port 1
    with caplog.at_level(logging.WARNING, logger="dispatcher.breaker"):
        assert breaker.step("acct", Check("w1", TTL), at(0), CFG).allow
    assert "allowing" in caplog.text


def test_an_unreachable_redis_reads_as_a_closed_breaker() -> None:
    assert not RedisBreaker("redis://127.0.0.1:1/0").state("acct").is_open
