"""Request-rate limits per provider account, shared by every worker through Redis.

A moving window (the ``limits`` library's Lua script) counts requests per account. A worker
that finds no room never sleeps holding the batch: it hands the batch back with a due time at
the moment the window frees a slot.
"""

from __future__ import annotations

import time
from typing import Protocol

from limits import RateLimitItem, parse
from limits.storage import RedisStorage
from limits.strategies import MovingWindowRateLimiter


class RateLimiter(Protocol):
    def acquire(self, account: str, rate: str) -> float:
        """Take one request slot: 0.0 when granted, else the seconds until one frees up."""
        ...


class RedisRateLimiter:
    def __init__(self, redis_url: str, *, key_prefix: str = "dispatcher:rate") -> None:
        self._limiter = MovingWindowRateLimiter(RedisStorage(redis_url, key_prefix=key_prefix))
        self._items: dict[str, RateLimitItem] = {}

    def acquire(self, account: str, rate: str) -> float:
        item = self._items.get(rate)
        if item is None:
            item = self._items[rate] = parse(rate)
        if self._limiter.hit(item, account):
            return 0.0
        stats = self._limiter.get_window_stats(item, account)
        return max(stats.reset_time - time.time(), 0.05)


class NoRateLimit:
    """For code paths and tests that talk to one provider from one process."""

    def acquire(self, account: str, rate: str) -> float:
        return 0.0
