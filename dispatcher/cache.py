"""A small shared key-value cache (Redis), for facts every worker should learn once, such as
an account's real request-rate limit, and for the marker that tells the sweeper Redis was
wiped (services/maintenance.py::sweep).

The cache lives in the broker's Redis database on purpose: whatever wipes the broker's
messages wipes the marker with them, so the sweeper notices exactly the loss it must repair.
"""

from __future__ import annotations

from typing import Protocol

import redis

# A dead or hung Redis fails the caller within this many seconds instead of hanging it: a
# worker asks the cache, the rate limiter and the breaker (all three clients use this) while
# it holds a claim, whose lease is short (settings.Timings).
REDIS_TIMEOUT_SECONDS = 2.0


class SharedCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_seconds: int) -> None: ...

    def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        """Set ``key`` only if it is absent, atomically; True when this call set it."""
        ...

    def delete(self, key: str) -> None: ...


class RedisCache:
    def __init__(self, url: str, *, prefix: str = "dispatcher:cache:") -> None:
        self._redis = redis.Redis.from_url(
            url,
            decode_responses=True,
            socket_timeout=REDIS_TIMEOUT_SECONDS,
            socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
        )
        self._prefix = prefix

    def get(self, key: str) -> str | None:
        value = self._redis.get(self._prefix + key)
        return str(value) if value is not None else None

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._redis.set(self._prefix + key, value, ex=ttl_seconds)

    def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        """``SET NX EX``: one round trip, so of two callers exactly one sees True."""
        return bool(self._redis.set(self._prefix + key, value, ex=ttl_seconds, nx=True))

    def delete(self, key: str) -> None:
        self._redis.delete(self._prefix + key)


class MemoryCache:
    """For tests and single-process tools; ignores time-to-live. ``values.clear()`` is what a
    Redis wipe looks like to the services."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self.values[key] = value

    def add(self, key: str, value: str, ttl_seconds: int) -> bool:
        if key in self.values:
            return False
        self.values[key] = value
        return True

    def delete(self, key: str) -> None:
        self.values.pop(key, None)
