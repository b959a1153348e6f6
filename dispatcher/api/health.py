"""GET /health and GET /ready: is the process up, and can it do its work.

``/health`` checks no other server: a liveness probe that fails because PostgreSQL is down
would only get a healthy process restarted. ``/ready`` checks what the service needs to do
anything useful: PostgreSQL answers, its schema is at the migrations' head (a service started
before ``dispatcher migrate`` would otherwise fail on every request), and the broker answers.
It answers 200 or 503, each failing check named in words an operator can act on, never a
driver's message (it may carry a host or a user) and never a 500.

Each check runs in a worker thread with its own connect/read timeouts and an overall
deadline, so a server that does not answer costs the probe seconds and never blocks the event
loop. Nothing is cached but the migrations' head, which only changes with the code.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import anyio
import anyio.to_thread
import psycopg
import redis
from alembic.script import ScriptDirectory
from sqlalchemy.exc import SQLAlchemyError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from dispatcher.api.state import deps
from dispatcher.errors import DispatcherError
from dispatcher.persistence import health as database_health
from dispatcher.persistence.migrate import MIGRATIONS
from dispatcher.runtime import resolve_endpoints

log = logging.getLogger(__name__)

# Connect and read timeouts of each check; the probe as a whole gets one second more.
CHECK_TIMEOUT_SECONDS = 2.0

NO_STORE = {"Cache-Control": "no-store"}


@dataclass(frozen=True)
class Check:
    ok: bool
    detail: str = "ok"


def passed() -> Check:
    return Check(True)


def failed(detail: str) -> Check:
    return Check(False, detail)


@dataclass(frozen=True)
class Probe:
    """One piece of work answering one or more checks (one connection answers both
    ``database`` and ``migrations``)."""

    names: tuple[str, ...]
    run: Callable[[], Mapping[str, Check]]


def readiness(checks: Mapping[str, Check]) -> tuple[int, dict[str, Any]]:
    """The answer of /ready: 200 when every check passed, else 503 naming the failing ones."""
    failing = [name for name, check in checks.items() if not check.ok]
    body: dict[str, Any] = {
        "ready": not failing,
        "checks": {name: check.detail for name, check in checks.items()},
    }
    if failing:
        body["failing"] = failing
    return (503 if failing else 200), body


def migrations_check(current: Sequence[str], heads: frozenset[str]) -> Check:
    """The database's Alembic revision(s) against the code's head(s)."""
    if not current:
        return failed("no migrations applied: run `dispatcher migrate`")
    if set(current) != heads:
        return failed(
            f"the database is at revision {', '.join(sorted(current))}, the code needs "
            f"{', '.join(sorted(heads))}: run `dispatcher migrate`"
        )
    return passed()


@lru_cache(maxsize=1)
def migration_heads() -> frozenset[str]:
    return frozenset(ScriptDirectory(str(MIGRATIONS)).get_heads())


def database_probe(database_url: str, timeout: float = CHECK_TIMEOUT_SECONDS) -> Probe:
    def run() -> Mapping[str, Check]:
        try:
            facts = database_health.probe(database_url, timeout=timeout, overdue_before=0)
        except (SQLAlchemyError, psycopg.Error) as exc:
            log.warning("readiness: PostgreSQL check failed: %s", type(exc).__name__)
            reason = "PostgreSQL does not answer (down, unreachable, or refusing our login)"
            return {
                "database": failed(reason),
                "migrations": failed("not checked: the database does not answer"),
            }
        current = [] if facts.revision is None else [facts.revision]
        return {"database": passed(), "migrations": migrations_check(current, migration_heads())}

    return Probe(("database", "migrations"), run)


def broker_probe(broker_url: str | None, timeout: float = CHECK_TIMEOUT_SECONDS) -> Probe:
    def run() -> Mapping[str, Check]:
        if not broker_url:
            return {"broker": failed("no broker configured: set DISPATCHER_BROKER_URL")}
        try:
            _ping(broker_url, timeout)
        except Exception as exc:  # any failure to talk to it is the same answer
            log.warning("readiness: broker check failed: %s", type(exc).__name__)
            return {"broker": failed("the broker does not answer (down or unreachable)")}
        return {"broker": passed()}

    return Probe(("broker",), run)


def _ping(url: str, timeout: float) -> None:
    if url.split(":", 1)[0] in ("redis", "rediss", "unix"):
        client = redis.Redis.from_url(
            url, socket_connect_timeout=timeout, socket_timeout=timeout, retry=None
        )
        try:
            client.ping()
        finally:
            client.close()
        return
    from kombu import Connection  # AMQP and other kombu transports

    with Connection(url, connect_timeout=timeout) as connection:
        connection.ensure_connection(max_retries=1, timeout=math.ceil(timeout))


async def run_probes(
    probes: Sequence[Probe], timeout: float = CHECK_TIMEOUT_SECONDS + 1
) -> dict[str, Check]:
    """Every probe at once, each in a thread; one that overruns ``timeout`` or raises fails
    its checks by name (its thread is left to finish on its own timeouts)."""
    answers: dict[str, Check] = {}

    async def one(probe: Probe) -> None:
        answer: Mapping[str, Check]
        try:
            with anyio.fail_after(timeout):
                answer = await anyio.to_thread.run_sync(probe.run, abandon_on_cancel=True)
        except TimeoutError:
            answer = {n: failed(f"no answer within {timeout:g} s") for n in probe.names}
        except Exception as exc:
            # The traceback is redacted by the log formatter (dispatcher/logs.py).
            log.warning("readiness: the %s check raised", "/".join(probe.names), exc_info=exc)
            broken = failed("the check itself failed (see the service's log)")
            answer = dict.fromkeys(probe.names, broken)
        answers.update(answer)

    async with anyio.create_task_group() as group:
        for probe in probes:
            group.start_soon(one, probe)
    silent = failed("the check gave no answer (see the service's log)")
    return {name: answers.get(name, silent) for probe in probes for name in probe.names}


def probes_for(request: Request) -> list[Probe]:
    wiring = deps(request)
    try:
        broker_url: str | None = resolve_endpoints(wiring.settings).broker_url
    except DispatcherError:
        broker_url = None
    return [database_probe(wiring.db.url), broker_probe(broker_url)]


async def health(_: Request) -> Response:
    return JSONResponse({"ok": True}, headers=NO_STORE)


async def ready(request: Request) -> Response:
    status, body = readiness(await run_probes(probes_for(request)))
    return JSONResponse(body, status_code=status, headers=NO_STORE)


ROUTES = [Route("/health", health), Route("/ready", ready)]
