"""One SQLAlchemy engine per process, built on first use (after a Celery fork, never before).

A service asks for ``db.transaction()`` and gets a connection inside one transaction: that is
the unit of work. Repositories are plain functions over that connection.

A unit of work that must survive a database restart (the write that records a provider's
answer: the request cannot be taken back) goes through ``db.run(work, retry_for=...)``, which
runs it again on a fresh connection until it commits or the time is up. A retry may follow a
commit whose acknowledgement was lost, so such a unit is made of conditional statements that
recognise their own earlier commit (see the callers in services/submit.py and track.py).
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TypeVar

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, create_engine, text
from sqlalchemy.exc import DBAPIError, InterfaceError, OperationalError

log = logging.getLogger(__name__)

T = TypeVar("T")

# Pauses between the tries of ``Database.run``: a restart of PostgreSQL takes a second or two,
# so the first retries come quickly and later ones no faster than every two seconds.
FIRST_PAUSE_SECONDS = 0.2
MAX_PAUSE_SECONDS = 2.0

# psycopg prepares a statement on the server after its fifth run on a connection, and PostgreSQL
# may then keep a generic plan: one that cannot prune to a campaign's partition at plan time and
# that estimates an unnest() of a batch's reports at ten rows. Measured (issue 10, 1,000,000
# recipients on two worker hosts): the report statement's generic plan, a nested loop, took
# 1.57 s a batch against 59 ms planned for its values. Every statement here is planned for its
# values; parsing is still saved by the prepared statement.
CUSTOM_PLANS = "-c plan_cache_mode=force_custom_plan"


def sqlalchemy_url(url: str) -> str:
    """Accept plain ``postgresql://`` URLs and pin the psycopg 3 driver."""
    for prefix in ("postgresql+psycopg://", "postgresql://", "postgres://"):
        if url.startswith(prefix):
            return "postgresql+psycopg://" + url[len(prefix) :]
    raise ValueError(f"not a PostgreSQL URL: {url.split('@')[-1]!r}")


def libpq_url(url: str) -> str:
    """The same database as a URL psycopg (libpq) reads directly."""
    return "postgresql://" + sqlalchemy_url(url).removeprefix("postgresql+psycopg://")


class Database:
    def __init__(self, url: str, *, pool_size: int = 5) -> None:
        self.url = sqlalchemy_url(url)
        self.pool_size = pool_size
        self._engine: Engine | None = None
        self._pid = 0

    @property
    def engine(self) -> Engine:
        if self._engine is None or self._pid != os.getpid():
            if self._engine is not None:
                # Inherited across a fork: drop the parent's pool without closing its sockets.
                self._engine.dispose(close=False)
            self._engine = create_engine(
                self.url,
                pool_size=self.pool_size,
                max_overflow=5,
                pool_pre_ping=True,
                connect_args={"options": CUSTOM_PLANS},
            )
            self._pid = os.getpid()
        return self._engine

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        with self.engine.begin() as conn:
            yield conn

    @contextmanager
    def rollback_only(self) -> Iterator[Connection]:
        """A unit of work that never commits: an estimate runs enqueue's own statements (the
        COPY, the clean-ups, the regrouping) to count what they would do, and leaves nothing."""
        with self.engine.connect() as conn:  # begins on its first statement
            try:
                yield conn
            finally:
                conn.rollback()

    @contextmanager
    def snapshot(self) -> Iterator[Connection]:
        """A read-only transaction that sees one snapshot for all its statements, so that
        figures read one after the other (a state and its counts) always agree."""
        with self.transaction() as conn:
            conn.execute(text("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY"))
            yield conn

    def run(self, work: Callable[[Connection], T], *, retry_for: float) -> T:
        """``work`` in one transaction, run again on a fresh connection while the database is
        unreachable (restarting, connection dropped), for up to ``retry_for`` seconds; then the
        last error is raised. Any other error is raised at once: a failing statement fails the
        same way twice.

        The pool is emptied at the first failure: after a restart every pooled connection is
        dead, and finding that out one ``pool_pre_ping`` at a time costs a round trip each.
        """
        deadline = time.monotonic() + retry_for
        pause = FIRST_PAUSE_SECONDS
        tries = 0
        while True:
            tries += 1
            try:
                with self.transaction() as conn:
                    result = work(conn)
                if tries > 1:
                    log.info("database reachable again after %s tries", tries)
                return result
            except DBAPIError as exc:
                left = deadline - time.monotonic()
                if not is_disconnect(exc) or left <= 0:
                    raise
                if tries == 1:
                    log.warning("database unreachable, retrying for %.1f s: %s", left, exc.orig)
                    self.engine.dispose()
                time.sleep(min(pause, left))
                pause = min(pause * 2, MAX_PAUSE_SECONDS)

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


def is_disconnect(exc: DBAPIError) -> bool:
    """The error of a database that could not be reached or went away mid-transaction (a
    restart, a dropped connection), as opposed to one a statement itself caused. psycopg also
    files deadlocks, serialisation failures and lock or statement timeouts as operational:
    they are worth another try as well."""
    return exc.connection_invalidated or isinstance(exc, OperationalError | InterfaceError)


def raw_connection(conn: Connection) -> psycopg.Connection[object]:
    """The psycopg connection under a SQLAlchemy one, for COPY (same transaction)."""
    driver = conn.connection.driver_connection
    assert isinstance(driver, psycopg.Connection)
    return driver


def create_database(admin_url: str, name: str) -> None:
    """An empty database ``name`` on the server of ``admin_url`` (a test's or a benchmark's own).

    CREATE DATABASE cannot run inside a transaction, hence psycopg in autocommit, not the engine.
    """
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))


def drop_database(admin_url: str, name: str) -> None:
    """Drop database ``name``, closing what still connects to it (a worker killed mid-test)."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
        )
