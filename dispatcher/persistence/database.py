"""One SQLAlchemy engine per process, built on first use (after a Celery fork, never before).

A service asks for ``db.transaction()`` and gets a connection inside one transaction: that is
the unit of work. Repositories are plain functions over that connection.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import psycopg
from psycopg import sql
from sqlalchemy import Connection, Engine, create_engine, text


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
                self.url, pool_size=self.pool_size, max_overflow=5, pool_pre_ping=True
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

    def dispose(self) -> None:
        if self._engine is not None:
            self._engine.dispose()
            self._engine = None


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
