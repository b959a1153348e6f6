"""Which request-rate limit an account gets, and that asking for it costs one of its requests:
the setting, else what the provider says (asked once, remembered in Redis and PostgreSQL),
else what it said last, else its default; one account log whatever limit applies."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import cast

import httpx
import pytest

from dispatcher.cache import MemoryCache
from dispatcher.errors import TransientProviderError
from dispatcher.persistence.database import Database
from dispatcher.providers.smsmode import SmsmodeProvider
from dispatcher.ratelimit import MemoryRateLimiter, window
from dispatcher.services import limits
from dispatcher.services.deps import Deps
from dispatcher.settings import AccountSettings, Settings

HOURLY = "3 per 60 minutes"


@dataclass
class Clock:
    now: float = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Learnt:
    """provider_limits in memory, patched over dispatcher.persistence.limits."""

    rates: dict[str, str] = field(default_factory=dict)

    def last_learnt(self, conn: object, account: str) -> str | None:
        return self.rates.get(account)

    def remember(self, conn: object, account: str, rate: str, *, at: datetime) -> None:
        self.rates[account] = rate


class NoDatabase:
    @contextmanager
    def transaction(self) -> Iterator[None]:
        yield None


class Discovering(SmsmodeProvider):
    """An sMsmode adapter that tells its limit, with answers the test queues; it records the
    timeout and in-process retry each question was asked with."""

    learns_rate_limit = True
    answers: list[str | Exception | None] = []  # noqa: RUF012
    asked_with: list[tuple[float | None, float]] = []  # noqa: RUF012

    def discover_rate_limit(self) -> str | None:
        Discovering.asked_with.append((self.timeout.read, self.retry_seconds))
        answer = Discovering.answers.pop(0)
        if isinstance(answer, Exception):
            raise answer
        return answer


@pytest.fixture
def learnt(monkeypatch: pytest.MonkeyPatch) -> Learnt:
    store = Learnt()
    monkeypatch.setattr(limits, "learnt", store)
    Discovering.answers, Discovering.asked_with = [], []
    return store


@pytest.fixture
def clock() -> Clock:
    return Clock()


def _deps(adapter: SmsmodeProvider, clock: Clock) -> Deps:
    return Deps(
        settings=Settings(),
        db=cast(Database, NoDatabase()),
        publisher=None,  # type: ignore[arg-type]
        limiter=MemoryRateLimiter(clock=clock),
        adapters=lambda _: adapter,
        cache=MemoryCache(),
    )


def _account(**kw: object) -> AccountSettings:
    return AccountSettings(
        name="a", provider="smsmode", base_url="https://p.test", access_token="t", **kw
    )


def _discovering(**kw: object) -> Discovering:
    return Discovering(_account(**kw), httpx.Client(), retry_seconds=3.0)


def _requests_granted(deps: Deps, adapter: SmsmodeProvider, tries: int) -> int:
    """How many of ``tries`` requests take_slot lets go now."""
    return sum(limits.take_slot(deps, adapter) == 0 for _ in range(tries))


def test_the_accounts_setting_wins(learnt: Learnt, clock: Clock) -> None:
    adapter = _discovering(rate_limit="7/second")
    assert _requests_granted(_deps(adapter, clock), adapter, 10) == 7
    assert Discovering.asked_with == []


def test_a_provider_without_discovery_gets_its_default(learnt: Learnt, clock: Clock) -> None:
    adapter = SmsmodeProvider(_account(), httpx.Client())
    allowed, _ = window(SmsmodeProvider.default_rate_limit)
    assert _requests_granted(_deps(adapter, clock), adapter, allowed + 5) == allowed


def test_the_question_counts_in_the_learnt_window(learnt: Learnt, clock: Clock) -> None:
    adapter = _discovering()
    Discovering.answers = [HOURLY]
    deps = _deps(adapter, clock)
    # The question and two requests make the account's three: a fourth would be refused.
    assert _requests_granted(deps, adapter, 5) == 2
    assert len(Discovering.asked_with) == 1
    clock.now += 3600
    assert _requests_granted(deps, adapter, 5) == 3  # the next window: no question, cached


def test_the_learnt_limit_is_kept_in_the_database(learnt: Learnt, clock: Clock) -> None:
    adapter = _discovering()
    Discovering.answers = [HOURLY]
    limits.take_slot(_deps(adapter, clock), adapter)
    assert learnt.rates == {"a": HOURLY}


def test_a_failed_question_falls_back_to_the_last_learnt_limit(
    learnt: Learnt, clock: Clock
) -> None:
    learnt.rates["a"] = HOURLY  # below the default of 100 an hour
    adapter = _discovering()
    Discovering.answers = [TransientProviderError("smsmode", "50", "later")]
    deps = _deps(adapter, clock)
    assert _requests_granted(deps, adapter, 5) == 2  # the failed question was the first
    assert limits.known_rate(deps, adapter) == HOURLY
    assert len(Discovering.asked_with) == 1  # not asked again for a while


def test_a_failed_question_with_nothing_learnt_uses_the_default(
    learnt: Learnt, clock: Clock
) -> None:
    adapter = _discovering()
    Discovering.answers = [TransientProviderError("smsmode", "50", "later")]
    deps = _deps(adapter, clock)
    limits.take_slot(deps, adapter)
    assert limits.known_rate(deps, adapter) == SmsmodeProvider.default_rate_limit


def test_no_answer_keeps_the_last_learnt_limit(learnt: Learnt, clock: Clock) -> None:
    learnt.rates["a"] = HOURLY
    adapter = _discovering()
    Discovering.answers = [None]
    deps = _deps(adapter, clock)
    limits.take_slot(deps, adapter)
    assert limits.known_rate(deps, adapter) == HOURLY
    assert learnt.rates == {"a": HOURLY}


def test_without_discovery_the_provider_is_not_asked(learnt: Learnt, clock: Clock) -> None:
    learnt.rates["a"] = HOURLY
    adapter = _discovering()
    deps = _deps(adapter, clock)
    granted = sum(limits.take_slot(deps, adapter, discover=False) == 0 for _ in range(5))
    assert granted == 3
    assert Discovering.asked_with == []


def test_one_worker_asks_at_a_time(learnt: Learnt, clock: Clock) -> None:
    adapter = _discovering()
    deps = _deps(adapter, clock)
    deps.limiter.acquire("a:asking", limits.ASKING)  # another worker is asking now
    assert limits.take_slot(deps, adapter) == limits.ASKING_WAIT_SECONDS
    assert Discovering.asked_with == []


def test_the_question_is_bounded_and_not_retried(learnt: Learnt, clock: Clock) -> None:
    adapter = _discovering()
    Discovering.answers = [HOURLY]
    limits.take_slot(_deps(adapter, clock), adapter)
    assert Discovering.asked_with == [(limits.ASK_SECONDS, 0)]
    assert adapter.retry_seconds == 3.0  # the worker's own adapter is left as it was


def test_a_bounded_adapter_tries_a_refused_connection_once() -> None:
    tries = []

    def refuse(request: httpx.Request) -> httpx.Response:
        tries.append(request)
        raise httpx.ConnectError("connection refused")

    client = httpx.Client(transport=httpx.MockTransport(refuse))
    adapter = limits.bounded(SmsmodeProvider(_account(), client, retry_seconds=3.0), 1.0)
    with pytest.raises(TransientProviderError):
        adapter.balance()
    assert len(tries) == 1
    assert tries[0].extensions["timeout"]["read"] == 1.0


def test_a_request_counts_under_whatever_limit_applies_next(clock: Clock) -> None:
    limiter = MemoryRateLimiter(clock=clock)
    assert limiter.acquire("a", "100 per 60 minutes") == 0
    assert limiter.acquire("a", "2 per 60 minutes") == 0
    wait = limiter.acquire("a", "2 per 60 minutes")
    assert wait == pytest.approx(3600)
    clock.now += wait
    assert limiter.acquire("a", "2 per 60 minutes") == 0
