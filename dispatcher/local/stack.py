"""The whole product on one machine, as real processes: embedded or configured PostgreSQL and
Redis, the provider sandbox, Celery workers, Celery beat and the HTTP service.

Used by ``dispatcher demo``, ``dispatcher up``, the integration tests and the benchmark. Every
process is started here and stopped here by its PID.
"""

from __future__ import annotations

import copy
import json
import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from dispatcher.errors import ConfigurationError
from dispatcher.local.embedded import EmbeddedPostgres, EmbeddedRedis, free_port, wait_for_port
from dispatcher.local.processes import ManagedProcess, log_contains, python, start_process
from dispatcher.persistence.database import Database
from dispatcher.persistence.migrate import upgrade
from dispatcher.providers.registry import DEFAULT_PROVIDER
from dispatcher.queueing import QUEUES
from dispatcher.runtime import Endpoints, publish_endpoints, withdraw_endpoints
from dispatcher.sandbox.app import EMULATORS
from dispatcher.sandbox.context import ProviderEmulator

log = logging.getLogger(__name__)


def sandbox_emulator(provider: str) -> type[ProviderEmulator]:
    """The sandbox's emulator of ``provider``: it declares what an account pointed at it needs
    (credentials, settings to read its pushes, where its pushes go), so this module names no
    provider."""
    for emulator in EMULATORS:
        if emulator.name == provider:
            return emulator
    known = ", ".join(sorted(e.name for e in EMULATORS))
    raise ConfigurationError(f"the sandbox emulates no provider {provider!r} (it has: {known})")


def fill_in(config: dict[str, Any], defaults: Mapping[str, Any]) -> None:
    """Add ``defaults`` to a sandbox config where it has no value yet, section by section:
    what a caller set explicitly wins."""
    for key, value in defaults.items():
        current = config.get(key)
        if isinstance(current, dict) and isinstance(value, Mapping):
            fill_in(current, value)
        elif key not in config:
            config[key] = copy.deepcopy(value)


@dataclass
class StackOptions:
    data_dir: Path
    database_url: str | None = None  # None: embedded
    broker_url: str | None = None  # None: embedded
    sandbox: bool = True
    sandbox_config: Mapping[str, Any] = field(default_factory=dict)  # its JSON config
    sandbox_fast: bool = False
    workers: int = 1
    concurrency: int = 2
    queues: tuple[str, ...] = QUEUES
    beat: bool = True
    api: bool = False
    env: Mapping[str, str] = field(default_factory=dict)
    # Accounts pointed at the sandbox: name -> account settings beyond what the provider's
    # emulator declares ("provider" defaults to DEFAULT_PROVIDER; "options__dlr" sets
    # OPTIONS__DLR...). One with a callback_secret gets its pushes through the HTTP service.
    sandbox_accounts: Mapping[str, Mapping[str, str]] = field(
        default_factory=lambda: {"sandbox-smsmode": {}}
    )
    publish: bool = False  # write <data_dir>/services.env for other processes
    # The first worker serves its pool's Prometheus metrics on a free port (worker_metrics_url).
    metrics: bool = False


