"""A small shared key-value cache (Redis), for facts every worker should learn once, such as
an account's real request-rate limit."""

from __future__ import annotations

from typing import Protocol

import redis


class SharedCache(Protocol):
    def get(self, key: str) -> str | None: ...

    def set(self, key: str, value: str, ttl_seconds: int) -> None: ...


class RedisCache:
    def __init__(self, url: str, *, prefix: str = "dispatcher:cache:") -> None:
        self._redis = redis.Redis.from_url(url, decode_responses=True)
        self._prefix = prefix

    def get(self, key: str) -> str | None:
        value = self._redis.get(self._prefix + key)
        return str(value) if value is not None else None

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self._redis.set(self._prefix + key, value, ex=ttl_seconds)


class MemoryCache:
    """For tests and single-process tools; ignores time-to-live."""

    def __init__(self) -> None:
        self.values: dict[str, str] = {}

    def get(self, key: str) -> str | None:
        return self.values.get(key)

    def set(self, key: str, value: str, ttl_seconds: int) -> None:
        self.values[key] = value
