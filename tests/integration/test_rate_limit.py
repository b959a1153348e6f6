"""Request-rate limits are per account and shared by every worker through Redis."""

from __future__ import annotations

import itertools
from datetime import datetime

import httpx
import pytest

from dispatcher.local.servers import ServerUrls
from dispatcher.ratelimit import RedisRateLimiter
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import plain_mobiles, submissions, wait_settled

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
