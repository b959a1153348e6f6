"""/health and /ready of the HTTP service: the session stack's running service, and apps of
their own wired to a closed broker port or a database one migration behind."""

from __future__ import annotations

import socket
from collections.abc import Iterator

import httpx
import pytest
from alembic import command
from starlette.testclient import TestClient

from dispatcher.api.app import create_app
from dispatcher.local.servers import ServerUrls
from dispatcher.local.stack import LocalStack
from dispatcher.persistence.database import Database
from dispatcher.persistence.migrate import alembic_config, upgrade
from dispatcher.runtime import build_deps
from dispatcher.services.deps import Deps
from dispatcher.settings import load_settings

pytestmark = pytest.mark.integration


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def _client(deps: Deps) -> TestClient:
    """An app of its own on ``deps`` (no lifespan: /ready needs no callback inbox)."""
    return TestClient(create_app(lambda: deps), raise_server_exceptions=False)


def _deps(database_url: str, broker_url: str) -> Deps:
    return build_deps(
        load_settings(_env_file=None, database_url=database_url, broker_url=broker_url)
    )


@pytest.fixture
def behind(database: Database) -> Iterator[Database]:
    """The module's database, one migration behind the code's head (then back at it)."""
    with database.engine.begin() as conn:
        config = alembic_config(database)
        config.attributes["connection"] = conn
        command.downgrade(config, "-1")
    yield database
    upgrade(database)


def test_the_running_service_is_healthy_and_ready(stack: LocalStack) -> None:
    assert stack.api_url is not None
    with httpx.Client(base_url=stack.api_url, timeout=30) as api:
        health, ready = api.get("/health"), api.get("/ready")
    assert (health.status_code, health.json(), ready.status_code, ready.json()) == (
        200,
        {"ok": True},
        200,
        {"ready": True, "checks": {"database": "ok", "migrations": "ok", "broker": "ok"}},
    )


def test_an_unreachable_broker_makes_the_service_not_ready_naming_it(database_url: str) -> None:
    deps = _deps(database_url, f"redis://:broker-secret@127.0.0.1:{_closed_port()}/0")
    try:
        answer = _client(deps).get("/ready")
    finally:
        deps.db.dispose()
    body = answer.json()
    assert (answer.status_code, body["failing"], body["checks"]["database"]) == (
        503,
        ["broker"],
        "ok",
    )
    assert "broker-secret" not in answer.text


def test_a_database_behind_the_migrations_makes_the_service_not_ready(
    behind: Database, servers: ServerUrls
) -> None:
    deps = _deps(behind.url, servers.redis_url)
    try:
        answer = _client(deps).get("/ready")
    finally:
        deps.db.dispose()
    body = answer.json()
    advice = body["checks"]["migrations"]
    assert (answer.status_code, body["failing"], "dispatcher migrate" in advice) == (
        503,
        ["migrations"],
        True,
    )


def test_health_checks_no_other_server() -> None:
    """A liveness probe answers while PostgreSQL and the broker are both unreachable."""
    closed = _closed_port()
    deps = _deps(f"postgresql://u:p@127.0.0.1:{closed}/x", f"redis://127.0.0.1:{closed}/0")
    try:
        client = _client(deps)
        health, ready = client.get("/health"), client.get("/ready")
    finally:
        deps.db.dispose()
    assert (health.status_code, ready.status_code, ready.json()["failing"]) == (
        200,
        503,
        ["database", "migrations", "broker"],
    )
