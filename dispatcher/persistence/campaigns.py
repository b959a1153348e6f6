"""Campaign rows: insert once per idempotency key, read, move between states."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from dispatcher.domain.models import Campaign
from dispatcher.domain.statuses import BatchState, CampaignState, RecipientStatus
from dispatcher.errors import NotFoundError
from dispatcher.persistence.rows import to_campaign
from schemas.tables import batches, campaigns, recipients


def insert_campaign(conn: Connection, values: Mapping[str, Any]) -> int | None:
    """Insert and return the new id, or None when the idempotency key is already taken.

    ``ON CONFLICT DO NOTHING`` makes a concurrent second call wait for the first one's commit
    and then see its row, so two producers racing on one key get one campaign.
    """
    stmt = (
        insert(campaigns)
        .values(**values)
        .on_conflict_do_nothing(index_elements=["idempotency_key"])
        .returning(campaigns.c.id)
    )
    return conn.execute(stmt).scalar_one_or_none()


def find_by_key(conn: Connection, key: str) -> tuple[int, str] | None:
    row = conn.execute(
        select(campaigns.c.id, campaigns.c.fingerprint).where(campaigns.c.idempotency_key == key)
    ).first()
    return (row.id, row.fingerprint) if row else None


def get_campaign(conn: Connection, campaign_id: int, *, lock: bool = False) -> Campaign:
    stmt = select(campaigns).where(campaigns.c.id == campaign_id)
    if lock:
        stmt = stmt.with_for_update()
    row = conn.execute(stmt).mappings().first()
    if row is None:
        raise NotFoundError(f"no campaign {campaign_id}")
    return to_campaign(row)


def has_started(conn: Connection, campaign_id: int) -> bool:
    """Whether the campaign ever ran: a paused one resumes to ``running`` if so, else to
    ``scheduled`` (its send time still decides)."""
    started = conn.execute(
        select(campaigns.c.started_at.is_not(None)).where(campaigns.c.id == campaign_id)
    ).scalar_one_or_none()
    if started is None:
        raise NotFoundError(f"no campaign {campaign_id}")
    return bool(started)


def record_audience(
    conn: Connection, campaign_id: int, *, recipients_count: int, dropped: Mapping[str, int]
) -> None:
    conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(recipients=recipients_count, dropped=dict(dropped), updated_at=func.now())
    )


def record_options(conn: Connection, campaign_id: int, stored: Mapping[str, Any]) -> None:
    """Replace a campaign's options (``CampaignOptions.to_stored()``): enqueue decides how a
    personalised campaign's texts travel only once its recipients are in, after the insert."""
    conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(options=dict(stored), updated_at=func.now())
    )


def move(
    conn: Connection, campaign_id: int, *, from_states: set[CampaignState], to: CampaignState
) -> bool:
    """Conditional state change; False when the campaign was not in ``from_states``."""
    values: dict[str, Any] = {"state": to.value, "updated_at": func.now()}
    if to is CampaignState.RUNNING:
        values["started_at"] = func.coalesce(campaigns.c.started_at, func.now())
    if to in (CampaignState.DONE, CampaignState.CANCELLED):
        values["finished_at"] = func.now()
    result = conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id, campaigns.c.state.in_([s.value for s in from_states]))
        .values(**values)
    )
    return result.rowcount == 1


def due_campaigns(conn: Connection, now: datetime, limit: int = 100) -> list[int]:
    rows = conn.execute(
        select(campaigns.c.id)
        .where(campaigns.c.state == CampaignState.SCHEDULED.value, campaigns.c.send_at <= now)
        .order_by(campaigns.c.send_at)
        .limit(limit)
    )
    return [r.id for r in rows]


ACTIVE_BATCH_STATES = (
    BatchState.PENDING,
    BatchState.CLAIMED,
    BatchState.SENDING,
    BatchState.SUBMITTED,
)


def finish_if_settled(conn: Connection, campaign_id: int) -> bool:
    """Mark a running campaign done once none of its batches can move without an operator."""
    result = conn.execute(
        text(
            "UPDATE campaigns SET state = 'done', finished_at = now(), updated_at = now() "
            "WHERE id = :id AND state = 'running' AND NOT EXISTS ("
            "  SELECT 1 FROM batches WHERE campaign_id = :id AND state = ANY(:active))"
        ),
        {"id": campaign_id, "active": [s.value for s in ACTIVE_BATCH_STATES]},
    )
    return result.rowcount == 1


def recipient_counts(conn: Connection, campaign_id: int) -> dict[RecipientStatus, int]:
    rows = conn.execute(
        select(recipients.c.status, func.count())
        .where(recipients.c.campaign_id == campaign_id)
        .group_by(recipients.c.status)
    )
    return {RecipientStatus(status): n for status, n in rows}


def batch_counts(conn: Connection, campaign_id: int) -> dict[BatchState, int]:
    rows = conn.execute(
        select(batches.c.state, func.count())
        .where(batches.c.campaign_id == campaign_id)
        .group_by(batches.c.state)
    )
    return {BatchState(state): n for state, n in rows}


def dropped_counts(conn: Connection, campaign_id: int) -> dict[str, int]:
    value = conn.execute(
        select(campaigns.c.dropped).where(campaigns.c.id == campaign_id)
    ).scalar_one()
    return {str(k): int(v) for k, v in (value or {}).items()}


def status_and_code_counts(
    conn: Connection, campaign_id: int
) -> list[tuple[str, str | None, str | None, int]]:
    """(status, provider code, provider text, recipients), most recipients first: what the
    demo's summary shows of how a campaign ended."""
    count = func.count().label("n")
    rows = conn.execute(
        select(recipients.c.status, recipients.c.provider_code, recipients.c.provider_text, count)
        .where(recipients.c.campaign_id == campaign_id)
        .group_by(recipients.c.status, recipients.c.provider_code, recipients.c.provider_text)
        .order_by(count.desc())
    )
    return [(r.status, r.provider_code, r.provider_text, int(r.n)) for r in rows]
