"""Two RedisBreakers on the test Redis stand for two workers: they share one breaker per
account, only one of them probes, and a prober that dies loses its token when it expires.
Time is passed in, so nothing here waits."""

from __future__ import annotations

import threading
import uuid
from datetime import UTC, datetime, timedelta

import pytest

from dispatcher.breaker import BreakerConfig, Check, Failure, RedisBreaker, Success
from dispatcher.local.servers import ServerUrls

pytestmark = pytest.mark.integration

CFG = BreakerConfig(threshold=2, failure_window=60, probe_base=1, probe_growth=2, probe_max=8)
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
TTL = 0.2


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


@pytest.fixture
def workers(servers: ServerUrls) -> tuple[RedisBreaker, RedisBreaker]:
    return RedisBreaker(servers.redis_url), RedisBreaker(servers.redis_url)


@pytest.fixture
def account() -> str:
    return f"acct-{uuid.uuid4().hex[:8]}"


def _open(first: RedisBreaker, second: RedisBreaker, account: str) -> None:
    """One failure from each worker: the shared run reaches the threshold at t=1."""
    first.step(account, Failure("w1 batch 1", "HTTP 503"), at(0), CFG)
    second.step(account, Failure("w2 batch 2", "HTTP 503"), at(1), CFG)


def test_failures_from_two_workers_open_one_shared_breaker(
    workers: tuple[RedisBreaker, RedisBreaker], account: str
) -> None:
    first, second = workers
    _open(first, second, account)
    assert not first.step(account, Check("w1 batch 3", TTL), at(1.5), CFG).allow
    state = second.state(account)
    assert (state.is_open, state.failures, state.last_error) == (True, 2, "HTTP 503")


def test_only_one_worker_gets_the_probe(
    workers: tuple[RedisBreaker, RedisBreaker], account: str
) -> None:
    first, second = workers
    _open(first, second, account)
    granted = first.step(account, Check("w1 batch 1", TTL), at(2), CFG)
    denied = second.step(account, Check("w2 batch 2", TTL), at(2.05), CFG)
    assert (granted.probe, denied.allow) == (True, False)
    assert first.state(account).probes == 1


def test_a_dead_probers_token_expires_and_the_other_worker_probes(
    workers: tuple[RedisBreaker, RedisBreaker], account: str
) -> None:
    first, second = workers
    _open(first, second, account)
    assert first.step(account, Check("w1 batch 1", TTL), at(2), CFG).probe  # then w1 dies
    assert second.step(account, Check("w2 batch 2", TTL), at(2 + TTL + 0.01), CFG).probe


def test_the_probes_answer_closes_the_breaker_for_every_worker(
    workers: tuple[RedisBreaker, RedisBreaker], account: str
) -> None:
    first, second = workers
    _open(first, second, account)
    first.step(account, Check("w1 batch 1", TTL), at(2), CFG)
    assert first.step(account, Success("w1 batch 1"), at(2.1), CFG).closed
    assert second.step(account, Check("w2 batch 2", TTL), at(2.2), CFG).allow


def test_a_failed_probe_pushes_the_next_one_back_for_both(
    workers: tuple[RedisBreaker, RedisBreaker], account: str
) -> None:
    first, second = workers
    _open(first, second, account)
    first.step(account, Check("w1 batch 1", TTL), at(2), CFG)
    first.step(account, Failure("w1 batch 1", "connection refused"), at(2.1), CFG)
    denied = second.step(account, Check("w2 batch 2", TTL), at(3), CFG)
    assert not denied.allow
    assert denied.wait == pytest.approx(2 * CFG.probe_base - 0.9)


def test_concurrent_reports_from_two_workers_are_all_counted(
    workers: tuple[RedisBreaker, RedisBreaker], account: str
) -> None:
    many = BreakerConfig(threshold=1000, failure_window=60)

    def report(breaker: RedisBreaker, holder: str) -> None:
        for i in range(50):
            breaker.step(account, Failure(holder, "HTTP 503"), at(i / 100), many)

    threads = [threading.Thread(target=report, args=(b, f"w{n}")) for n, b in enumerate(workers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert workers[0].state(account).failures == 100
