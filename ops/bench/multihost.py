"""The benchmark past one machine: workers on separate hosts, a real campaign end to end.

    python -m ops.bench.multihost --recipients 100000 --hosts 2
    ./dev bench --hosts 2 --recipients 100000        # the same (./dev hands --hosts here)

Hosts are network namespaces on a private bridge (``ops/bench/hosts.py``), each with its own
address and hostname:

    host side  PostgreSQL 15 (a cluster of the run's own) and redis-server, on the bridge
               address only; the producer (``enqueue``) and this script
    prov       the provider sandbox: every provider request crosses from a worker host to it
    ctl        Celery beat (exactly one) and the plan worker
    w1..wN     a submit worker and a poll worker each

The system's PostgreSQL and Redis listen on 127.0.0.1, which a namespace cannot reach, so the
run starts its own: ``initdb`` into the run's temp dir (the system cluster's settings:
128 MB shared_buffers, autovacuum off, fsync on; plus pg_stat_statements) and a redis-server
without persistence, both bound to the bridge address. Servers, rather than forwarders to the
system's: a forwarder would be one more hop and one more process on the path being measured.
Each host connects to PostgreSQL as a role of its own (as separate machines would have
their own credentials), which is how pg_stat_statements tells what each host did.

Prints the bench's figures (enqueue, every batch submitted, every report applied, HTTP
requests, statements per batch), then per host its batches accepted, statements, database
time, peak RSS and CPU, then what PostgreSQL wrote (rows inserted, updated, deleted, WAL) and
Redis served (commands), and checks the sandbox's own record against the database: every
recipient accepted exactly once, nobody else accepted, every recipient final. Everything it
creates (namespaces, bridge, servers, processes, temp dir) is removed at the end, also on
Ctrl-C, SIGTERM and errors. A benchmark, not a test: it asserts no duration.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import shutil
import subprocess
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import httpx
import psutil
import psycopg
import redis
from sqlalchemy import text

from dispatcher.domain.statuses import BatchState
from dispatcher.local.processes import ManagedProcess, log_contains, python, start_process
from dispatcher.local.sample import french_mobiles
from dispatcher.local.stack import sandbox_emulator
from dispatcher.logs import configure_logging
from dispatcher.persistence import campaigns
from dispatcher.persistence.database import Database, create_database
from dispatcher.persistence.migrate import upgrade
from dispatcher.persistence.partitions import events_table, recipients_table
from dispatcher.queueing import HOUSEKEEPING_QUEUE, PLAN_QUEUE, POLL_QUEUE, SUBMIT_QUEUE
from dispatcher.runtime import build_deps
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.settings import account_env_var, settings_from_env
from ops.bench.history import load_history
from ops.bench.hosts import Host, Hosts, stop_on_sigterm, wait_until
from ops.bench.memory import PeakMemory
from ops.bench.pipeline import ACCOUNT, SANDBOX, TEXT, TIMINGS
from workers.statements import KEY_VARIABLE

PG_BIN = Path("/usr/lib/postgresql/15/bin")
PG_PORT = 5432
REDIS_PORT = 6379
SANDBOX_PORT = 8765
DATABASE = "dispatcher"
PROVIDER = "smsmode"
# The system cluster's settings (SHOW ... on 127.0.0.1:5432), so the figures compare with
# the single-host bench; pg_stat_statements to tell the hosts apart.
PG_SETTINGS = {
    "shared_buffers": "128MB",
    "max_wal_size": "1GB",
    "min_wal_size": "80MB",
    "autovacuum": "off",
    "max_connections": "100",
    "shared_preload_libraries": "pg_stat_statements",
}
FINAL = ("delivered", "failed", "expired", "cancelled")
# Each kind of worker process and its queues; together they consume every queue.
WORKER_QUEUES = {
    "plan": (PLAN_QUEUE, HOUSEKEEPING_QUEUE),  # one, on the control host
    "submit": (SUBMIT_QUEUE,),  # one of each on every worker host
    "poll": (POLL_QUEUE,),
}


@dataclass
class HostFigures:
    host: str
    address: str
    processes: list[str]
    batches_accepted: int  # its calls of the statement that records an accepted send
    statements: int
    db_seconds: float  # PostgreSQL execution time of its statements
    peak_rss_mb: float  # its largest process
    cpu_s: float  # user + system of all its processes during the campaign


@dataclass
class Ledger:
    """The sandbox's record of accepted submissions against the database's recipients."""

    recipients: int
    accepted_once: int
    duplicates: int  # recipients accepted more than once
    never_accepted: int
    strangers: int  # numbers accepted that are no recipient of the campaign
    not_final: int
    submissions: int

    @property
    def exact(self) -> bool:
        return self.accepted_once == self.recipients and not (
            self.duplicates or self.never_accepted or self.strangers or self.not_final
        )


@dataclass
class MultiHostFigures:
    recipients: int
    worker_hosts: int
    history: int
    enqueue_s: float
    submitted_s: float  # after enqueue returned
    reported_s: float  # after enqueue returned
    batches: int
    statements: int
    http_requests: dict[str, int]
    hosts: list[HostFigures]
    postgres: dict[str, int]  # rows inserted/updated/deleted, commits, WAL bytes
    top_statements: list[dict[str, Any]]
    redis_commands: dict[str, int]
    ledger: Ledger
    addresses: dict[str, str] = field(default_factory=dict)
    # The machine's 1-minute load average before and after: other work on the same CPUs
    # shows here, and makes the run's times longer.
    load_average: tuple[float, float] = (0.0, 0.0)
    storage_bytes: dict[str, int] = field(default_factory=dict)  # the campaign's partitions
    postgres_settings: dict[str, str] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["ledger"]["exact"] = self.ledger.exact
        return data


# -- the host side: PostgreSQL and Redis on the bridge address ---------------------------------


class HostSideServers:
    """A PostgreSQL cluster and a redis-server of the run's own, listening on ``address``
    only; both children of this process, stopped by PID."""

    def __init__(self, hosts: Hosts, work: Path, settings: Mapping[str, str] | None = None) -> None:
        self.hosts, self.work = hosts, work
        self.settings = {**PG_SETTINGS, **(settings or {})}
        self.address = hosts.host_side
        self._processes: list[subprocess.Popen[bytes]] = []

    @property
    def admin_url(self) -> str:
        return f"postgresql://postgres@{self.address}:{PG_PORT}/postgres"

    @property
    def redis_url(self) -> str:
        return f"redis://{self.address}:{REDIS_PORT}/0"

    def database_url(self, role: str = "postgres") -> str:
        return f"postgresql://{role}@{self.address}:{PG_PORT}/{DATABASE}"

    def __enter__(self) -> HostSideServers:
        try:
            self._start_postgres()
            self._start_redis()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *_: object) -> None:
        self.stop()

    def stop(self) -> None:
        for process in reversed(self._processes):
            if process.poll() is None:
                process.terminate()  # PostgreSQL: smart shutdown; nothing is connected now
                try:
                    process.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    process.kill()
                    process.wait()
        self._processes.clear()

    def _start(self, argv: list[str], log: str, *, user: str | None = None) -> None:
        with (self.work / log).open("wb") as out:
            process = subprocess.Popen(  # noqa: S603 (argv built here)
                argv, stdout=out, stderr=subprocess.STDOUT, user=user, start_new_session=True
            )
        self._processes.append(process)
        self.hosts.record(process.pid)

    def _start_postgres(self) -> None:
        # PostgreSQL refuses to run as root: its directories belong to the postgres user.
        pgdata, sockets = self.work / "pgdata", self.work / "pgsock"
        for path in (pgdata, sockets):
            path.mkdir()
            shutil.chown(path, "postgres", "postgres")
        subprocess.run(  # noqa: S603
            [
                *(str(PG_BIN / "initdb"), "-D", str(pgdata), "-U", "postgres", "-A", "trust"),
                *("-E", "UTF8", "--locale", "C.UTF-8", "--no-sync"),
            ],
            user="postgres",
            check=True,
            capture_output=True,
        )
        with (pgdata / "pg_hba.conf").open("a") as hba:
            hba.write(f"host all all {self.hosts.cidr} trust\n")
        settings = {
            **self.settings,
            "listen_addresses": self.address,
            "port": str(PG_PORT),
            "unix_socket_directories": str(sockets),
        }
        argv = [str(PG_BIN / "postgres"), "-D", str(pgdata)]
        for name, value in settings.items():
            argv += ["-c", f"{name}={value}"]
        self._start(argv, "postgres.log", user="postgres")
        wait_until(lambda: _postgres_up(self.admin_url), 60, "PostgreSQL")

    def _start_redis(self) -> None:
        data = self.work / "redis"
        data.mkdir()
        argv = ["redis-server", "--bind", self.address, "--port", str(REDIS_PORT)]
        argv += ["--save", "", "--appendonly", "no", "--dir", str(data), "--daemonize", "no"]
        # Protected mode refuses every client but loopback when there is no password; the
        # bridge is private to this machine's namespaces.
        argv += ["--protected-mode", "no"]
        self._start(argv, "redis.log")
        wait_until(lambda: _redis_up(self.redis_url), 30, "Redis")

    def prepare_database(self, roles: list[str]) -> None:
        """The product's database, migrated, pg_stat_statements in it, and one login role per
        host (superuser: a worker does what the product does with its own credentials)."""
        create_database(self.admin_url, DATABASE)
        db = Database(self.database_url(), pool_size=1)
        upgrade(db)
        db.dispose()
        with psycopg.connect(self.database_url(), autocommit=True) as conn:
            conn.execute("CREATE EXTENSION pg_stat_statements")
            for role in roles:
                conn.execute(f'CREATE ROLE "{role}" LOGIN SUPERUSER')


def _postgres_up(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=1):
            return True
    except psycopg.Error:
        return False


def _redis_up(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


# -- the hosts' processes -----------------------------------------------------------------------


class HostProcesses:
    """Processes started on hosts (namespaces), stopped by PID in reverse order."""

    def __init__(self, log_dir: Path) -> None:
        self.log_dir = log_dir
        self.started: list[tuple[Host, ManagedProcess]] = []

    def start(
        self, host: Host, role: str, argv: list[str], env: Mapping[str, str], ready: str
    ) -> ManagedProcess:
        name = f"{host.name}-{role}"
        process = start_process(
            name, host.command(argv), env=env, log_dir=self.log_dir, ready=log_contains(ready)
        )
        self.started.append((host, process))
        return process

    def worker(
        self, host: Host, name: str, concurrency: int, env: Mapping[str, str]
    ) -> ManagedProcess:
        queues = ",".join(WORKER_QUEUES[name])
        argv = [python(), "-m", "celery", "-A", "workers.app", "worker", "-Q", queues]
        argv += ["-c", str(concurrency), "-n", f"{name}@{host.hostname}"]
        argv += ["--without-gossip", "--without-mingle", "-l", "INFO"]
        return self.start(host, name, argv, env, " ready.")

    def beat(self, host: Host, env: Mapping[str, str], schedule: Path) -> ManagedProcess:
        argv = [python(), "-m", "celery", "-A", "workers.app", "beat", "-s", str(schedule)]
        return self.start(host, "beat", [*argv, "-l", "INFO"], env, "beat: Starting")

    def stop(self) -> None:
        # Every worker told first: their warm shutdowns (the task in hand) overlap.
        for _, process in self.started:
            if process.alive():
                process.popen.terminate()
        for _, process in reversed(self.started):
            process.stop()
        self.started.clear()

    def by_host(self) -> dict[str, list[ManagedProcess]]:
        found: dict[str, list[ManagedProcess]] = {}
        for host, process in self.started:
            found.setdefault(host.name, []).append(process)
        return found


def _cpu_seconds(pid: int) -> float:
    """User + system CPU of a process and its live children (Celery's pool)."""
    try:
        root = psutil.Process(pid)
        total = 0.0
        for process in [root, *root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                times = process.cpu_times()
                total += times.user + times.system
        return total
    except psutil.Error:
        return 0.0


# -- the run --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Options:
    recipients: int
    worker_hosts: int = 2
    submit_concurrency: int = 2
    poll_concurrency: int = 1
    batch_size: int | None = None
    history: int = 0
    postgres_settings: tuple[tuple[str, str], ...] = ()  # beside PG_SETTINGS, e.g. to compare
    seed: int = 2026
    timeout: float = 900.0


def run_multihost(options: Options, work: Path) -> MultiHostFigures:
    workers = [f"w{n + 1}" for n in range(options.worker_hosts)]
    with stop_on_sigterm(), Hosts(["prov", "ctl", *workers]) as hosts:
        hosts.record_dir(work)
        with HostSideServers(hosts, work, dict(options.postgres_settings)) as servers:
            servers.prepare_database(["ctl", *workers])
            processes = HostProcesses(work / "logs")
            try:
                return _campaign(options, hosts, servers, processes, workers, work)
            finally:
                processes.stop()


def _campaign(
    options: Options,
    hosts: Hosts,
    servers: HostSideServers,
    processes: HostProcesses,
    workers: list[str],
    work: Path,
) -> MultiHostFigures:
    prov = hosts["prov"]
    config = work / "sandbox.json"
    config.write_text(json.dumps(SANDBOX))
    sandbox_argv = [python(), "-m", "dispatcher.sandbox", "--host", prov.address]
    sandbox_argv += ["--port", str(SANDBOX_PORT), "--config", str(config)]
    processes.start(prov, "sandbox", sandbox_argv, {}, "sandbox listening")
    sandbox_url = f"http://{prov.address}:{SANDBOX_PORT}"

    statements_key = f"bench:statements:{uuid.uuid4().hex}"
    env = {
        "DISPATCHER_BROKER_URL": servers.redis_url,
        **TIMINGS,
        **_account_env(sandbox_url, options.batch_size),
        KEY_VARIABLE: statements_key,
    }

    def host_env(name: str) -> dict[str, str]:
        return {
            **env,
            "DISPATCHER_DATABASE_URL": servers.database_url(role=name),
            "DISPATCHER_DATA_DIR": str(work / "hosts" / name),
        }

    ctl = hosts["ctl"]
    processes.beat(ctl, host_env("ctl"), work / "beat-schedule")
    processes.worker(ctl, "plan", 1, host_env("ctl"))
    for name in workers:
        processes.worker(hosts[name], "submit", options.submit_concurrency, host_env(name))
        processes.worker(hosts[name], "poll", options.poll_concurrency, host_env(name))

    deps = build_deps(settings_from_env({**env, "DISPATCHER_DATABASE_URL": servers.database_url()}))
    try:
        if options.history:
            _history(deps, options, servers)
        return _measure(options, hosts, servers, processes, deps, sandbox_url, statements_key)
    finally:
        deps.db.dispose()


def _account_env(sandbox_url: str, batch_size: int | None) -> dict[str, str]:
    # The sandbox has no request limit: lift the product's default, as the bench does.
    values = {
        "provider": PROVIDER,
        "base_url": sandbox_url,
        **sandbox_emulator(PROVIDER).account_settings,
        "rate_limit": "1000/second",
    }
    if batch_size:
        values["batch_size"] = str(batch_size)
    return {account_env_var(ACCOUNT, key): value for key, value in values.items()}


def _history(deps: Deps, options: Options, servers: HostSideServers) -> None:
    """Earlier campaigns, finished and analysed (``ops/bench/history.py``, the single-host
    bench's own loader): the measured campaign runs on a database with history."""
    figures = load_history(deps, servers.database_url(), options.history, account=ACCOUNT)
    _say(
        f"  history: {figures.recipients:,} recipients in {figures.campaigns} finished "
        f"campaigns, loaded in {figures.seconds:.1f} s"
    )


def _measure(
    options: Options,
    hosts: Hosts,
    servers: HostSideServers,
    processes: HostProcesses,
    deps: Deps,
    sandbox_url: str,
    statements_key: str,
) -> MultiHostFigures:
    numbers = list(french_mobiles(options.recipients, seed=options.seed))
    marker = f"mh{uuid.uuid4().hex[:8]}"
    broker = redis.Redis.from_url(servers.redis_url, decode_responses=True)
    broker.delete(statements_key)
    before = _postgres_counters(servers)
    _reset_statements(servers)
    broker.config_resetstat()
    by_host = processes.by_host()
    roots = {f"{h}/{p.name.split('-', 1)[1]}": p.pid for h, ps in by_host.items() for p in ps}
    cpu_before = {pid: _cpu_seconds(pid) for pid in roots.values()}
    with httpx.Client(base_url=sandbox_url, timeout=120) as admin:
        requests_before = admin.get("/_sandbox/stats").json()["requests"]
    load_before = os.getloadavg()[0]
    with PeakMemory(roots) as memory:
        started = time.monotonic()
        campaign_id = enqueue(
            deps,
            CampaignRequest(
                account=ACCOUNT, text=f"{TEXT} {marker}", recipients=numbers, sender="SHOP"
            ),
        )
        enqueued = time.monotonic()
        deadline = enqueued + options.timeout
        in_work = {BatchState.PENDING, BatchState.CLAIMED, BatchState.SENDING}
        submitted = _wait(deps, campaign_id, in_work, deadline)
        reported = _wait(deps, campaign_id, set(BatchState) - {BatchState.DONE}, deadline)
    load_after = os.getloadavg()[0]
    cpu = {name: _cpu_seconds(pid) - cpu_before[pid] for name, pid in roots.items()}
    redis_commands = _redis_commands(broker)
    time.sleep(1.5)  # backends flush their statistics at most once a second
    after = _postgres_counters(servers)
    per_role, top = _statement_figures(servers)
    with httpx.Client(base_url=sandbox_url, timeout=120) as admin:
        stats = admin.get("/_sandbox/stats").json()
        ledger = _ledger(deps, admin, campaign_id, marker)
    size_of = text("SELECT pg_total_relation_size(CAST(:t AS regclass))")
    with deps.db.transaction() as conn:
        batches = sum(campaigns.batch_counts(conn, campaign_id).values())
        storage = {
            table: int(conn.execute(size_of, {"t": table}).scalar_one())
            for table in (recipients_table(campaign_id), events_table(campaign_id))
        }
    host_figures = []
    for name in by_host:
        mine = [n for n in roots if n.startswith(f"{name}/")]
        role = per_role.get(name, {})
        host_figures.append(
            HostFigures(
                host=name,
                address=hosts[name].address,
                processes=[n.split("/", 1)[1] for n in mine],
                batches_accepted=int(role.get("accepted", 0)),
                statements=int(role.get("calls", 0)),
                db_seconds=float(role.get("seconds", 0.0)),
                peak_rss_mb=max((memory.peaks[n] for n in mine), default=0.0),
                cpu_s=sum(cpu[n] for n in mine),
            )
        )
    return MultiHostFigures(
        recipients=len(numbers),
        worker_hosts=options.worker_hosts,
        history=options.history,
        enqueue_s=enqueued - started,
        submitted_s=submitted - enqueued,
        reported_s=reported - enqueued,
        batches=batches,
        statements=int(str(broker.get(statements_key) or 0)),
        http_requests={
            k: v - requests_before.get(k, 0)
            for k, v in stats["requests"].items()
            if v - requests_before.get(k, 0)
        },
        hosts=host_figures,
        postgres={k: after[k] - before[k] for k in after},
        top_statements=top,
        redis_commands=redis_commands,
        ledger=ledger,
        addresses={"host side": servers.address, **{h: hosts[h].address for h in by_host}},
        load_average=(load_before, load_after),
        storage_bytes=storage,
        postgres_settings=servers.settings,
    )


def _wait(deps: Deps, campaign_id: int, states: set[BatchState], deadline: float) -> float:
    """The moment the campaign has batches and none is in ``states`` (every 0.1 s)."""
    while time.monotonic() < deadline:
        with deps.db.transaction() as conn:
            counts = campaigns.batch_counts(conn, campaign_id)
        if counts and not any(counts.get(state) for state in states):
            return time.monotonic()
        time.sleep(0.1)
    raise TimeoutError(f"campaign {campaign_id}: batches still in {sorted(states)} at the limit")


def _postgres_counters(servers: HostSideServers) -> dict[str, int]:
    with psycopg.connect(servers.database_url(), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT tup_inserted, tup_updated, tup_deleted, xact_commit, "
            "pg_wal_lsn_diff(pg_current_wal_lsn(), '0/0')::bigint "
            "FROM pg_stat_database WHERE datname = %s",
            (DATABASE,),
        ).fetchone()
    assert row is not None
    names = ("rows_inserted", "rows_updated", "rows_deleted", "commits", "wal_bytes")
    return {name: int(value) for name, value in zip(names, row, strict=True)}


def _statement_figures(
    servers: HostSideServers,
) -> tuple[dict[str, dict[str, float]], list[dict[str, Any]]]:
    """Per role (host): calls, execution seconds, and calls of the statement that records an
    accepted send (``persistence/batches.py::record_accepted``); and the statements that took
    the most time, all roles together. pg_stat_statements was reset before the campaign."""
    query = (
        "SELECT r.rolname, s.query, s.calls, s.rows, s.total_exec_time "
        "FROM pg_stat_statements s JOIN pg_roles r ON r.oid = s.userid "
        "JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = %s"
    )
    with psycopg.connect(servers.database_url(), autocommit=True) as conn:
        rows = conn.execute(query, (DATABASE,)).fetchall()
    per_role: dict[str, dict[str, float]] = {}
    by_text: dict[str, dict[str, Any]] = {}
    for role, sql, calls, affected, ms in rows:
        figures = per_role.setdefault(role, {"calls": 0, "seconds": 0.0, "accepted": 0})
        figures["calls"] += calls
        figures["seconds"] += ms / 1000
        if "submitted_at = now()" in sql and sql.lstrip().upper().startswith("UPDATE BATCHES"):
            figures["accepted"] += calls
        entry = by_text.setdefault(sql, {"query": " ".join(sql.split())[:160], "calls": 0})
        entry["calls"] += calls
        entry["rows"] = entry.get("rows", 0) + affected
        entry["seconds"] = entry.get("seconds", 0.0) + ms / 1000
    top = sorted(by_text.values(), key=lambda e: -e["seconds"])[:8]
    return per_role, top


def _reset_statements(servers: HostSideServers) -> None:
    with psycopg.connect(servers.database_url(), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")


def _redis_commands(broker: redis.Redis) -> dict[str, int]:
    stats: dict[str, dict[str, Any]] = broker.info("commandstats")  # type: ignore[assignment]
    calls = {name.removeprefix("cmdstat_"): int(v["calls"]) for name, v in stats.items()}
    return dict(sorted(calls.items(), key=lambda item: -item[1]))


def _ledger(deps: Deps, admin: httpx.Client, campaign_id: int, marker: str) -> Ledger:
    answer = admin.get(
        "/_sandbox/submissions", params={"provider": PROVIDER, "text_contains": marker}
    )
    answer.raise_for_status()
    accepted: Counter[str] = Counter()
    submissions = 0
    for sub in answer.json()["submissions"]:
        if not sub["deleted"]:
            accepted.update(sub["numbers"])
            submissions += 1
    with deps.db.snapshot() as conn:
        rows = conn.execute(
            text("SELECT msisdn, status FROM recipients WHERE campaign_id = :c"),
            {"c": campaign_id},
        ).all()
    times = [accepted.get(msisdn, 0) for msisdn, _ in rows]
    return Ledger(
        recipients=len(rows),
        accepted_once=sum(t == 1 for t in times),
        duplicates=sum(t > 1 for t in times),
        never_accepted=sum(t == 0 for t in times),
        strangers=len(set(accepted) - {msisdn for msisdn, _ in rows}),
        not_final=sum(status not in FINAL for _, status in rows),
        submissions=submissions,
    )


# -- printing and the command line ----------------------------------------------------------------


def print_figures(f: MultiHostFigures) -> None:
    per_s = f.recipients / f.reported_s if f.reported_s else 0.0
    _say(
        f"\nMulti-host run: {f.recipients:,} recipients, {f.worker_hosts} worker hosts"
        f"{f', on a history of {f.history:,}' if f.history else ''} "
        f"({os.cpu_count()} CPUs shared by every host; load average "
        f"{f.load_average[0]:.1f} before, {f.load_average[1]:.1f} after)"
    )
    _say(f"  addresses: {', '.join(f'{k} {v}' for k, v in f.addresses.items())}")
    extra = {k: v for k, v in f.postgres_settings.items() if PG_SETTINGS.get(k) != v}
    if extra:
        _say(f"  PostgreSQL settings of this run: {extra}")
    _say(f"  enqueue (validate, normalise, COPY): {f.enqueue_s:.2f} s")
    _say(f"  every batch submitted after:         +{f.submitted_s:.2f} s")
    _say(f"  every report applied after:          +{f.reported_s:.2f} s ({per_s:,.0f}/s)")
    per_batch = f.statements / f.batches if f.batches else 0.0
    _say(f"  batches {f.batches:,}, worker SQL statements {f.statements:,} ({per_batch:.1f}/batch)")
    requests = ", ".join(f"{k} {v:,}" for k, v in f.http_requests.items())
    _say(f"  HTTP requests (sandbox's count): {requests}")
    _say(
        "\n  host   address        processes            accepted  statements  db s   RSS MB  CPU s"
    )
    for h in f.hosts:
        _say(
            f"  {h.host:<6} {h.address:<14} {'+'.join(h.processes):<20} {h.batches_accepted:>8,}"
            f"  {h.statements:>10,}  {h.db_seconds:>5.1f}  {h.peak_rss_mb:>6.0f}  {h.cpu_s:>5.1f}"
        )
    pg = f.postgres
    seconds = f.enqueue_s + f.reported_s
    _say(
        f"\n  PostgreSQL: {pg['rows_inserted']:,} rows inserted, {pg['rows_updated']:,} updated, "
        f"{pg['rows_deleted']:,} deleted, {pg['commits']:,} commits, "
        f"WAL {pg['wal_bytes'] / 2**20:,.0f} MB ({pg['wal_bytes'] / 2**20 / seconds:,.1f} MB/s)"
    )
    sizes = ", ".join(
        f"{table} {size / 2**20:,.0f} MB ({size / f.recipients:,.0f} B/recipient)"
        for table, size in f.storage_bytes.items()
    )
    _say(f"  the campaign's partitions: {sizes}")
    for s in f.top_statements:
        _say(
            f"    {s['seconds']:7.2f} s {s['calls']:>7,} calls {s['rows']:>10,} rows  {s['query']}"
        )
    total = sum(f.redis_commands.values())
    top_redis = ", ".join(f"{k} {v:,}" for k, v in list(f.redis_commands.items())[:8])
    _say(f"\n  Redis: {total:,} commands ({total / seconds:,.0f}/s): {top_redis}")
    lg = f.ledger
    verdict = "exact" if lg.exact else "VIOLATION"
    _say(
        f"\n  sandbox's record vs database: {lg.recipients:,} recipients, {lg.accepted_once:,} "
        f"accepted exactly once in {lg.submissions:,} submissions; duplicates {lg.duplicates}, "
        f"never accepted {lg.never_accepted}, strangers {lg.strangers}, "
        f"not final {lg.not_final}: {verdict}"
    )


def main(argv: list[str] | None = None) -> dict[str, Any]:
    args = _arguments(argv)
    configure_logging("WARNING")
    options = Options(
        recipients=args.recipients,
        worker_hosts=args.hosts,
        submit_concurrency=args.submit_concurrency,
        poll_concurrency=args.poll_concurrency,
        batch_size=args.batch_size,
        history=args.history,
        postgres_settings=tuple(_name_value(s) for s in args.postgres_setting),
        seed=args.seed,
        timeout=args.timeout,
    )
    figures = run_in_temp_dir(options)
    print_figures(figures)
    report = figures.as_dict()
    path = Path(args.json) if args.json else _default_json()
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(report, indent=2))
    _say(f"\nfigures written to {path}")
    return report


def run_in_temp_dir(options: Options) -> MultiHostFigures:
    """``run_multihost`` in a temp dir of its own, removed after; the processes' logs are
    printed if the run fails."""
    with tempfile.TemporaryDirectory(prefix="dispatcher-multihost-") as tmp:
        work = Path(tmp)
        work.chmod(0o755)  # PostgreSQL runs as its own user below it
        try:
            return run_multihost(options, work)
        except BaseException:
            _say(f"logs of the failed run:\n{_log_tails(work / 'logs')}")
            raise


def _name_value(setting: str) -> tuple[str, str]:
    name, _, value = setting.partition("=")
    return name, value


def _default_json() -> Path:
    return Path(__file__).parent / "results" / f"multihost-{time.strftime('%Y%m%d-%H%M%S')}.json"


def _log_tails(log_dir: Path, lines: int = 15) -> str:
    tails = []
    for log in sorted(log_dir.glob("*.log")) if log_dir.exists() else []:
        tail = log.read_text(errors="replace").splitlines()[-lines:]
        tails.append(f"== {log.name}\n" + "\n".join(tail))
    return "\n".join(tails)


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m ops.bench.multihost",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--recipients", type=int, default=100_000)
    parser.add_argument("--hosts", type=int, default=2, help="worker hosts (submit + poll each)")
    parser.add_argument("--submit-concurrency", type=int, default=2, help="per worker host")
    parser.add_argument("--poll-concurrency", type=int, default=1, help="per worker host")
    parser.add_argument("--batch-size", type=int, help="the account's batch size (default 1000)")
    parser.add_argument(
        "--history", type=int, default=0, help="recipients of earlier, finished campaigns"
    )
    parser.add_argument(
        "--postgres-setting",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="a PostgreSQL setting of the run's cluster (repeatable)",
    )
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per phase at most")
    parser.add_argument("--json", help="where to write the figures")
    args = parser.parse_args(argv)
    if args.hosts < 1 or args.recipients < 1:
        parser.error("--hosts and --recipients must be at least 1")
    if any("=" not in setting for setting in args.postgres_setting):
        parser.error("--postgres-setting takes NAME=VALUE")
    return args


def _say(message: str) -> None:
    print(message, flush=True)


if __name__ == "__main__":
    main()
