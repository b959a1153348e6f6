"""One real stack for the integration session: PostgreSQL (a fresh database), Redis (the
session's own database index), the provider sandbox, a Celery worker, Celery beat and the HTTP
service, as separate processes started and stopped by PID.
"""

from __future__ import annotations

import itertools
import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from dispatcher.local.servers import ServerUrls, fresh_database, local_servers
from dispatcher.local.stack import LocalStack, StackOptions
from dispatcher.persistence.database import Database
from dispatcher.runtime import build_deps
from dispatcher.services.deps import Deps
from dispatcher.settings import load_settings
from tests.integration.world import World, make_world
from tests.support.sandbox import sandbox_config

pytestmark = pytest.mark.integration

CALLBACK_SECRET = "push-secret-for-tests"
PUSH_TOKEN = "push-token"

FAST_TIMINGS = {
    "DISPATCHER_TIMINGS__SWEEP_INTERVAL_SECONDS": "0.5",
    "DISPATCHER_TIMINGS__REAP_INTERVAL_SECONDS": "1",
    "DISPATCHER_TIMINGS__REPUBLISH_AFTER_SECONDS": "3",
    "DISPATCHER_TIMINGS__RETRY_BASE_SECONDS": "0.2",
    "DISPATCHER_TIMINGS__RETRY_CAP_SECONDS": "1",
    # The circuit breaker on the same scale: a fault aimed at one test's sends may open its
    # account's breaker, and the next test on that account must not wait a minute for a probe.
    "DISPATCHER_TIMINGS__BREAKER_PROBE_BASE_SECONDS": "0.2",
    "DISPATCHER_TIMINGS__BREAKER_PROBE_MAX_SECONDS": "1",
    "DISPATCHER_TIMINGS__POLL_FIRST_DELAY_SECONDS": "0.5",
    "DISPATCHER_TIMINGS__POLL_GROWTH": "1.5",
    "DISPATCHER_TIMINGS__POLL_MAX_INTERVAL_SECONDS": "2",
    "DISPATCHER_TIMINGS__SEND_LEASE_MARGIN_SECONDS": "1",
    # The send lease includes it: a killed worker's batch is reaped seconds later, not 20.
    "DISPATCHER_TIMINGS__DB_RETRY_SECONDS": "2",
    "DISPATCHER_TIMINGS__NOTHING_SENT_RETRY_SECONDS": "1",
    "DISPATCHER_TIMINGS__CALLBACK_DRAIN_INTERVAL_SECONDS": "0.3",
    "DISPATCHER_TIMINGS__CALLBACK_SETTLE_SECONDS": "0.2",
    "DISPATCHER_TIMINGS__RECONCILE_INTERVAL_SECONDS": "0.5",
    "DISPATCHER_TIMINGS__RECONCILE_CONFIRM_SECONDS": "2",
    "DISPATCHER_TIMINGS__RECONCILE_RETRY_SECONDS": "0.5",
    "DISPATCHER_API_TOKENS": '["producer-token-for-tests"]',
}

# "sandbox" may make plenty of Envoyer requests, "limited" 3 per window.
SANDBOX_CONFIG = sandbox_config(
    100000,
    {"login": "limited", "password": "limited-token", "account_id": 2, "api_request_limit": 3},
)

