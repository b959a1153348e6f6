"""Request-rate limits are per account and shared by every worker through Redis; an account's
limit learnt from its provider counts the question that learnt it."""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import replace
from datetime import datetime

import httpx
import pytest

from dispatcher.errors import ProviderError, TransientProviderError
from dispatcher.local.servers import ServerUrls
from dispatcher.providers.base import Provider
from dispatcher.providers.registry import REGISTRY
from dispatcher.ratelimit import RedisRateLimiter
from dispatcher.services import limits
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue, estimate
from tests.integration.helpers import add_fault, plain_mobiles, submissions, wait_settled

pytestmark = pytest.mark.integration


def test_two_limiters_on_one_redis_share_one_window(servers: ServerUrls, marker: str) -> None:
    first, second = RedisRateLimiter(servers.redis_url), RedisRateLimiter(servers.redis_url)
    grants = [
        limiter.acquire(marker, "3 per 10 seconds") for limiter in (first, second, first, second)
    ]
    assert grants[:3] == [0.0, 0.0, 0.0]
    assert 0 < grants[3] <= 10


def test_a_limited_account_spaces_its_requests_across_workers(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    campaign_id = enqueue(
        deps,
        CampaignRequest(
            account="sandbox-limited", text=f"Slow {marker}", recipients=plain_mobiles(700)
        ),
    )
    wait_settled(deps, campaign_id)
    times = sorted(datetime.fromisoformat(s["accepted_at"]) for s in submissions(sandbox, marker))
    assert len(times) == 3  # 300 + 300 + 100 by GET
    gaps = [(b - a).total_seconds() for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 1.9


def test_a_request_counts_under_whatever_limit_applies_next(
    servers: ServerUrls, marker: str
) -> None:
    limiter = RedisRateLimiter(servers.redis_url)
    assert limiter.acquire(marker, "100 per 60 minutes") == 0.0
    assert limiter.acquire(marker, "2 per 60 minutes") == 0.0
    assert 3590 < limiter.acquire(marker, "2 per 60 minutes") <= 3600


def _envoyer(deps: Deps, name: str, **settings: object) -> Provider:
    """An Envoyer SMS Pro adapter on the sandbox that learns its limit (no rate_limit set)."""
    base = deps.settings.account("sandbox-envoyer-limited")
    account = base.model_copy(update={"name": name, "rate_limit": None, **settings})
    return REGISTRY["envoyer"](account, httpx.Client())


def _status_requests(sandbox: httpx.Client) -> int:
    return int(sandbox.get("/_sandbox/stats").json()["requests"]["envoyer.status"])


def test_an_account_that_tells_its_limit_never_gets_one_request_too_many(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    """The sandbox's "limited" login has 3 requests per 5 s window, opened by the first
    (conftest.SANDBOX_CONFIG). Six workers want one request each at once: one asks the limit
    ("3 per 60 minutes"), which is the window's first request; two more go; the rest wait."""
    adapter = _envoyer(deps, f"learner-{marker.lower()}")
    before = _status_requests(sandbox)
    outcomes: list[str] = []

    def one_request() -> None:
        for _ in range(4):
            wait = limits.take_slot(deps, adapter)
            if wait == 0:
                try:
                    adapter.balance()  # account/status, as the question is
                    outcomes.append("answered")
                except ProviderError as exc:
                    outcomes.append(f"refused: {exc}")
                return
            if wait > limits.ASKING_WAIT_SECONDS:
                outcomes.append("waits for the window")
                return
            time.sleep(wait)  # another worker is asking
        outcomes.append("never got an answer")

    workers = [threading.Thread(target=one_request) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(timeout=30)

    assert sorted(outcomes) == ["answered"] * 2 + ["waits for the window"] * 4
    assert _status_requests(sandbox) - before == 3  # the question and the two requests
    with pytest.raises(TransientProviderError):  # the sandbox's own count is at its limit
        adapter.balance()


def test_a_provider_that_does_not_answer_leaves_the_estimate_saying_why(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    login = f"hang{marker.lower()}"
    add_fault(
        sandbox,
        {
            "endpoint": "status",
            "match": {"token": f"envoyer:{login}:1"},
            "action": {"type": "latency", "delay": 5},
        },
        provider="envoyer",
    )
    name = f"hanging-{marker.lower()}"
    adapter = _envoyer(deps, name, username=login, check_balance=True)
    accounts = {**deps.settings.accounts, name: adapter.account}
    hanging = replace(
        deps,
        settings=deps.settings.model_copy(update={"accounts": accounts}),
        adapters=lambda account: adapter if account == name else deps.adapters(account),
    )

    found = estimate(
        hanging,
        CampaignRequest(account=name, text=f"Bonjour {marker}", recipients=plain_mobiles(3),
                        sender="SHOP"),
    )  # fmt: skip

    assert found.balance is None
    assert "no answer: ReadTimeout" in found.balance_note
