"""What the services need from the outside world, passed in rather than imported."""

from __future__ import annotations

import os
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Protocol

from dispatcher.breaker import Breaker, MemoryBreaker
from dispatcher.cache import MemoryCache, SharedCache
from dispatcher.persistence.database import Database
from dispatcher.providers.base import Provider
from dispatcher.ratelimit import RateLimiter
from dispatcher.settings import Settings


class Publisher(Protocol):
    """Puts wake-up messages on the broker. Messages carry ids only."""

    def plan(self, campaign_id: int) -> None: ...

    def submit(self, batch_ids: Sequence[int]) -> None: ...

    def poll(self, batch_ids: Sequence[int]) -> None: ...


def utcnow() -> datetime:
    return datetime.now(UTC)


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


@dataclass
class Deps:
    settings: Settings
    db: Database
    publisher: Publisher
    limiter: RateLimiter
    adapters: Callable[[str], Provider]  # account name -> adapter
    cache: SharedCache = field(default_factory=MemoryCache)
    # The circuit breaker per provider account; shared through Redis in a real process.
    breaker: Breaker = field(default_factory=MemoryBreaker)
    clock: Callable[[], datetime] = utcnow
    worker: str = field(default_factory=worker_name)
