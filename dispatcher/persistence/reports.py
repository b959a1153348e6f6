"""Applying what providers say about recipients, one statement per answer.

A report names its recipient by our id (``recipient_id``), by the provider's per-recipient
id (``message_id``) or by number within its batch (``msisdn``). Whatever the key, a report
changes a recipient only when it ranks higher, or ranks the same, is not final and is not
older than what we have: "gateway delivered" may follow "sent", nothing follows "delivered",
and the same report twice changes nothing the second time. Every change is logged as a
delivery event in the same statement.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import Connection, text

from dispatcher.domain.models import RecipientResult, Report
from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.persistence.recipients import FINAL_VALUES, event_insert, rank_sql
from dispatcher.redact import scrub_all

# How each kind of key finds its recipient; the campaign (and batch) filter uses indexes.
_MATCH = {
    "recipient_id": "r.campaign_id = :c AND r.id = CAST(i.key AS bigint)",
    "message_id": "r.campaign_id = :c AND r.provider_message_id = i.key",
    "msisdn": "r.campaign_id = :c AND r.batch_seq = :s AND r.msisdn = i.key",
}


@dataclass
class Applied:
    """What one answer's reports changed: how many recipients, and those it made final as
    (status, seconds from their batch's acceptance to the report's time; None if unknown),
    for the metrics' report latency. Read from the applying statement itself: no second read."""

    changed: int = 0
    finals: list[tuple[str, float | None]] = field(default_factory=list)

    def __iadd__(self, other: Applied) -> Applied:
        self.changed += other.changed
        self.finals += other.finals
        return self


def report_key(report: Report) -> tuple[str, str]:
    if report.recipient_id is not None:
        return "recipient_id", str(report.recipient_id)
    if report.message_id:  # the provider's own per-recipient id: exact, whatever the number's form
        return "message_id", report.message_id
    return "msisdn", report.msisdn


def apply_reports(
    conn: Connection,
    campaign_id: int,
    seq: int,
    reports: Sequence[Report],
    *,
    source: str,
    received_at: datetime,
) -> Applied:
    """Apply one answer's reports: what changed (``Applied``)."""
    groups: dict[str, list[tuple[str, Report]]] = {}
    for report in reports:
        kind, key = report_key(report)
        groups.setdefault(kind, []).append((key, report))
    applied = Applied()
    for kind, group in groups.items():
        applied += _apply(conn, kind, campaign_id, seq, group, source, received_at)
    return applied


def _apply(
    conn: Connection,
    kind: str,
    campaign_id: int,
    seq: int,
    keyed: Sequence[tuple[str, Report]],
    source: str,
    received_at: datetime,
) -> Applied:
    # A changed recipient was not final before (``r.status <> ALL(:finals)``): a final status
    # in ``changed`` is one these reports made final.
    sql = f"""
        WITH incoming AS (
            SELECT DISTINCT ON (key) * FROM unnest(
                CAST(:keys AS text[]), CAST(:statuses AS text[]), CAST(:codes AS text[]),
                CAST(:texts AS text[]), CAST(:ats AS timestamptz[]))
              AS t(key, status, code, text, at)
            ORDER BY key, {rank_sql("t.status")} DESC, at DESC
        ), changed AS (
            UPDATE recipients r
            SET status = i.status, provider_code = i.code, provider_text = i.text,
                status_at = i.at, updated_at = now()
            FROM incoming i
            WHERE {_MATCH[kind]}
              AND r.status <> ALL(:finals)
              AND ({rank_sql("i.status")} > {rank_sql("r.status")}
                   OR ({rank_sql("i.status")} = {rank_sql("r.status")}
                       AND r.provider_code IS DISTINCT FROM i.code
                       AND i.at >= coalesce(r.status_at, '-infinity')))
            RETURNING r.id, r.campaign_id, r.status, r.provider_code, r.provider_text, r.status_at
        ), logged AS ({event_insert("changed")}
        )
        SELECT status, extract(epoch FROM status_at - (
                   SELECT submitted_at FROM batches WHERE campaign_id = :c AND seq = :s))
        FROM changed
    """  # noqa: S608 (constants only; values travel as parameters)
    reports = [report for _, report in keyed]
    result = conn.execute(
        text(sql),
        {
            "keys": [key for key, _ in keyed],
            "statuses": [r.status.value for r in reports],
            "codes": [r.raw_code for r in reports],
            "texts": scrub_all(r.raw_text for r in reports),  # storage line, dispatcher/redact
            "ats": [r.occurred_at or received_at for r in reports],
            "c": campaign_id,
            "s": seq,
            "finals": FINAL_VALUES,
            "source": source,
        },
    )
    applied = Applied()
    for status, latency in result:
        applied.changed += 1
        if status in FINAL_VALUES:
            applied.finals.append((status, None if latency is None else float(latency)))
    return applied


