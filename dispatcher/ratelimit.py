"""Request-rate limits per provider account, shared by every worker through Redis.

Each account has one log of the times its requests were granted (a Redis sorted set), whatever
limit applied when each went. A request is granted when fewer than ``amount`` requests are in
the log's last ``period``. The limit is an argument, not part of the key: a request made under
one limit still counts under the next. That is what Envoyer SMS Pro's limit needs ("100
requêtes sur une durée de 60 minutes, à partir de la première requête", section "Les limites
du nombre de requête"): the request that asks the account's real limit is made before that
limit is known, and must count in its window. (The ``limits`` library's moving window keys its
log by the limit, so a learnt limit started from an empty window and allowed one request too
many.)

A moving window is never looser than Envoyer's fixed window opened by the first request: when
every span of 60 minutes holds at most N requests, so does each of its windows. When an
account's limit moves to a shorter window, history older than that window is dropped, which
the new window does not need. A wiped Redis forgets the log: the current window may then get
up to N more requests, the one thing Redis holds that is not rebuilt from PostgreSQL.

A worker that finds no room never sleeps holding the batch: it hands the batch back with a due
time at the moment the window frees a slot.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Protocol

import redis
from limits import parse

from dispatcher.cache import REDIS_TIMEOUT_SECONDS  # a dead Redis fails the task fast

# KEYS[1] the account's log; ARGV amount, period (microseconds), a unique member. Returns -1
# when granted, else the microseconds until a slot frees.
# Redis's own clock, so workers on hosts with skewed clocks share one window.
_ACQUIRE = """
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local amount, period = tonumber(ARGV[1]), tonumber(ARGV[2])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - period)
local count = redis.call('ZCARD', KEYS[1])
if count < amount then
  redis.call('ZADD', KEYS[1], now, ARGV[3])
  local keep = math.ceil(period / 1000)
  if redis.call('PTTL', KEYS[1]) < keep then
    redis.call('PEXPIRE', KEYS[1], keep)
  end
  return -1
end
local freeing = redis.call('ZRANGE', KEYS[1], count - amount, count - amount, 'WITHSCORES')
return math.max(tonumber(freeing[2]) + period - now, 1)
"""

MIN_WAIT_SECONDS = 0.05


class RateLimiter(Protocol):
    def acquire(self, account: str, rate: str) -> float:
        """Take one request slot: 0.0 when granted, else the seconds until one frees up."""
        ...


@lru_cache(maxsize=64)
def window(rate: str) -> tuple[int, float]:
    """("3 per 5 seconds") -> (3, 5.0): requests allowed, and the window's seconds."""
    item = parse(rate)
    return item.amount, float(item.get_expiry())


class RedisRateLimiter:
    def __init__(self, redis_url: str, *, key_prefix: str = "dispatcher:rate:") -> None:
        self._redis = redis.Redis.from_url(
            redis_url,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._prefix = key_prefix

    def acquire(self, account: str, rate: str) -> float:
        amount, seconds = window(rate)
        args = (amount, round(seconds * 1_000_000), uuid.uuid4().hex)
        wait_us = int(self._acquire(keys=[self._prefix + account], args=args))
        return 0.0 if wait_us < 0 else max(wait_us / 1_000_000, MIN_WAIT_SECONDS)


@dataclass
class MemoryRateLimiter:
    """The same log in one process, for tests and single-process tools."""

    clock: Callable[[], float] = time.monotonic
    logs: dict[str, list[float]] = field(default_factory=dict)

    def acquire(self, account: str, rate: str) -> float:
        amount, seconds = window(rate)
        now = self.clock()
        log = self.logs[account] = [t for t in self.logs.get(account, []) if t > now - seconds]
        if len(log) < amount:
            log.append(now)
            return 0.0
        freeing = sorted(log)[len(log) - amount]
        return max(freeing + seconds - now, MIN_WAIT_SECONDS)


class NoRateLimit:
    """For code paths and tests that talk to one provider from one process."""

    def acquire(self, account: str, rate: str) -> float:
        return 0.0
