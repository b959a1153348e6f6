"""The fault suite's stack: its own PostgreSQL and Redis (it restarts and kills them, so it
never touches servers on 127.0.0.1:5432/6379), the provider sandbox, two Celery workers and
two Celery beats, as real processes started and stopped by PID; ``--scale`` for the size of
every scenario's campaigns, and the table of results printed at the end of the run.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from dispatcher.local.embedded import EmbeddedPostgres, EmbeddedRedis
from dispatcher.local.servers import database_url
from dispatcher.local.stack import LocalStack, StackOptions
from dispatcher.persistence.database import create_database
from dispatcher.runtime import build_deps
from dispatcher.services.deps import Deps
from dispatcher.settings import load_settings
from tests.faults.gate import Gate
from tests.faults.ledger import Row, markdown_table
from tests.faults.scenario import FaultStack
from tests.support.sandbox import sandbox_config

# Scaled down like the integration tests' timings, so each fault recovers within seconds; the
# table's times are therefore times under these settings, not under the product's defaults.
FAULT_TIMINGS = {
    "DISPATCHER_TIMINGS__SWEEP_INTERVAL_SECONDS": "0.5",
    "DISPATCHER_TIMINGS__REAP_INTERVAL_SECONDS": "1",
    "DISPATCHER_TIMINGS__REPUBLISH_AFTER_SECONDS": "3",
    "DISPATCHER_TIMINGS__CLAIM_LEASE_SECONDS": "3",
    "DISPATCHER_TIMINGS__POLL_LEASE_SECONDS": "5",
    "DISPATCHER_TIMINGS__RETRY_BASE_SECONDS": "0.2",
    "DISPATCHER_TIMINGS__RETRY_CAP_SECONDS": "2",
    "DISPATCHER_TIMINGS__POLL_FIRST_DELAY_SECONDS": "0.5",
    "DISPATCHER_TIMINGS__POLL_GROWTH": "1.5",
    "DISPATCHER_TIMINGS__POLL_MAX_INTERVAL_SECONDS": "2",
    # 36 s: far beyond the sandbox's fast reports, near enough for a scenario to reach it.
    "DISPATCHER_TIMINGS__POLL_HORIZON_HOURS": "0.01",
    "DISPATCHER_TIMINGS__SEND_LEASE_MARGIN_SECONDS": "1",
    "DISPATCHER_TIMINGS__NOTHING_SENT_RETRY_SECONDS": "1",
    # The breaker opens after 3 not-sent answers; probes after 1, 2, 4, then every 8 s.
    "DISPATCHER_TIMINGS__BREAKER_THRESHOLD": "3",
    "DISPATCHER_TIMINGS__BREAKER_PROBE_BASE_SECONDS": "1",
    "DISPATCHER_TIMINGS__BREAKER_PROBE_GROWTH": "2",
    "DISPATCHER_TIMINGS__BREAKER_PROBE_MAX_SECONDS": "8",
    # Answers kept across a database restart: 8 s covers the 2 s restart of S3 and keeps the
    # send lease (which includes it) short enough for S1's reaper.
    "DISPATCHER_TIMINGS__DB_RETRY_SECONDS": "8",
    # Reconciliation looks every 0.5 s and calls a batch absent after two reads 3 s apart
    # (60 s by default), so S1's unplaced batches settle well inside its bound.
    "DISPATCHER_TIMINGS__RECONCILE_INTERVAL_SECONDS": "0.5",
    "DISPATCHER_TIMINGS__RECONCILE_CONFIRM_SECONDS": "3",
    "DISPATCHER_TIMINGS__RECONCILE_RETRY_SECONDS": "0.5",
}

# A short answer timeout keeps the send lease (connect + read + retry + margin, about 8 s)
# short: a batch whose worker was killed mid-request is reaped within seconds.
_QUICK = {"connect_timeout": "1", "read_timeout": "5"}
FAULT_ACCOUNTS = {
    "f-smsmode": {"method": "POST", "batch_size": "200", **_QUICK},
    # A configured rate: no discovery request (Envoyer's limit is another helper's subject).
    "f-envoyer": {
        "provider": "envoyer",
        "method": "POST",
        "batch_size": "200",
        "rate_limit": "50/second",
        **_QUICK,
    },
    # Tokens of their own, so that a fault rule can aim at every request of one account,
    # reports included (a report request carries no text to match).
    "f-outage": {"method": "POST", "batch_size": "200", "access_token": "outage-token", **_QUICK},
    "f-polls": {"method": "POST", "batch_size": "200", "access_token": "polls-token", **_QUICK},
    # "f-gated" (sMsmode behind the gate, which refuses connections when closed) is added by the
    # fixture, which knows the gate's port.
}

SANDBOX_CONFIG = sandbox_config(1000000)

ROWS = pytest.StashKey[list[Row]]()
LOG_DIR = pytest.StashKey[Path]()


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--scale",
        type=float,
        default=float(os.environ.get("DISPATCHER_FAULTS_SCALE", "1")),
        help="fault suite: multiply every scenario's recipients (5 gives S1 100,000)",
    )
    parser.addoption(
        "--outage-seconds",
        type=float,
        default=float(os.environ.get("DISPATCHER_FAULTS_OUTAGE_SECONDS", "120")),
        help="fault suite: how long the provider outage scenario (S4) keeps the provider down",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.stash[ROWS] = []


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    rows = config.stash.get(ROWS, [])
    if not rows:
        return
    table = markdown_table(rows)
    terminalreporter.write_sep("=", "fault suite")
    terminalreporter.write_line(table)
    out = config.rootpath / ".dispatcher" / "faults-table.md"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(table + "\n")
    terminalreporter.write_line(f"(also written to {out})")
    if LOG_DIR in config.stash and config.stash[LOG_DIR].exists():
        terminalreporter.write_line(f"processes' logs: {config.stash[LOG_DIR]}")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The outage scenario's timeout follows ``--outage-seconds``."""
    outage = _option_value(config, "--outage-seconds", "DISPATCHER_FAULTS_OUTAGE_SECONDS", "120")
    for item in items:
        if item.name.startswith("test_s4_"):
            item.add_marker(pytest.mark.timeout(outage + 180))