_STATUS_OF_OUTCOME = {
    Outcome.ACCEPTED: RecipientStatus.SUBMITTED,
    Outcome.PERMANENT: RecipientStatus.FAILED,
    Outcome.UNKNOWN: RecipientStatus.UNKNOWN,
}


def apply_send_results(
    conn: Connection, campaign_id: int, seq: int, results: Iterable[RecipientResult]
) -> int:
    """A provider's per-destination answer to a send: accepted ones become submitted with the
    provider's id, refused ones failed, unknown ones unknown; transient ones stay queued for
    the batch's next attempt. One statement; failures and unknowns are logged as events."""
    rows = [(r, _STATUS_OF_OUTCOME[r.outcome]) for r in results if r.outcome in _STATUS_OF_OUTCOME]
    if not rows:
        return 0
    sql = f"""
        WITH incoming AS (
            SELECT * FROM unnest(CAST(:msisdns AS text[]), CAST(:statuses AS text[]),
                                 CAST(:codes AS text[]), CAST(:texts AS text[]),
                                 CAST(:ids AS text[]))
              AS t(msisdn, status, code, text, message_id)
        ), changed AS (
            UPDATE recipients r
            SET status = i.status, provider_code = i.code, provider_text = i.text,
                provider_message_id = i.message_id, updated_at = now(),
                status_at = CASE WHEN i.status = 'submitted' THEN r.status_at ELSE now() END
            FROM incoming i
            WHERE r.campaign_id = :c AND r.batch_seq = :s AND r.msisdn = i.msisdn
              AND r.status IN ('queued', 'unknown')
            RETURNING r.id, r.campaign_id, r.status, r.provider_code, r.provider_text, r.status_at
        ), logged AS (
            SELECT * FROM changed WHERE status <> 'submitted'
        ){event_insert("logged")}
    """  # noqa: S608 (constants only)
    conn.execute(
        text(sql),
        {
            "msisdns": [r.msisdn for r, _ in rows],
            "statuses": [status.value for _, status in rows],
            "codes": [r.code for r, _ in rows],
            "texts": scrub_all(r.description for r, _ in rows),  # dispatcher/redact
            "ids": [r.message_id for r, _ in rows],
            "c": campaign_id,
            "s": seq,
            "source": "submit",
        },
    )
    return len(rows)


# How long after it finished a campaign's messages are still looked for by their message id.
# Reports come within the provider's horizon (the bulk gateway's 48 h) and unmatched ones are
# kept 72 h; looking further would probe every partition of the history for each report.
STILL_REPORTING = timedelta(days=7)


def reporting_campaigns(conn: Connection, account: str) -> list[int]:
    """The account's campaigns whose recipients may still be named by a pushed report: not
    archived, and not final or final for less than STILL_REPORTING. Statements that find
    recipients by message id across campaigns are restricted to these, so they prune to their
    partitions instead of probing the whole history's."""
    return list(
        conn.execute(
            text(
                "SELECT id FROM campaigns WHERE account = :account AND archived_at IS NULL "
                "AND (state NOT IN ('done', 'cancelled') "
                "OR coalesce(finished_at, updated_at) >= now() - :still) ORDER BY id"
            ),
            {"account": account, "still": STILL_REPORTING},
        ).scalars()
    )


def locate_message_ids(
    conn: Connection, account: str, message_ids: Sequence[str]
) -> dict[str, tuple[int, int]]:
    """message id -> (campaign id, batch number), for reports that name only the provider's
    per-recipient id (the bulk gateway's delivery reports); among reporting_campaigns."""
    candidates = reporting_campaigns(conn, account)
    if not candidates or not message_ids:
        return {}
    rows = conn.execute(
        text(
            "SELECT r.provider_message_id, r.campaign_id, r.batch_seq FROM recipients r "
            "WHERE r.provider_message_id = ANY(:ids) AND r.campaign_id = ANY(:candidates)"
        ),
        {"ids": list(message_ids), "candidates": candidates},
    )
    return {row[0]: (row[1], row[2]) for row in rows}
