"""The facts ``dispatcher doctor`` judges, gathered with short timeouts, in order.

Every probe is guarded: an exception becomes a FAIL line naming what was found, and the
checks that needed the unreachable server are skipped. Nothing here waits longer than
``TIMEOUT_SECONDS`` per server or ``PING_SECONDS`` for the workers' answers.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path

import httpx
import redis
from kombu import Connection as KombuConnection

from dispatcher.errors import ConfigurationError
from dispatcher.persistence.health import DatabaseFacts, probe
from dispatcher.services.doctor import (
    OVERDUE_GRACE_SECONDS,
    PING_SECONDS,
    TIMEOUT_SECONDS,
    Check,
    account_check,
    accounts_of,
    beat_check,
    env_file,
    failed,
    migrations_check,
    now_utc,
    settings_read,
    skew_check,
    where,
    workers_check,
)
from dispatcher.settings import AccountSettings, Settings, load_settings

# The credentials each provider's requests carry (the adapters read them with
# ``account.secret`` / ``account.required``); any other provider: login and password.
CREDENTIALS: Mapping[str, tuple[str, ...]] = {"smsmode": ("access_token",)}
LOGIN_AND_PASSWORD = ("username", "password")


@dataclass(frozen=True)
class BrokerFacts:
    detail: str
    now: datetime | None  # Redis TIME; None for AMQP


def run_checks(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> list[Check]:
    environ = os.environ if environ is None else environ
    env = (cwd / ".env") if cwd is not None else env_file()
    checks: list[Check] = []
    try:
        settings = load_settings()
    except ConfigurationError as exc:
        lines = [line.strip() for line in str(exc).splitlines()[1:]] or [str(exc)]
        checks.append(Check("settings", "FAIL", "; ".join(lines), "fix the variables named"))
        return checks
    checks.append(Check("settings", "ok", settings_read(environ, env)))
    try:
        from dispatcher.runtime import resolve_endpoints

        endpoints = resolve_endpoints(settings)
    except ConfigurationError as exc:
        checks.append(failed("endpoints", exc))
        return checks
    clocks: dict[str, datetime] = {}
    host_before = now_utc()
    facts = _database(checks, endpoints.database_url)
    if facts is not None:
        clocks["PostgreSQL"] = facts.now
    broker = _broker(checks, endpoints.broker_url)
    if broker is not None and broker.now is not None:
        clocks["Redis"] = broker.now
    host_after = now_utc()
    checks.append(skew_check(host_before + (host_after - host_before) / 2, clocks))
    if broker is not None:
        checks.append(_workers(endpoints.broker_url, settings))
    if facts is not None:
        checks.append(beat_check(facts.overdue, facts.now))
    checks += [_account(settings, account) for account in accounts_of(settings)]
    if not settings.accounts:
        checks.append(
            Check(
                "accounts",
                "warn",
                "no provider account is configured",
                "set DISPATCHER_ACCOUNTS__<NAME>__PROVIDER and __BASE_URL (README, Settings)",
            )
        )
    return checks


def _database(checks: list[Check], url: str) -> DatabaseFacts | None:
    at = where(url)
    try:
        facts = probe(url, timeout=TIMEOUT_SECONDS, overdue_before=OVERDUE_GRACE_SECONDS)
    except Exception as exc:  # whatever stops the connection is the finding
        checks.append(failed("database", exc, f"is PostgreSQL running at {at}? check "
                             "DISPATCHER_DATABASE_URL"))  # fmt: skip
        return None
    latency = facts.latency_seconds * 1000
    checks.append(
        Check("database", "ok", f"PostgreSQL {facts.version} at {at}, {latency:.0f} ms a query")
    )
    try:
        checks.append(migrations_check(facts.revision, _head()))
    except Exception as exc:  # the migration scripts themselves unreadable
        checks.append(failed("migrations", exc))
    return facts


def _head() -> str:
    from alembic.script import ScriptDirectory

    from dispatcher.persistence.migrate import MIGRATIONS

    head = ScriptDirectory(str(MIGRATIONS)).get_current_head()
    if head is None:
        raise ConfigurationError(f"no migration found under {MIGRATIONS}")
    return head


def _broker(checks: list[Check], url: str) -> BrokerFacts | None:
    at = where(url)
    try:
        facts = _redis(url) if url.startswith(("redis://", "rediss://")) else _amqp(url)
    except Exception as exc:  # whatever stops the connection is the finding
        checks.append(failed("broker", exc, f"is the broker running at {at}? check "
                             "DISPATCHER_BROKER_URL"))  # fmt: skip
        return None
    checks.append(Check("broker", "ok", f"{facts.detail} at {at}"))
    return facts


def _redis(url: str) -> BrokerFacts:
    client = redis.Redis.from_url(
        url, socket_connect_timeout=TIMEOUT_SECONDS, socket_timeout=TIMEOUT_SECONDS
    )
    try:
        client.ping()
        info: dict[str, object] = client.info("server")  # type: ignore[assignment]
        version = info.get("redis_version", "?")
        seconds, micros = client.time()  # type: ignore[misc]
    finally:
        client.close()
    return BrokerFacts(f"Redis {version}", datetime.fromtimestamp(seconds + micros / 1e6, UTC))


def _amqp(url: str) -> BrokerFacts:
    with KombuConnection(url, connect_timeout=TIMEOUT_SECONDS) as conn:
        conn.ensure_connection(max_retries=1, timeout=int(TIMEOUT_SECONDS))
        return BrokerFacts(f"{conn.transport_cls} broker", None)


def _workers(broker_url: str, settings: Settings) -> Check:
    from dispatcher.queueing import producer_app

    app = producer_app(broker_url, settings.visibility_timeout_seconds)
    try:
        answers = app.control.inspect(timeout=PING_SECONDS).ping()
    except Exception as exc:  # a broker that stopped answering between two checks
        return failed("workers", exc)
    finally:
        app.close()
    return workers_check(answers)


def _account(settings: Settings, account: AccountSettings) -> Check:
    from dispatcher.providers.registry import REGISTRY, adapter_for

    needs = CREDENTIALS.get(account.provider, LOGIN_AND_PASSWORD)
    if not REGISTRY[account.provider].has_balance:
        return account_check(account, needs, None)

    def balance() -> Decimal:
        short = account.model_copy(
            update={
                "connect_timeout": min(account.connect_timeout, TIMEOUT_SECONDS),
                "read_timeout": min(account.read_timeout, TIMEOUT_SECONDS),
            }
        )
        with httpx.Client() as client:
            return adapter_for(short, client=client, retry_seconds=0).balance()

    return account_check(account, needs, balance)
