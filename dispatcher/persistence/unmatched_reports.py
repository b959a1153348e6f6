"""Pushed reports that named a message id no recipient had, and what they can still place.

A bulk gateway report is found by the gateway's message id (its document, section 1.4). A
recipient answered 1715, or whose answer was lost, has no message id, so its report matches
nothing: instead of dropping it (services/callbacks.py did), ``keep`` stores it here for
``pushed_report_retention_hours``. The reconciler (services/reconcile_pushed.py) asks
``candidates`` which stored messages fit an unknown batch's recipients, lets
domain/report_matching.py decide, then ``place`` gives each placed recipient its message id
and ``stored_reports`` are applied by that id, and ``consume`` deletes them.

Every statement is set-wise (one per batch or per callback page) and conditional, so two
reconcilers on one batch (a wake-up can end a look's lease early) change nothing twice.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from sqlalchemy import Connection, text

from dispatcher.domain.models import Report
from dispatcher.domain.report_matching import Candidate
from dispatcher.domain.statuses import RecipientStatus
from dispatcher.persistence.recipients import event_insert
from dispatcher.persistence.reconcile import INTO_UNKNOWN
from dispatcher.persistence.reports import reporting_campaigns
from dispatcher.redact import scrub_all


def keep(conn: Connection, account: str, found: Sequence[Report], received_at: datetime) -> int:
    """Store the reports that name only a message id (the ones a recipient may later be
    placed by); returns how many were stored. Others (a submission id nobody has) stay lost."""
    kept = [r for r in found if r.message_id and r.provider_ref is None and r.msisdn]
    if not kept:
        return 0
    conn.execute(
        text(
            """
            INSERT INTO unmatched_reports (account, message_id, destination, status, raw_code,
                                           raw_text, occurred_at, submitted_at, received_at)
            SELECT CAST(:account AS text), t.*, CAST(:received AS timestamptz) FROM unnest(
                CAST(:ids AS text[]), CAST(:numbers AS text[]), CAST(:statuses AS text[]),
                CAST(:codes AS text[]), CAST(:texts AS text[]),
                CAST(:occurred AS timestamptz[]), CAST(:submitted AS timestamptz[])) AS t
            """
        ),
        {
            "account": account,
            "received": received_at,
            "ids": [r.message_id for r in kept],
            "numbers": [r.msisdn for r in kept],
            "statuses": [r.status.value for r in kept],
            "codes": [r.raw_code for r in kept],
            "texts": scrub_all(r.raw_text for r in kept),  # storage line, dispatcher/redact
            "occurred": [r.occurred_at for r in kept],
            "submitted": [r.submitted_at for r in kept],
        },
    )
    return len(kept)


def wake(conn: Connection, account: str, now: datetime) -> int:
    """The account's batches under reconciliation look again at once: a stored report may be
    one of theirs. Reads only pending batches (the partial index ``batches_reconcile_due``)."""
    return conn.execute(
        text(
            "UPDATE batches b SET reconcile_after = :now FROM campaigns c "
            "WHERE c.id = b.campaign_id AND c.account = :account "
            "AND b.reconcile_state = 'pending' AND b.reconcile_after > :now"
        ),
        {"account": account, "now": now},
    ).rowcount


def candidates(
    conn: Connection,
    account: str,
    campaign_id: int,
    seq: int,
    *,
    sent_from: datetime,
    sent_to: datetime,
    slack: timedelta,
) -> list[Candidate]:
    """Stored messages to the batch's unknown recipients' numbers, submitted between
    ``sent_from - slack`` and ``sent_to + slack``, whose message id no recipient of the account
    has, each with its count of rivals: other unknown recipients of the account with that
    number whose own send window (its start to when it became unknown, with the same slack)
    holds the submit date."""
    rows = conn.execute(
        text(
            """
            WITH offered AS (
                SELECT DISTINCT r.id AS recipient_id, p.message_id, p.destination,
                       p.submitted_at
                FROM recipients r
                JOIN unmatched_reports p ON p.account = :account AND p.destination = r.msisdn
                 AND p.submitted_at BETWEEN :lo AND :hi
                WHERE r.campaign_id = :c AND r.batch_seq = :s AND r.status = 'unknown'
                  AND NOT EXISTS (
                    SELECT 1 FROM recipients k
                    WHERE k.provider_message_id = p.message_id
                      AND k.campaign_id = ANY(:reporting))
            )
            SELECT o.recipient_id, o.message_id, (
                -- Every batch holding an unknown recipient entered reconciliation
                -- (reconcile_state is set with it), so the rivals are found through those
                -- batches and recipients_batch: no index on status (migration 0008).
                SELECT count(*) FROM batches b2
                JOIN campaigns c2 ON c2.id = b2.campaign_id AND c2.account = :account
                JOIN recipients r2 ON r2.campaign_id = b2.campaign_id AND r2.batch_seq = b2.seq
                WHERE b2.reconcile_state IS NOT NULL AND r2.campaign_id = ANY(:reporting)
                  AND r2.status = 'unknown' AND r2.msisdn = o.destination
                  AND r2.id <> o.recipient_id
                  AND o.submitted_at >= coalesce(b2.sending_at, b2.created_at) - :slack
                  AND o.submitted_at <= coalesce((
                        SELECT max(CAST(e->>'at' AS timestamptz))
                        FROM jsonb_array_elements(b2.evidence) e
                        WHERE e->>'event' = 'unknown'), now()) + :slack
            ) AS rivals
            FROM offered o
            ORDER BY o.recipient_id, o.message_id
            """
        ),
        {
            "account": account,
            "c": campaign_id,
            "s": seq,
            "lo": sent_from - slack,
            "hi": sent_to + slack,
            "slack": slack,
            # Partitions to look in: a batch in reconciliation is its campaign's unfinished
            # business, so its campaign is among them; so is any message id still reported.
            "reporting": reporting_campaigns(conn, account) or [campaign_id],
        },
    )
    return [Candidate(r.recipient_id, r.message_id, int(r.rivals)) for r in rows]


def place(conn: Connection, campaign_id: int, placed: Mapping[int, str], at: datetime) -> int:
    """unknown -> submitted with the message id its pushed report carries, each with an event
    from source "reconcile"; one statement. The reports themselves are applied next."""
    if not placed:
        return 0
    sql = f"""
        WITH incoming AS (
            SELECT * FROM unnest(CAST(:ids AS bigint[]), CAST(:messages AS text[]))
              AS t(id, message_id)
        ), changed AS (
            UPDATE recipients r
            SET status = :status, provider_message_id = i.message_id,
                provider_text = 'placed by a pushed report for message ' || i.message_id,
                status_at = :at, updated_at = now()
            FROM incoming i
            WHERE r.campaign_id = :c AND r.id = i.id AND r.status = 'unknown'
            RETURNING r.id, r.campaign_id, r.status, r.provider_code, r.provider_text, r.status_at
        ){event_insert("changed")}
    """  # noqa: S608 (constants only)
    return conn.execute(
        text(sql),
        {
            "ids": list(placed),
            "messages": list(placed.values()),
            "status": RecipientStatus.SUBMITTED.value,
            "at": at,
            "source": "reconcile",
            "c": campaign_id,
        },
    ).rowcount


def stored_reports(conn: Connection, account: str, message_ids: Sequence[str]) -> list[Report]:
    """The stored reports of these messages, as reports keyed by message id."""
    rows = conn.execute(
        text(
            "SELECT message_id, destination, status, raw_code, raw_text, occurred_at, "
            "submitted_at, received_at FROM unmatched_reports "
            "WHERE account = :account AND message_id = ANY(:ids) ORDER BY id"
        ),
        {"account": account, "ids": list(message_ids)},
    )
    return [
        Report(
            msisdn=r.destination,
            status=RecipientStatus(r.status),
            raw_code=r.raw_code,
            raw_text=r.raw_text,
            occurred_at=r.occurred_at or r.received_at,
            message_id=r.message_id,
            submitted_at=r.submitted_at,
        )
        for r in rows
    ]


def consume(conn: Connection, account: str, message_ids: Sequence[str]) -> int:
    return conn.execute(
        text("DELETE FROM unmatched_reports WHERE account = :account AND message_id = ANY(:ids)"),
        {"account": account, "ids": list(message_ids)},
    ).rowcount


def prune(conn: Connection, before: datetime) -> int:
    """Delete what was received before ``before``: past every report horizon, it can no longer
    place anything."""
    return conn.execute(
        text("DELETE FROM unmatched_reports WHERE received_at < :before"), {"before": before}
    ).rowcount


def enter_reconciliation(conn: Connection, batch_id: int, reason: str) -> bool:
    """A batch accepted with some recipients unknown (the bulk gateway's per-destination 1715)
    is reconciled like an unknown batch, for those recipients; the batch itself stays
    ``submitted``. Unconditional on its state, except that a reconciliation already pending
    is left as it is."""
    return (
        conn.execute(
            text(
                f"UPDATE batches SET {INTO_UNKNOWN}, updated_at = now() "  # noqa: S608
                "WHERE id = :id AND reconcile_state IS DISTINCT FROM 'pending'"
            ),
            {"id": batch_id, "reason": reason},
        ).rowcount
        == 1
    )
