"""callback_inbox: written by the HTTP service in groups, read in pages by a keyset and
emptied as it is applied.

``append`` is the only statement on an asynchronous psycopg connection: the HTTP service's
group commit (api/inbox.py) runs on the event loop, and one COPY per group of requests is
what keeps a burst of callbacks from costing a transaction each.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import timedelta

import psycopg
from sqlalchemy import Connection, text

# One applier at a time: the others skip their turn rather than wait.
APPLIER_LOCK = 0x64697370  # "disp"


@dataclass(frozen=True)
class InboxRow:
    id: int
    account: str
    params: str


def take_applier_lock(conn: Connection) -> bool:
    return bool(
        conn.execute(text("SELECT pg_try_advisory_xact_lock(:k)"), {"k": APPLIER_LOCK}).scalar_one()
    )


def cursor(conn: Connection) -> int:
    return int(conn.execute(text("SELECT last_id FROM callback_cursor WHERE id = 1")).scalar_one())


def page_after(conn: Connection, last_id: int, settle: timedelta, limit: int) -> list[InboxRow]:
    """Rows after the cursor, old enough that no earlier id can still be committing."""
    rows = conn.execute(
        text(
            "SELECT id, account, params FROM callback_inbox "
            "WHERE id > :last AND received_at < now() - :settle ORDER BY id LIMIT :limit"
        ),
        {"last": last_id, "settle": settle, "limit": limit},
    )
    return [InboxRow(r.id, r.account, r.params) for r in rows]


def stragglers(conn: Connection, last_id: int, limit: int) -> list[InboxRow]:
    """Rows at or before the cursor that are still there: committed later than their id."""
    rows = conn.execute(
        text(
            "SELECT id, account, params FROM callback_inbox WHERE id <= :last "
            "ORDER BY id LIMIT :limit"
        ),
        {"last": last_id, "limit": limit},
    )
    return [InboxRow(r.id, r.account, r.params) for r in rows]


def consume(conn: Connection, rows: Sequence[InboxRow], new_cursor: int) -> None:
    conn.execute(
        text("DELETE FROM callback_inbox WHERE id = ANY(:ids)"), {"ids": [r.id for r in rows]}
    )
    conn.execute(
        text("UPDATE callback_cursor SET last_id = greatest(last_id, :last) WHERE id = 1"),
        {"last": new_cursor},
    )


async def append(conn: psycopg.AsyncConnection[object], rows: Iterable[tuple[str, str]]) -> None:
    """COPY pushed reports, (account, urlencoded parameters) each, into the inbox; the caller
    commits, once for the whole group."""
    async with (
        conn.cursor() as cur,
        cur.copy("COPY callback_inbox (account, params) FROM STDIN") as copy,
    ):
        for account, params in rows:
            await copy.write_row((account, params))
