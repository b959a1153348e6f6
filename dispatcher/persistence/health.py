"""What ``dispatcher doctor`` asks PostgreSQL: the server, its clock, the schema's revision and
the oldest scheduled campaign nobody started. Its own short-lived engine with a connect
timeout, so that a server that does not answer costs seconds, never a hang.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, create_engine, select, text
from sqlalchemy.exc import ProgrammingError
from sqlalchemy.pool import NullPool

from dispatcher.domain.statuses import CampaignState
from dispatcher.persistence.database import sqlalchemy_url
from schemas.tables import campaigns


@dataclass(frozen=True)
class DatabaseFacts:
    version: str
    now: datetime  # the server's clock
    latency_seconds: float  # one round trip, connection excluded
    revision: str | None  # alembic_version; None: never migrated
    overdue: tuple[int, datetime] | None  # the oldest scheduled campaign past its start


def probe(url: str, *, timeout: float, overdue_before: float) -> DatabaseFacts:
    """Connect (at most ``timeout`` seconds), then read the facts in one transaction.
    ``overdue_before``: seconds before the server's now that a start must be to be overdue."""
    engine = create_engine(
        sqlalchemy_url(url),
        poolclass=NullPool,
        connect_args={
            "connect_timeout": max(1, round(timeout)),
            "options": f"-c statement_timeout={int(timeout * 1000)}",
        },
    )
    try:
        with engine.connect() as conn:
            started = time.monotonic()
            version, now = conn.execute(
                text("SELECT current_setting('server_version'), now()")
            ).one()
            latency = time.monotonic() - started
            return DatabaseFacts(
                version=str(version),
                now=now,
                latency_seconds=latency,
                revision=_revision(conn),
                overdue=_oldest_overdue(conn, overdue_before) if _has_campaigns(conn) else None,
            )
    finally:
        engine.dispose()


def _revision(conn: Connection) -> str | None:
    try:
        with conn.begin_nested():
            row = conn.execute(text("SELECT version_num FROM alembic_version")).first()
    except ProgrammingError:  # no alembic_version table: an empty database
        return None
    return None if row is None else str(row[0])


def _has_campaigns(conn: Connection) -> bool:
    return bool(conn.execute(text("SELECT to_regclass('campaigns') IS NOT NULL")).scalar())


def _oldest_overdue(conn: Connection, seconds: float) -> tuple[int, datetime] | None:
    """The sweep (beat) starts every scheduled campaign once its start is past: one still
    scheduled long after means no sweep runs (beat or the plan workers are down)."""
    cutoff = text("now() - make_interval(secs => :seconds)").bindparams(seconds=seconds)
    row = conn.execute(
        select(campaigns.c.id, campaigns.c.send_at)
        .where(campaigns.c.state == CampaignState.SCHEDULED.value, campaigns.c.send_at < cutoff)
        .order_by(campaigns.c.send_at)
        .limit(1)
    ).first()
    return None if row is None else (int(row.id), row.send_at)
