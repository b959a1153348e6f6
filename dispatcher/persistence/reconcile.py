"""Batch rows of the reconciliation of unknown outcomes (services/reconcile.py).

A batch enters reconciliation in the statement that makes it ``unknown`` (``INTO_UNKNOWN``,
added to that statement's SET by ``batches.record_stopped`` and ``maintenance.expire_sends``),
so no unknown batch can exist without a due look. Every later change is conditional on
``reconcile_state = 'pending'``: two reconcilers, or a reconciler and a late answer, never
both act on one batch. ``evidence`` only grows: each step appends what it learnt.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, text

from dispatcher.redact import scrub_stored

# The SET fragment of every transition into ``unknown``. Right-hand sides read the row as it
# was before the statement, so ``worker`` is the worker that was sending. ``:reason`` is the
# statement's own parameter saying why.
INTO_UNKNOWN = (
    "reconcile_state = 'pending', reconcile_after = now(), "
    "evidence = evidence || jsonb_build_array(jsonb_build_object("
    "'event', 'unknown', 'reason', CAST(:reason AS text), 'worker', worker, "
    "'attempt', attempts, 'at', now()))"
)


@dataclass(frozen=True)
class Due:
    """A batch whose reconciliation is due, taken for ``lease`` by one reconciler."""

    batch_id: int
    campaign_id: int
    seq: int
    account: str
    state: str
    sent_after: datetime  # sending_at (or, for a batch older than it, its creation)
    tries: int
    evidence: list[dict[str, Any]]


def take_due(conn: Connection, now: datetime, lease: timedelta, limit: int) -> list[Due]:
    """Pending reconciliations due at ``now`` (the service's clock), their next look moved a
    lease ahead in the same statement: two beats never take the same batch."""
    rows = conn.execute(
        text(
            """
            UPDATE batches b SET reconcile_after = :now + :lease, updated_at = now()
            FROM campaigns c
            WHERE c.id = b.campaign_id AND b.id IN (
                SELECT id FROM batches
                WHERE reconcile_state = 'pending' AND reconcile_after <= :now
                ORDER BY reconcile_after LIMIT :limit FOR UPDATE SKIP LOCKED)
            RETURNING b.id, b.campaign_id, b.seq, c.account, b.state,
                      coalesce(b.sending_at, b.created_at) AS sent_after,
                      b.reconcile_tries, b.evidence
            """
        ),
        {"now": now, "lease": lease, "limit": limit},
    )
    return sorted(
        (
            Due(r.id, r.campaign_id, r.seq, r.account, r.state, r.sent_after,
                r.reconcile_tries, list(r.evidence))
            for r in rows
        ),
        key=lambda d: d.batch_id,
    )  # fmt: skip


def unknown_recipients(
    conn: Connection, campaign_id: int, seq: int
) -> list[tuple[str, str | None]]:
    """(msisdn, text) of the batch's recipients still ``unknown``: what the request carried
    that nobody has placed yet. ``text`` is None unless the campaign is personalised."""
    rows = conn.execute(
        text(
            "SELECT msisdn, text FROM recipients WHERE campaign_id = :c AND batch_seq = :s "
            "AND status = 'unknown' ORDER BY row_no"
        ),
        {"c": campaign_id, "s": seq},
    )
    return [(r.msisdn, r.text) for r in rows]


# The account's campaigns that can have sent anything since ``:since``: a campaign finished
# before it cannot, so a long history of finished campaigns is never read (docs/design-rules.md
# 2.5).
_ACCOUNT_BATCHES = (
    "FROM batches b JOIN campaigns c ON c.id = b.campaign_id "
    "WHERE c.account = :account AND (c.finished_at IS NULL OR c.finished_at >= :since) "
)


def sends_since(conn: Connection, account: str, since: datetime) -> int:
    """How many of the account's requests started at or after ``since``."""
    return int(
        conn.execute(
            text(f"SELECT count(*) {_ACCOUNT_BATCHES} AND b.sending_at >= :since"),
            {"account": account, "since": since},
        ).scalar_one()
    )


def refs_since(conn: Connection, account: str, since: datetime, exclude: int) -> frozenset[str]:
    """Provider references of the account's other batches sent since ``since``: a line of the
    provider's list carrying one of them is another batch's, never the one looked for."""
    rows = conn.execute(
        text(
            f"SELECT b.provider_ref {_ACCOUNT_BATCHES} "
            "AND b.sending_at >= :since AND b.provider_ref IS NOT NULL AND b.id <> :id"
        ),
        {"account": account, "since": since, "id": exclude},
    )
    return frozenset(r.provider_ref for r in rows)


# How far back the request answered just before a send is looked for: a neighbour older than
# that is too far to walk to anyway (providers/envoyer_lookup.py), and the read stays bounded.
NEIGHBOUR_LOOKBACK = timedelta(days=1)


def neighbour_refs(
    conn: Connection, account: str, start: datetime, end: datetime
) -> tuple[str | None, str | None]:
    """The account's numeric provider references around a request that ran from ``start`` to
    ``end``: the highest one answered before ``start`` (``submitted_at``) and the lowest one
    of a request started at or after ``end`` (``sending_at``); None where there is none. Only
    references of digits count (a provider numbering its messages, Envoyer SMS Pro)."""
    row = conn.execute(
        text(
            "SELECT max(CAST(b.provider_ref AS numeric)) FILTER (WHERE b.submitted_at < :start) "
            "AS below, min(CAST(b.provider_ref AS numeric)) FILTER (WHERE b.sending_at >= :end) "
            "AS above FROM batches b JOIN campaigns c ON c.id = b.campaign_id "
            "WHERE c.account = :account AND (c.finished_at IS NULL OR c.finished_at >= :floor) "
            "AND b.provider_ref ~ '^[0-9]{1,18}$' "
            "AND (b.submitted_at >= :floor OR b.sending_at >= :end)"
        ),
        {"account": account, "start": start, "end": end, "floor": start - NEIGHBOUR_LOOKBACK},
    ).one()
    return (
        None if row.below is None else str(int(row.below)),
        None if row.above is None else str(int(row.above)),
    )


def record_placed(
    conn: Connection,
    batch_id: int,
    *,
    provider_ref: str,
    evidence: dict[str, Any],
    first_poll: datetime | None,
    poll_until: datetime | None,
    poll_interval: int,
    now: datetime,
) -> bool:
    """unknown -> submitted with the provider's reference, found in its own records; polling
    takes over from ``first_poll``. True when the batch moved; a batch a late answer moved
    first keeps its own reference and only its reconciliation ends."""
    moved = conn.execute(
        text(
            "UPDATE batches SET state = 'submitted', provider_ref = :ref, submitted_at = :now, "  # noqa: S608
            "worker = NULL, lease_until = NULL, last_outcome = 'accepted', "
            "last_message = 'found at the provider by reconciliation', "
            "next_poll_at = :first_poll, poll_until = :poll_until, poll_interval = :interval, "
            f"{_SETTLE_SQL}, updated_at = now() "
            "WHERE id = :id AND state = 'unknown' AND reconcile_state = 'pending'"
        ),
        {
            "id": batch_id,
            "ref": provider_ref,
            "now": now,
            "first_poll": first_poll,
            "poll_until": poll_until,
            "interval": poll_interval,
            "to": "placed",
            "entry": _json(evidence),
        },
    ).rowcount
    if not moved:
        settle(conn, batch_id, "placed", evidence)
    return moved == 1


def settle(conn: Connection, batch_id: int, to: str, evidence: dict[str, Any]) -> bool:
    """pending -> ``to`` (placed, unplaced, unsupported), with what proved it."""
    return (
        conn.execute(
            text(
                f"UPDATE batches SET {_SETTLE_SQL}, updated_at = now() "  # noqa: S608
                "WHERE id = :id AND reconcile_state = 'pending'"
            ),
            {"id": batch_id, "to": to, "entry": _json(evidence)},
        ).rowcount
        == 1
    )


def look_again(
    conn: Connection, batch_id: int, at: datetime, evidence: dict[str, Any], *, counted: bool
) -> bool:
    """Still pending: look again at ``at``. ``counted``: this read was made (a wait for the
    provider's breaker or request limit is not a read, and appends nothing)."""
    return (
        conn.execute(
            text(
                "UPDATE batches SET reconcile_after = :at, "
                "reconcile_tries = reconcile_tries + CASE WHEN CAST(:counted AS boolean) "
                "THEN 1 ELSE 0 END, evidence = CASE WHEN CAST(:counted AS boolean) "
                "THEN evidence || jsonb_build_array(CAST(:entry AS jsonb)) ELSE evidence END, "
                "updated_at = now() "
                "WHERE id = :id AND reconcile_state = 'pending'"
            ),
            {"id": batch_id, "at": at, "counted": counted, "entry": _json(evidence)},
        ).rowcount
        == 1
    )


@dataclass(frozen=True)
class Reconciliation:
    """A batch's reconciliation as an operator sees it."""

    state: str | None  # None: the batch never was unknown
    after: datetime | None
    tries: int
    evidence: list[dict[str, Any]]


def reconciliation(conn: Connection, batch_id: int, *, lock: bool = False) -> Reconciliation | None:
    """``lock``: hold the row until the caller's transaction ends (an operator's re-send)."""
    row = conn.execute(
        text(
            "SELECT reconcile_state, reconcile_after, reconcile_tries, evidence "
            "FROM batches WHERE id = :id" + (" FOR UPDATE" if lock else "")
        ),
        {"id": batch_id},
    ).first()
    if row is None:
        return None
    return Reconciliation(
        row.reconcile_state, row.reconcile_after, row.reconcile_tries, list(row.evidence)
    )


_SETTLE_SQL = (
    "reconcile_state = :to, reconcile_after = NULL, "
    "evidence = evidence || jsonb_build_array(CAST(:entry AS jsonb))"
)


def _json(entry: dict[str, Any]) -> str:
    # The storage line of dispatcher/redact.py: what a provider said is masked in evidence too.
    clean = {key: scrub_stored(v) if isinstance(v, str) else v for key, v in entry.items()}
    return json.dumps(clean, default=str, ensure_ascii=False)
