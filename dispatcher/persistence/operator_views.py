"""What the operator's listings read: campaigns newest first with their recipient counts,
batches in the states that wait for a person, and everything about one batch.

Nothing here grows with the history of earlier campaigns (docs/design-rules.md 2.5): the
campaigns are chosen first (newest first, by the primary key's order, a bounded page), and
only then are the recipients of each one counted, one statement per listed campaign naming
its id, planned for that value (database.CUSTOM_PLANS): it prunes at plan time to the
campaign's own partition (0021) and reads that partition once. Measured (50 campaigns, one
of 300,000 recipients, on a loaded 2-core machine): one LATERAL join counting all 50 pruned
only at run time, was planned over every partition (an estimate of 400,000 rows a loop) and
so JIT-compiled, 2.9 s; these statements take 2 ms per 2,000-recipient campaign and 145 ms for
the 300,000 one. An archived campaign has no partitions left; its counts come from
``archived_counts``, and it is not read.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, text

# The counts an operator reads in the listing, one FILTER each: a single pass per partition.
COUNTED = ("queued", "submitted", "delivered", "failed", "expired", "unknown", "cancelled")

_COUNTS = ", ".join(f"count(*) FILTER (WHERE r.status = '{s}') AS {s}" for s in COUNTED)


def list_campaigns(
    conn: Connection,
    *,
    states: Sequence[str] = (),
    account: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 20,
) -> list[dict[str, Any]]:
    """Campaigns newest first (by id: ids grow with creation), filtered, at most ``limit``;
    each with its recipients per status (``counts``)."""
    where = ["TRUE"]
    params: dict[str, Any] = {"limit": limit}
    if states:
        where.append("state = ANY(:states)")
        params["states"] = list(states)
    if account:
        where.append("account = :account")
        params["account"] = account
    if since:
        where.append("created_at >= :since")
        params["since"] = since
    if until:
        where.append("created_at < :until")
        params["until"] = until
    rows = conn.execute(
        text(
            f"""
            SELECT id, state, account, provider, kind, created_at, send_at, started_at,
                   finished_at, recipients AS size, archived_at, archived_counts
            FROM campaigns WHERE {" AND ".join(where)}
            ORDER BY id DESC LIMIT :limit
            """  # noqa: S608 (constants of this module; values travel as parameters)
        ),
        params,
    ).mappings()
    found = [dict(r) for r in rows]
    for campaign in found:
        campaign["counts"] = _counts(conn, campaign["id"], campaign.pop("archived_counts"))
    return found


def _counts(conn: Connection, campaign_id: int, archived: dict[str, Any] | None) -> dict[str, int]:
    if archived is not None:
        return {s: int(archived.get(s, 0)) for s in COUNTED}
    row = conn.execute(
        text(f"SELECT {_COUNTS} FROM recipients r WHERE r.campaign_id = :c"),  # noqa: S608
        {"c": campaign_id},
    ).one()
    return {s: int(getattr(row, s)) for s in COUNTED}


# The states that wait for a person: what ``dispatcher batches`` lists by default.
WAITING_STATES = ("held", "unknown")


def list_batches(
    conn: Connection,
    *,
    states: Sequence[str] = WAITING_STATES,
    campaign_id: int | None = None,
    account: str | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """Batches in ``states``, most recently changed first. Held and unknown batches are few
    and found through ``batches_live`` (0022) when a campaign is named; across campaigns the
    state filter reads that partial index's rows too (it holds only batches not final)."""
    where = ["b.state = ANY(:states)"]
    params: dict[str, Any] = {"states": list(states), "limit": limit}
    if campaign_id is not None:
        where.append("b.campaign_id = :campaign_id")
        params["campaign_id"] = campaign_id
    if account:
        where.append("c.account = :account")
        params["account"] = account
    rows = conn.execute(
        text(
            f"""
            SELECT b.id, b.campaign_id, c.account, b.seq, b.size, b.state, b.attempts,
                   b.retries, b.last_outcome, b.last_code, b.last_message,
                   b.reconcile_state, b.reconcile_after, b.updated_at
            FROM batches b JOIN campaigns c ON c.id = b.campaign_id
            WHERE {" AND ".join(where)}
            ORDER BY b.updated_at DESC, b.id DESC
            LIMIT :limit
            """  # noqa: S608 (constants of this module; values travel as parameters)
        ),
        params,
    ).mappings()
    return [dict(r) for r in rows]


def batch_detail(conn: Connection, batch_id: int) -> dict[str, Any] | None:
    """Every column of the batch, with its campaign's account, provider and state."""
    row = (
        conn.execute(
            text(
                "SELECT b.*, c.account, c.provider, c.state AS campaign_state "
                "FROM batches b JOIN campaigns c ON c.id = b.campaign_id WHERE b.id = :id"
            ),
            {"id": batch_id},
        )
        .mappings()
        .first()
    )
    return dict(row) if row else None


def batch_recipient_counts(conn: Connection, campaign_id: int, seq: int) -> dict[str, int]:
    """The batch's recipients per status (its campaign's partition, by recipients_batch)."""
    rows = conn.execute(
        text(
            "SELECT status, count(*) AS n FROM recipients WHERE campaign_id = :c "
            "AND batch_seq = :s GROUP BY status ORDER BY status"
        ),
        {"c": campaign_id, "s": seq},
    )
    return {r.status: int(r.n) for r in rows}


def batch_provider_answers(
    conn: Connection, campaign_id: int, seq: int, limit: int = 5
) -> list[dict[str, Any]]:
    """The batch's recipients grouped by (status, provider code, text), largest first: what
    the provider answered for them, in a few lines."""
    rows = conn.execute(
        text(
            "SELECT status, provider_code, provider_text, count(*) AS n FROM recipients "
            "WHERE campaign_id = :c AND batch_seq = :s "
            "GROUP BY status, provider_code, provider_text ORDER BY n DESC LIMIT :limit"
        ),
        {"c": campaign_id, "s": seq, "limit": limit},
    ).mappings()
    return [dict(r) for r in rows]
