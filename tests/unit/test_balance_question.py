"""The balance enqueue asks of the provider: about a second at most, tried once, skipped with
the reason while the provider is not answering (services/estimate.py::known_balance)."""

from __future__ import annotations

from collections.abc import Callable
from decimal import Decimal
from typing import cast

import httpx
import pytest

from dispatcher.breaker import BreakerState, MemoryBreaker
from dispatcher.cache import MemoryCache
from dispatcher.persistence.database import Database
from dispatcher.providers.smsmode import SmsmodeProvider
from dispatcher.ratelimit import MemoryRateLimiter
from dispatcher.services.deps import Deps
from dispatcher.services.estimate import BALANCE_ASK_SECONDS, known_balance
from dispatcher.settings import AccountSettings, Settings

Answer = Callable[[httpx.Request], httpx.Response]


class Provider:
    """An sMsmode account behind a MockTransport that answers ``answer`` and counts requests."""

    def __init__(self, answer: Answer) -> None:
        self.requests: list[httpx.Request] = []

        def transport(request: httpx.Request) -> httpx.Response:
            self.requests.append(request)
            return answer(request)

        account = AccountSettings(
            name="a", provider="smsmode", base_url="https://p.test", access_token="t"
        )
        client = httpx.Client(transport=httpx.MockTransport(transport))
        self.adapter = SmsmodeProvider(account, client, retry_seconds=3.0)
        self.deps = Deps(
            settings=Settings(),
            db=cast(Database, None),  # sMsmode tells no limit: nothing is read
            publisher=None,  # type: ignore[arg-type]
            limiter=MemoryRateLimiter(),
            adapters=lambda _: self.adapter,
            cache=MemoryCache(),
        )

    def balance(self) -> tuple[Decimal | None, str]:
        return known_balance(self.deps, self.adapter)


def refused(request: httpx.Request) -> httpx.Response:
    raise httpx.ConnectError("[Errno 111] Connection refused")


def hanging(request: httpx.Request) -> httpx.Response:
    raise httpx.ReadTimeout("timed out")


def test_a_refused_connection_is_tried_once_and_named() -> None:
    provider = Provider(refused)
    balance, note = provider.balance()
    assert balance is None
    assert "ConnectError" in note
    assert len(provider.requests) == 1


def test_a_provider_that_does_not_answer_is_given_about_a_second() -> None:
    provider = Provider(hanging)
    balance, note = provider.balance()
    assert balance is None
    assert "no answer" in note
    (request,) = provider.requests
    timeout = request.extensions["timeout"]
    assert timeout["read"] == BALANCE_ASK_SECONDS
    assert timeout["connect"] <= BALANCE_ASK_SECONDS


def test_a_provider_that_did_not_answer_is_not_asked_again_for_a_while() -> None:
    provider = Provider(refused)
    provider.balance()
    balance, note = provider.balance()
    assert balance is None
    assert note.startswith("not asked: asking failed less than a minute ago")
    assert "ConnectError" in note
    assert len(provider.requests) == 1


def test_an_open_circuit_skips_the_question() -> None:
    provider = Provider(refused)
    breaker = cast(MemoryBreaker, provider.deps.breaker)
    breaker.states["a"] = BreakerState(opened_at=1.0, last_error="HTTP 503")
    balance, note = provider.balance()
    assert balance is None
    assert note == "not asked: the provider is not answering (circuit open): HTTP 503"
    assert provider.requests == []


def test_an_answer_is_the_balance() -> None:
    provider = Provider(lambda request: httpx.Response(200, text="212.5"))
    assert provider.balance() == (Decimal("212.5"), "")


@pytest.mark.parametrize("answer", [refused, hanging])
def test_the_workers_adapter_keeps_its_own_timeouts(answer: Answer) -> None:
    provider = Provider(answer)
    provider.balance()
    assert provider.adapter.retry_seconds == 3.0
    assert provider.adapter.timeout.read == 30.0
