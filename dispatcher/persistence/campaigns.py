"""Campaign rows: insert once per idempotency key, read, move between states."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any, NamedTuple

from sqlalchemy import Connection, func, select, text, update
from sqlalchemy.dialects.postgresql import insert

from dispatcher.domain.models import Campaign
from dispatcher.domain.statuses import (
    ACTIVE_BATCH_STATES,
    STUCK_BATCH_STATES,
    BatchState,
    CampaignState,
    RecipientStatus,
)
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


class KeyedCampaign(NamedTuple):
    """What a repeated idempotency key is checked against. ``recipients_digest`` is None for
    a campaign stored before migration 0020, whose list can no longer be compared."""

    id: int
    fingerprint: str
    recipients_digest: str | None


def find_by_key(conn: Connection, key: str) -> KeyedCampaign | None:
    row = conn.execute(
        select(campaigns.c.id, campaigns.c.fingerprint, campaigns.c.recipients_digest).where(
            campaigns.c.idempotency_key == key
        )
    ).first()
    return KeyedCampaign(row.id, row.fingerprint, row.recipients_digest) if row else None


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
    conn: Connection,
    campaign_id: int,
    *,
    recipients_count: int,
    dropped: Mapping[str, int],
    recipients_digest: str | None,
) -> None:
    conn.execute(
        update(campaigns)
        .where(campaigns.c.id == campaign_id)
        .values(
            recipients=recipients_count,
            dropped=dict(dropped),
            recipients_digest=recipients_digest,
            updated_at=func.now(),
        )
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
        values["finished_at"] = None  # an operator's re-send reopens a done campaign
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


# Campaigns whose state follows their batches; paused, scheduled, done and cancelled ones wait
# for a person (a done campaign comes back only through an operator's re-send).
_SETTLING = (CampaignState.RUNNING, CampaignState.NEEDS_ATTENTION)
# The two-key advisory lock space (one bigint key is inbox's) that settling a campaign takes.
_SETTLE_LOCK_CLASS = 8

# One statement, on the campaign's own rows only (docs/design-rules.md 2.5), the target computed
# once (MATERIALIZED: inlined, the CASE would be repeated, and its checks with it). Each batch
# check is an index range of batches_live (0022), (campaign_id, state) over the states that are
# not final, and stops at its first row: walking batches_campaign_seq past the finished batches
# cost 3.2 ms a settle at 10,000 batches, and the stuck check became a scan of every campaign's
# batches once the large campaign was most of the table. (Hence two EXISTS for "running": one
# OR inside one EXISTS cannot be an index range.) The unknown-recipient check runs only when no
# batch is active or stuck (CASE stops at its first true branch), so a large campaign pays for
# it once, when it ends: one pass over the campaign's own partition (0021), stopping at the
# first unknown. (Asked batch by batch, the planner estimated one unknown row and rescanned the
# partition for each batch, quadratic.) No partial index on status = 'unknown' is added: an
# index naming ``status`` makes status updates non-HOT (migration 0008).
# An unknown batch still being reconciled (migration 0016, services/reconcile.py) keeps its
# campaign running: the provider's records may yet place it.
_SETTLE = text(
    "WITH target AS MATERIALIZED (SELECT CASE"
    "  WHEN EXISTS (SELECT 1 FROM batches WHERE campaign_id = :id AND state = ANY(:active))"
    "    OR EXISTS (SELECT 1 FROM batches WHERE campaign_id = :id AND state = 'unknown'"
    "      AND reconcile_state = 'pending')"
    "    THEN 'running'"
    "  WHEN EXISTS (SELECT 1 FROM batches WHERE campaign_id = :id AND state = ANY(:stuck))"
    "    OR EXISTS (SELECT 1 FROM recipients r WHERE r.campaign_id = :id AND r.status = 'unknown')"
    "    THEN 'needs_attention'"
    "  ELSE 'done' END AS state) "
    "UPDATE campaigns c SET state = target.state, updated_at = now(), "
    "  finished_at = CASE WHEN target.state = 'done' THEN now() END "
    "FROM target "
    "WHERE c.id = :id AND c.state = ANY(:settling) AND c.state <> target.state "
    "RETURNING c.state"
)


def finish_if_settled(conn: Connection, campaign_id: int) -> CampaignState | None:
    """Set a running campaign's state from its batches and recipients; return the new state
    when it changed. Called after every batch change, in that change's transaction.

    - a batch still moves on its own (pending, claimed, sending, submitted, or unknown and
      still being reconciled): ``running``;
    - else a batch is held or unknown, or a recipient is unknown: ``needs_attention`` (design
      rule 1.10: it never lets the campaign finish);
    - else ``done``. (A push-only account's batch, the bulk gateway's, stays ``submitted``
      until pushed reports make its recipients final or its horizon expires the rest.)

    Two ways: a ``needs_attention`` campaign whose batch comes back (a late answer, a callback
    naming it) is ``running`` again. The advisory lock makes concurrent settles of one campaign
    take turns, and the statement after it reads (READ COMMITTED) what the previous one
    committed: without it, the last two batches finishing together would each see the other
    still active, and the campaign would stay ``running`` with nothing left to move it.
    """
    conn.execute(
        text("SELECT pg_advisory_xact_lock(:cls, CAST(mod(:id, 2147483648) AS integer))"),
        {"cls": _SETTLE_LOCK_CLASS, "id": campaign_id},
    )
    state = conn.execute(
        _SETTLE,
        {
            "id": campaign_id,
            "active": [s.value for s in ACTIVE_BATCH_STATES],
            "stuck": [s.value for s in STUCK_BATCH_STATES],
            "settling": [s.value for s in _SETTLING],
        },
    ).scalar_one_or_none()
    return CampaignState(state) if state is not None else None


def recipient_counts(conn: Connection, campaign_id: int) -> dict[RecipientStatus, int]:
    """Recipients per status; an archived campaign's as they were when it was archived."""
    archived = conn.execute(
        select(campaigns.c.archived_counts).where(campaigns.c.id == campaign_id)
    ).scalar_one_or_none()
    if archived is not None:
        return {RecipientStatus(status): int(n) for status, n in archived.items()}
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