# Accounts on the sandbox, each for one kind of test.
SANDBOX_ACCOUNTS = {
    "sandbox-smsmode": {},
    "sandbox-get": {"method": "GET"},
    # Its own token, so that a test can make the sandbox refuse its polls and leave callbacks
    # as the only way reports arrive.
    "sandbox-push": {"callback_secret": CALLBACK_SECRET, "access_token": PUSH_TOKEN},
    # Gives up waiting for an answer after 1 s: the sandbox's slow faults outlast it.
    "sandbox-slow": {"read_timeout": "1", "connect_timeout": "1"},
    "sandbox-push-slow": {
        "callback_secret": CALLBACK_SECRET,
        "read_timeout": "1",
        "connect_timeout": "1",
    },
    "sandbox-smsfactor": {"provider": "smsfactor", "callback_secret": CALLBACK_SECRET},
    "sandbox-smsfactor-slow": {
        "provider": "smsfactor",
        "read_timeout": "1",
        "connect_timeout": "1",
    },
    # Reports are pushed to the HTTP service in the sandbox's documented format.
    "sandbox-bulkgw": {
        "provider": "bulkgw",
        "callback_secret": CALLBACK_SECRET,
        "options__dlr": "true",
        "options__report_time_format": "%Y-%m-%d %H:%M:%S",
        "timezone": "UTC",
        "rate_limit": "50/second",
    },
    "sandbox-bulkgw-slow": {"provider": "bulkgw", "read_timeout": "1", "connect_timeout": "1"},
    "sandbox-envoyer": {"provider": "envoyer"},
    "sandbox-envoyer-get": {"provider": "envoyer", "method": "GET"},
    "sandbox-envoyer-slow": {"provider": "envoyer", "read_timeout": "1", "connect_timeout": "1"},
    "sandbox-envoyer-limited": {
        "provider": "envoyer",
        "username": "limited",
        "password": "limited-token",
        "method": "GET",
        "rate_limit": "3 per 5 seconds",
    },
    # One request every 2 seconds, shared by every worker process.
    "sandbox-limited": {"rate_limit": "1 per 2 seconds", "method": "GET"},
    # Waits 6 s for an answer: long enough to kill its worker mid-request.
    "sandbox-patient": {"read_timeout": "6", "connect_timeout": "1"},
}


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerUrls]:
    with local_servers(tmp_path_factory.mktemp("servers")) as found:
        print(f"\nintegration servers: {found.source}")
        yield found


@pytest.fixture(scope="session")
def database_url(servers: ServerUrls) -> Iterator[str]:
    with fresh_database(servers.admin_url) as url:
        yield url


@pytest.fixture(scope="module")
def database(servers: ServerUrls, request: pytest.FixtureRequest) -> Iterator[Database]:
    """A database of the test module's own, for service-level tests that need no workers."""
    module = request.module.__name__.rsplit(".", 1)[-1].removeprefix("test_")
    with fresh_database(servers.admin_url, prefix=f"dispatcher_{module}") as url:
        db = Database(url)
        yield db
        db.dispose()


@pytest.fixture
def world(database: Database) -> World:
    """The services on ``database``, with the clock and provider of tests/integration/world.py."""
    return make_world(database)


@pytest.fixture(scope="session")
def stack(
    servers: ServerUrls, database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LocalStack]:
    options = StackOptions(
        data_dir=Path(tmp_path_factory.mktemp("stack")),
        sandbox_config=SANDBOX_CONFIG,
        database_url=database_url,
        broker_url=servers.redis_url,
        sandbox_fast=True,
        workers=1,
        concurrency=3,
        beat=True,
        api=True,
        env=FAST_TIMINGS,
        sandbox_accounts=SANDBOX_ACCOUNTS,
        metrics=True,  # the worker's exporter (stack.worker_metrics_url): test_metrics.py
    )
    with LocalStack(options) as running:
        yield running


@pytest.fixture(scope="session")
def deps(stack: LocalStack) -> Iterator[Deps]:
    """The test process's own wiring, with the settings the workers have."""
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("DISPATCHER_")]:
            patch.delenv(key)
        for key, value in stack.env.items():
            patch.setenv(key, value)
        settings = load_settings(_env_file=None)
    wired = build_deps(settings)
    yield wired
    wired.db.dispose()


@pytest.fixture
def sandbox(stack: LocalStack) -> Iterator[httpx.Client]:
    """The sandbox's admin API; faults set by a test are removed after it."""
    with stack.sandbox() as client:
        yield client
        client.delete("/_sandbox/faults")


_counter = itertools.count(1)


@pytest.fixture
def marker() -> str:
    """A word unique to one test, put in its campaign's text to aim faults and find submissions."""
    return f"T{next(_counter)}x{uuid.uuid4().hex[:6]}"
