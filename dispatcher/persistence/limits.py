"""Request-rate limits learnt from providers, kept across Redis wipes and restarts.

Envoyer SMS Pro tells an account's limit (``api_request_limit``); the last answer is the best
limit to fall back on when the provider cannot be asked, because an account's limit may be
below the documented default (services/limits.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, text


def last_learnt(conn: Connection, account: str) -> str | None:
    """The limit the provider last gave for ``account`` ("3 per 60 minutes"), or None."""
    found = conn.execute(
        text("SELECT rate FROM provider_limits WHERE account = :account"), {"account": account}
    ).scalar_one_or_none()
    return None if found is None else str(found)


def remember(conn: Connection, account: str, rate: str, *, at: datetime) -> None:
    """Record what the provider just said, replacing what it said before."""
    conn.execute(
        text(
            "INSERT INTO provider_limits (account, rate, learnt_at) VALUES (:account, :rate, :at) "
            "ON CONFLICT (account) "
            "DO UPDATE SET rate = excluded.rate, learnt_at = excluded.learnt_at"
        ),
        {"account": account, "rate": rate, "at": at},
    )
