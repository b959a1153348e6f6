"""The opt-out list: numbers that asked for no more SMS, with where each request came from.

Written in sets (arrays, COPY); read by enqueue's INSERT ... SELECT, which leaves these
numbers out of every new campaign.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import IO

from sqlalchemy import Connection, text

from dispatcher.persistence.database import raw_connection


def add(conn: Connection, numbers: Iterable[str], *, source: str, reason: str | None = None) -> int:
    """Add numbers (international digits); returns how many were new."""
    values = sorted(set(numbers))
    if not values:
        return 0
    return conn.execute(
        text(
            "INSERT INTO opt_outs (msisdn, source, reason) "
            "SELECT unnest(CAST(:numbers AS text[])), :source, :reason ON CONFLICT DO NOTHING"
        ),
        {"numbers": values, "source": source, "reason": reason},
    ).rowcount


def remove(conn: Connection, numbers: Iterable[str]) -> int:
    return conn.execute(
        text("DELETE FROM opt_outs WHERE msisdn = ANY(:numbers)"), {"numbers": sorted(set(numbers))}
    ).rowcount


def contains(conn: Connection, msisdn: str) -> bool:
    return bool(
        conn.execute(text("SELECT 1 FROM opt_outs WHERE msisdn = :m"), {"m": msisdn}).first()
    )


def count(conn: Connection) -> int:
    return int(conn.execute(text("SELECT count(*) FROM opt_outs")).scalar_one())


def export_csv(conn: Connection, out: IO[bytes]) -> None:
    with (
        raw_connection(conn).cursor() as cur,
        cur.copy(
            "COPY (SELECT msisdn, source, reason, created_at FROM opt_outs ORDER BY msisdn) "
            "TO STDOUT WITH (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        for chunk in copy:
            out.write(bytes(chunk))