class LocalStack:
    def __init__(self, options: StackOptions) -> None:
        self.options = options
        self.processes: list[ManagedProcess] = []
        self._embedded: list[EmbeddedPostgres | EmbeddedRedis] = []
        self.endpoints: Endpoints | None = None
        self.sandbox_url: str | None = None
        self.api_url: str | None = None
        self.worker_metrics_url: str | None = None
        self.env: dict[str, str] = {}

    @property
    def log_dir(self) -> Path:
        return self.options.data_dir / "logs"

    def __enter__(self) -> LocalStack:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    def start(self) -> None:
        opts = self.options
        opts.data_dir.mkdir(parents=True, exist_ok=True)
        self.endpoints = Endpoints(
            opts.database_url or self._embed(EmbeddedPostgres(opts.data_dir)),
            opts.broker_url or self._embed(EmbeddedRedis(opts.data_dir)),
        )
        db = Database(self.endpoints.database_url, pool_size=1)
        upgrade(db)
        db.dispose()
        self.env = {
            "DISPATCHER_DATABASE_URL": self.endpoints.database_url,
            "DISPATCHER_BROKER_URL": self.endpoints.broker_url,
            "DISPATCHER_DATA_DIR": str(opts.data_dir),
            **opts.env,
        }
        api_port = free_port() if opts.api else None
        if api_port is not None:
            self.api_url = f"http://127.0.0.1:{api_port}"
            self.env.setdefault("DISPATCHER_CALLBACK_BASE_URL", self.api_url)
        if opts.sandbox:
            self._start_sandbox()
        if api_port is not None:
            self._start_api(api_port)
        for n in range(opts.workers):
            self.start_worker(f"worker{n + 1}")
        if opts.beat:
            self.start_beat()
        if opts.publish:
            publish_endpoints(opts.data_dir, self.endpoints)

    def stop(self) -> None:
        for process in reversed(self.processes):
            process.stop()
        self.processes.clear()
        for server in reversed(self._embedded):
            server.stop()
        self._embedded.clear()
        if self.options.publish:
            withdraw_endpoints(self.options.data_dir)

    # -- processes --------------------------------------------------------------------------

    def start_worker(
        self, name: str, *, queues: tuple[str, ...] | None = None, concurrency: int | None = None
    ) -> ManagedProcess:
        argv = [
            python(),
            "-m",
            "celery",
            "-A",
            "workers.app",
            "worker",
            "-Q",
            ",".join(queues or self.options.queues),
            "-c",
            str(concurrency or self.options.concurrency),
            "-n",
            f"{name}@%h",
            "--without-gossip",
            "--without-mingle",
            "-l",
            "INFO",
        ]
        extra: dict[str, str] = {}
        if self.options.metrics and self.worker_metrics_url is None:
            port = free_port()
            extra["DISPATCHER_METRICS_PORT"] = str(port)
            self.worker_metrics_url = f"http://127.0.0.1:{port}/metrics"
        return self._start(name, argv, log_contains(" ready."), env=extra)

    def start_beat(self, name: str = "beat") -> ManagedProcess:
        """A Celery beat named ``name`` (its log file), with a schedule file of its own so that
        a second one can run beside it: two beats, as a botched deploy leaves, must only
        publish the periodic jobs twice, which every job tolerates (the fault suite runs so)."""
        schedule = self.options.data_dir / f"{name}-schedule"
        argv = [
            python(),
            "-m",
            "celery",
            "-A",
            "workers.app",
            "beat",
            "-s",
            str(schedule),
            "-l",
            "INFO",
        ]
        return self._start(name, argv, log_contains("beat: Starting"))

    def sandbox_account_env(self, account: str, extra: Mapping[str, str]) -> dict[str, str]:
        """Settings that point an account at the sandbox: its emulator's default account, and
        what reading its pushes takes when the account has a callback secret."""
        assert self.sandbox_url is not None
        prefix = f"DISPATCHER_ACCOUNTS__{account.upper().replace('-', '_')}__"
        provider = extra.get("provider", DEFAULT_PROVIDER)
        emulator = sandbox_emulator(provider)
        values = {
            "provider": provider,
            "base_url": self.sandbox_url,
            **emulator.account_settings,
            **(emulator.pushed_account_settings if extra.get("callback_secret") else {}),
            **extra,
        }
        return {prefix + key.upper(): value for key, value in values.items()}

    def _sandbox_config(self) -> dict[str, Any]:
        """The sandbox's config, with the pushes of accounts that have a callback secret
        (reports, inbound SMS) sent to our HTTP service where the emulator sets them in its
        config rather than per request."""
        config: dict[str, Any] = copy.deepcopy(dict(self.options.sandbox_config))
        for account, extra in self.options.sandbox_accounts.items():
            secret = extra.get("callback_secret")
            if not (secret and self.api_url):
                continue
            provider = extra.get("provider", DEFAULT_PROVIDER)
            pushes = sandbox_emulator(provider).push_config(
                f"{self.api_url}/callbacks/{provider}/{account}/{secret}",
                f"{self.api_url}/inbound/{provider}/{account}/{secret}",
            )
            fill_in(config, pushes)
        return config

    def _start_sandbox(self) -> None:
        port = free_port()
        config = self.options.data_dir / "sandbox.json"
        config.write_text(json.dumps(self._sandbox_config()))
        argv = [
            python(),
            "-m",
            "dispatcher.sandbox",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--config",
            str(config),
        ]
        if self.options.sandbox_fast:
            argv.append("--fast")
        self._start("sandbox", argv, lambda _: _port_open(port))
        self.sandbox_url = f"http://127.0.0.1:{port}"
        for account, extra in self.options.sandbox_accounts.items():
            for key, value in self.sandbox_account_env(account, extra).items():
                self.env.setdefault(key, value)

    def _start_api(self, port: int) -> None:
        argv = [python(), "-m", "dispatcher.cli", "api", "--host", "127.0.0.1", "--port", str(port)]
        self._start("api", argv, lambda _: _port_open(port))

    def _start(
        self,
        name: str,
        argv: list[str],
        ready: Callable[[ManagedProcess], bool],
        env: Mapping[str, str] | None = None,
    ) -> ManagedProcess:
        environ = {**self.env, **(env or {})}
        process = start_process(name, argv, env=environ, log_dir=self.log_dir, ready=ready)
        self.processes.append(process)
        log.info("started %s (pid %s)", name, process.pid)
        return process

    def _embed(self, server: EmbeddedPostgres | EmbeddedRedis) -> str:
        url = server.start()
        self._embedded.append(server)
        return url

    def sandbox(self) -> httpx.Client:
        """A client for the sandbox's admin API (``/_sandbox/...``)."""
        assert self.sandbox_url is not None
        return httpx.Client(base_url=self.sandbox_url, timeout=10)


def _port_open(port: int) -> bool:
    try:
        wait_for_port(port, timeout=0.05)
    except TimeoutError:
        return False
    return True