def archivable(conn: Connection, finished_before: datetime, limit: int) -> list[int]:
    """Done or cancelled campaigns, not archived, finished before ``finished_before``: the
    oldest ``limit`` of them."""
    return list(
        conn.execute(
            select(campaigns.c.id)
            .where(
                campaigns.c.state.in_([CampaignState.DONE.value, CampaignState.CANCELLED.value]),
                campaigns.c.archived_at.is_(None),
                func.coalesce(campaigns.c.finished_at, campaigns.c.updated_at) < finished_before,
            )
            .order_by(func.coalesce(campaigns.c.finished_at, campaigns.c.updated_at))
            .limit(limit)
        ).scalars()
    )


def campaign_row(conn: Connection, campaign_id: int) -> dict[str, Any]:
    """The campaign's stored row, every column (what an archive keeps of it)."""
    row = conn.execute(select(campaigns).where(campaigns.c.id == campaign_id)).mappings().first()
    if row is None:
        raise NotFoundError(f"no campaign {campaign_id}")
    return dict(row)


def mark_archived(
    conn: Connection, campaign_id: int, path: str, counts: Mapping[RecipientStatus, int]
) -> bool:
    """Record where the campaign's rows went and its recipients per status, before its
    partitions are dropped; False when it was already archived."""
    return (
        conn.execute(
            update(campaigns)
            .where(campaigns.c.id == campaign_id, campaigns.c.archived_at.is_(None))
            .values(
                archived_at=func.now(),
                archive_path=path,
                archived_counts={s.value: n for s, n in counts.items()},
                updated_at=func.now(),
            )
        ).rowcount
        == 1
    )


def archive_of(conn: Connection, campaign_id: int) -> tuple[datetime, str] | None:
    """(when, where) the campaign was archived, or None."""
    row = conn.execute(
        select(campaigns.c.archived_at, campaigns.c.archive_path).where(
            campaigns.c.id == campaign_id
        )
    ).first()
    return (row.archived_at, row.archive_path) if row and row.archived_at else None