@pytest.fixture
def table(request: pytest.FixtureRequest) -> list[Row]:
    """Where a scenario puts its row; printed at the end of the run, failed scenarios too."""
    return request.config.stash[ROWS]


@pytest.fixture(scope="session")
def scale(request: pytest.FixtureRequest) -> float:
    return _option(request, "--scale", "DISPATCHER_FAULTS_SCALE", "1")


@pytest.fixture(scope="session")
def outage_seconds(request: pytest.FixtureRequest) -> float:
    return _option(request, "--outage-seconds", "DISPATCHER_FAULTS_OUTAGE_SECONDS", "120")


def _option(request: pytest.FixtureRequest, name: str, variable: str, default: str) -> float:
    return _option_value(request.config, name, variable, default)


def _option_value(config: pytest.Config, name: str, variable: str, default: str) -> float:
    """A command-line option of this conftest, which pytest only registers when it started from
    a path holding it (``pytest tests/faults``), else its environment variable."""
    try:
        value = config.getoption(name)
    except ValueError:
        value = os.environ.get(variable, default)
    return float(value)


@pytest.fixture(scope="package")
def faults(request: pytest.FixtureRequest) -> Iterator[FaultStack]:
    # Not under pytest's tmp dir: run as root, PostgreSQL runs as its own user, and every
    # pytest session starting meanwhile makes /tmp/pytest-of-root private again (and deletes
    # old runs' dirs).
    base = Path(tempfile.mkdtemp(prefix="dispatcher-faults-"))
    pg_dir = base / "pg"
    pg_dir.mkdir()
    postgres, redis = EmbeddedPostgres(pg_dir), EmbeddedRedis(base)
    gate = Gate(target=0)  # its target is the sandbox's port, known once the stack runs
    # Two requests a second: its campaign is still sending when the gate closes.
    gated = {
        "method": "POST",
        "batch_size": "200",
        "base_url": gate.url,
        "rate_limit": "2/second",
        **_QUICK,
    }
    accounts = {**FAULT_ACCOUNTS, "f-gated": gated}  # its base_url wins over the sandbox's
    try:
        admin_url = postgres.start()
        create_database(admin_url, "dispatcher_faults")
        options = StackOptions(
            data_dir=base / "stack",
            database_url=database_url(admin_url, "dispatcher_faults"),
            broker_url=redis.start(),
            sandbox_config=SANDBOX_CONFIG,
            sandbox_fast=True,
            workers=2,
            concurrency=3,
            beat=True,
            env=FAULT_TIMINGS,
            sandbox_accounts=accounts,
        )
        request.config.stash[LOG_DIR] = options.data_dir / "logs"
        with LocalStack(options) as stack:
            assert stack.sandbox_url is not None
            gate.target = int(stack.sandbox_url.rsplit(":", 1)[1])
            gate.open()
            stack.start_beat("beat2")  # every scenario runs under two beats
            deps = _deps(stack)
            yield FaultStack(postgres, redis, stack, deps, gate)
            deps.db.dispose()
    finally:
        gate.close()
        redis.stop()
        postgres.stop()
        # The processes' logs stay for a post-mortem when a test failed.
        kept = request.session.testsfailed and (base / "stack").exists()
        shutil.rmtree(pg_dir if kept else base, ignore_errors=True)


def _deps(stack: LocalStack) -> Deps:
    """The test process's own wiring, with the settings the workers have."""
    with pytest.MonkeyPatch.context() as patch:
        for key in [k for k in os.environ if k.startswith("DISPATCHER_")]:
            patch.delenv(key)
        for key, value in stack.env.items():
            patch.setenv(key, value)
        settings = load_settings(_env_file=None)
    return build_deps(settings)
