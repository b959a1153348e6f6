"""Producers' API keys: only each key's SHA-256 digest is stored, under a name.

A key's name is unique for ever (a revoked key keeps its row and its name), so the name a
campaign records (``campaigns.created_by``) always means one key.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, func, select, update
from sqlalchemy.dialects.postgresql import insert

from schemas.tables import api_keys


@dataclass(frozen=True)
class ApiKeyRow:
    """What is known of a key: never the key itself, which only its creator saw."""

    name: str
    created_at: datetime
    revoked_at: datetime | None


def insert_key(conn: Connection, name: str, digest: bytes) -> bool:
    """Store a new key's digest; False when the name is taken (by a live or revoked key)."""
    stmt = (
        insert(api_keys)
        .values(name=name, key_hash=digest)
        .on_conflict_do_nothing(index_elements=["name"])
        .returning(api_keys.c.id)
    )
    return conn.execute(stmt).scalar_one_or_none() is not None


def active_key(conn: Connection, digest: bytes) -> tuple[str, bytes] | None:
    """(name, stored digest) of the live key with this digest, or None.

    The lookup goes through the digest's unique index: its timing can only tell about the
    digest of a guess, which the guesser computes anyway, never about a stored key.
    """
    row = conn.execute(
        select(api_keys.c.name, api_keys.c.key_hash).where(
            api_keys.c.key_hash == digest, api_keys.c.revoked_at.is_(None)
        )
    ).first()
    return (row.name, bytes(row.key_hash)) if row else None


def list_keys(conn: Connection) -> list[ApiKeyRow]:
    rows = conn.execute(
        select(api_keys.c.name, api_keys.c.created_at, api_keys.c.revoked_at).order_by(
            api_keys.c.name
        )
    )
    return [ApiKeyRow(r.name, r.created_at, r.revoked_at) for r in rows]


def revoke(conn: Connection, name: str) -> bool:
    """Revoke a live key; False when no live key has that name."""
    result = conn.execute(
        update(api_keys)
        .where(api_keys.c.name == name, api_keys.c.revoked_at.is_(None))
        .values(revoked_at=func.now())
    )
    return result.rowcount == 1
