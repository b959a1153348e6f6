"""Wiring for one process: settings -> database, broker, limiter, adapters -> ``Deps``.

When the database or broker URL is not set, a running local stack (``dispatcher up`` or the
demo) may have published its embedded servers' URLs in ``<data_dir>/services.env``.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

from dispatcher.breaker import RedisBreaker
from dispatcher.cache import RedisCache
from dispatcher.errors import ConfigurationError
from dispatcher.persistence.database import Database
from dispatcher.providers.base import Provider
from dispatcher.providers.registry import adapter_for
from dispatcher.queueing import CeleryPublisher, producer_app
from dispatcher.ratelimit import RedisRateLimiter
from dispatcher.services.deps import Deps, Publisher
from dispatcher.settings import Settings, get_settings

SERVICES_ENV = "services.env"


@dataclass(frozen=True)
class Endpoints:
    database_url: str
    broker_url: str


def publish_endpoints(data_dir: Path, endpoints: Endpoints) -> Path:
    path = data_dir / SERVICES_ENV
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(
        f"DISPATCHER_DATABASE_URL={endpoints.database_url}\n"
        f"DISPATCHER_BROKER_URL={endpoints.broker_url}\n"
    )
    return path


def withdraw_endpoints(data_dir: Path) -> None:
    (data_dir / SERVICES_ENV).unlink(missing_ok=True)


def resolve_endpoints(settings: Settings) -> Endpoints:
    database_url, broker_url = settings.database_url, settings.broker_url
    published = data_dir_env(settings.data_dir)
    database_url = database_url or published.get("DISPATCHER_DATABASE_URL")
    broker_url = broker_url or published.get("DISPATCHER_BROKER_URL")
    missing = [
        n
        for n, v in (
            ("DISPATCHER_DATABASE_URL", database_url),
            ("DISPATCHER_BROKER_URL", broker_url),
        )
        if not v
    ]
    if missing:
        raise ConfigurationError(
            f"set {' and '.join(missing)} (PostgreSQL and Redis URLs), or start the local stack "
            "with embedded servers: `dispatcher up`"
        )
    assert database_url
    assert broker_url
    return Endpoints(database_url, broker_url)


def data_dir_env(data_dir: Path) -> dict[str, str]:
    path = data_dir / SERVICES_ENV
    if not path.exists():
        return {}
    pairs = (line.split("=", 1) for line in path.read_text().splitlines() if "=" in line)
    return {k.strip(): v.strip() for k, v in pairs}


def build_deps(settings: Settings, publisher: Publisher | None = None) -> Deps:
    endpoints = resolve_endpoints(settings)
    retry_seconds = settings.timings.nothing_sent_retry_seconds
    adapters: dict[str, Provider] = {}

    def adapter(name: str) -> Provider:
        account = settings.account(name)
        if account.name not in adapters:
            adapters[account.name] = adapter_for(account, retry_seconds=retry_seconds)
        return adapters[account.name]

    return Deps(
        settings=settings,
        db=Database(endpoints.database_url),
        publisher=publisher
        or CeleryPublisher(producer_app(endpoints.broker_url, settings.visibility_timeout_seconds)),
        limiter=RedisRateLimiter(endpoints.broker_url),
        adapters=adapter,
        cache=RedisCache(endpoints.broker_url),
        breaker=RedisBreaker(endpoints.broker_url),
    )


_lock = threading.Lock()
_default: Deps | None = None


def default_deps() -> Deps:
    """This process's wiring from the environment, built once."""
    global _default
    with _lock:
        if _default is None:
            _default = build_deps(get_settings())
        return _default


def reset_default_deps() -> None:
    """Forget the wiring inherited from a parent process (after a fork)."""
    global _default
    with _lock:
        _default = None
