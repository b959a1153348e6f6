"""Recipient rows, written and updated in sets.

A campaign's recipients go into ``recipients`` by COPY, each with its batch number, and the
same transaction removes opted-out numbers and repeated ones in two set-wise statements.
Status changes are one statement per batch or per report answer; a recipient's status only
moves to a higher rank (see RecipientStatus.rank).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any

from psycopg import Copy
from psycopg.types.json import Jsonb
from sqlalchemy import Connection, text

from dispatcher.domain.statuses import FINAL_STATUSES, RecipientStatus
from dispatcher.persistence.database import raw_connection
from dispatcher.redact import scrub_stored

# The rank of a status, in SQL, from the one definition in RecipientStatus.rank.
_RANK_CASES = " ".join(f"WHEN '{s.value}' THEN {s.rank}" for s in RecipientStatus)
FINAL_VALUES = [s.value for s in FINAL_STATUSES]


def rank_sql(column: str) -> str:
    return f"(CASE {column} {_RANK_CASES} END)"


class RecipientWriter:
    """A campaign's recipients streamed into ``recipients`` by COPY, in input order.

    Memory stays flat whatever the count. A recipient's batch is its input row's: batch ``n``
    holds rows ``n * batch_size + 1`` to ``(n + 1) * batch_size``, less the rows later
    removed (invalid, duplicate, opted out), so numbering needs no second pass.
    """

    def __init__(self, copy: Copy, campaign_id: int, batch_size: int) -> None:
        self._copy = copy
        self._campaign_id = campaign_id
        self._batch_size = batch_size
        self.rows = 0

    def add(
        self, row_no: int, msisdn: str, fields: dict[str, Any] | None, text: str | None = None
    ) -> None:
        self._copy.write_row(
            (self._campaign_id, (row_no - 1) // self._batch_size, row_no, msisdn,
             Jsonb(fields) if fields else None, text)
        )  # fmt: skip
        self.rows += 1


@contextmanager
def writer(conn: Connection, campaign_id: int, batch_size: int) -> Iterator[RecipientWriter]:
    with (
        raw_connection(conn).cursor() as cur,
        cur.copy(
            "COPY recipients (campaign_id, batch_seq, row_no, msisdn, fields, text) FROM STDIN"
        ) as copy,
    ):
        yield RecipientWriter(copy, campaign_id, batch_size)


def remove_opted_out(conn: Connection, campaign_id: int) -> tuple[int, int]:
    """Drop the campaign's rows whose number is on the opt-out list: (numbers, rows)."""
    if not conn.execute(text("SELECT EXISTS (SELECT 1 FROM opt_outs)")).scalar_one():
        return 0, 0
    numbers, rows = conn.execute(
        text(
            "WITH removed AS (DELETE FROM recipients r USING opt_outs o "
            "  WHERE r.campaign_id = :c AND r.msisdn = o.msisdn RETURNING r.msisdn) "
            "SELECT count(DISTINCT msisdn), count(*) FROM removed"
        ),
        {"c": campaign_id},
    ).one()
    return int(numbers), int(rows)


def remove_duplicates(conn: Connection, campaign_id: int) -> int:
    """Keep the first row of each number in the campaign; returns how many rows went.

    This, in the transaction that copied the rows in, is what keeps a number from appearing
    twice in a campaign (migration 0007 says why no unique index does it).

    Linear by construction, whatever the statistics (issue 10): the rows just copied are
    uncommitted, so an analysed table estimates them at one row, and a statement joining the
    campaign's rows with themselves got a nested loop, quadratic in the campaign (16,000
    recipients took 70 s). Here one window pass over the campaign's own rows (one sort)
    finds the later rows of each number, and the DELETE takes them by primary key from an
    array: no join of the new rows with anything, so there is no join plan to get wrong.
    """
    conn.execute(text("SET LOCAL work_mem = '256MB'"))  # the campaign's rows sorted in memory
    return conn.execute(
        text(
            "DELETE FROM recipients WHERE id = ANY(ARRAY("
            "  SELECT id FROM ("
            "    SELECT id, row_number() OVER (PARTITION BY msisdn ORDER BY row_no) AS nth"
            "    FROM recipients WHERE campaign_id = :c) numbered"
            "  WHERE nth > 1))"
        ),
        {"c": campaign_id},
    ).rowcount


def regroup_by_text(conn: Connection, campaign_id: int, batch_size: int) -> int:
    """Renumber a personalised campaign's batches so that each holds one text: recipients
    with the same text, in input order, ``batch_size`` at a time. Returns the batch count.

    For providers that take one text per request: identical texts share requests instead of
    one request per recipient.

    Window functions over the campaign's own rows only, then one join back by primary key
    (issue 10): the rows are uncommitted and estimated at one, and the earlier version joined
    the rows with their per-text summary on ``text``, a nested loop that rescanned every text
    for every recipient. Each text's first batch is the running sum of the batches of the texts
    that start before it; a text's rows share one ``first_row``, so the default RANGE frame
    counts a text's own batches once, whatever its size.
    """
    return int(
        conn.execute(
            text(
                """
            WITH per_text AS (
                SELECT id,
                       (row_number() OVER (w ORDER BY row_no) - 1) / :size AS chunk,
                       min(row_no) OVER w AS first_row,
                       (count(*) OVER w + :size - 1) / :size AS chunks,
                       row_no = min(row_no) OVER w AS leads
                FROM recipients WHERE campaign_id = :c
                WINDOW w AS (PARTITION BY text)
            ), numbered AS (
                SELECT id, chunk, chunks, sum(CASE WHEN leads THEN chunks ELSE 0 END)
                       OVER (ORDER BY first_row) - chunks AS first_seq
                FROM per_text
            ), renumbered AS (
                UPDATE recipients r SET batch_seq = n.first_seq + n.chunk
                FROM numbered n WHERE r.id = n.id
                RETURNING r.batch_seq
            )
            SELECT count(DISTINCT batch_seq) FROM renumbered
            """
            ),
            {"c": campaign_id, "size": batch_size},
        ).scalar_one()
    )


def distinct_texts(conn: Connection, campaign_id: int) -> Iterator[tuple[str, int]]:
    """(text, recipients) of a personalised campaign, most used first, streamed from a
    server-side cursor (a million different texts are never all in memory)."""
    query = text(
        "SELECT text, count(*) FROM recipients WHERE campaign_id = :c "
        "GROUP BY text ORDER BY count(*) DESC, min(row_no)"
    ).execution_options(yield_per=1000)
    for row in conn.execute(query, {"c": campaign_id}):
        yield row[0], row[1]


def has_numbers_in(conn: Connection, campaign_id: int, country_code: str) -> bool:
    """Whether any recipient's number starts with ``country_code`` (e.g. "33")."""
    return bool(
        conn.execute(
            text(
                "SELECT EXISTS (SELECT 1 FROM recipients WHERE campaign_id = :c "
                "AND msisdn LIKE :prefix)"
            ),
            {"c": campaign_id, "prefix": f"{country_code}%"},
        ).scalar_one()
    )


def batch_recipients(
    conn: Connection, campaign_id: int, seq: int
) -> list[tuple[int, str, str | None]]:
    """(id, msisdn, text) of a batch's recipients still waiting to be sent, in input order;
    ``text`` is None unless the campaign is personalised.

    Only ``queued`` ones: a recipient whose send may have happened (``unknown``) is never in a
    request again unless an operator puts it back to ``queued`` (services.campaigns).
    """
    rows = conn.execute(
        text(
            "SELECT id, msisdn, text FROM recipients WHERE campaign_id = :c AND batch_seq = :s "
            "AND status = 'queued' ORDER BY row_no"
        ),
        {"c": campaign_id, "s": seq},
    )
    return [(r.id, r.msisdn, r.text) for r in rows]


def set_batch_status(
    conn: Connection,
    campaign_id: int,
    seq: int | None,
    status: RecipientStatus,
    *,
    from_statuses: Sequence[RecipientStatus],
    code: str | None = None,
    description: str | None = None,
    source: str = "submit",
    log_events: bool = True,
    stamp: bool = True,
    at: datetime | None = None,
) -> int:
    """Move every recipient of a batch that is in ``from_statuses`` to ``status``, one statement;
    ``seq=None`` means every batch of the campaign (see set_campaign_status).

    ``stamp=False`` leaves ``status_at`` alone: a report of the same rank is ordered against
    the provider's own earlier report times, not against our clock (its times have seconds only).
    ``at`` stamps that time instead of the database's now() (the services' clock).
    """
    scope = "campaign_id = :c" if seq is None else "campaign_id = :c AND batch_seq = :s"
    # Built from constants only (statuses, CTE names); values travel as parameters.
    sql = f"""
        WITH changed AS (
            UPDATE recipients SET status = :status, provider_code = coalesce(:code, provider_code),
                   provider_text = coalesce(:description, provider_text),
                   status_at = CASE WHEN :stamp THEN coalesce(CAST(:at AS timestamptz), now())
                                    ELSE status_at END,
                   updated_at = now()
            WHERE {scope} AND status = ANY(:from_statuses)
            RETURNING id, campaign_id, status, provider_code, provider_text, status_at
        ){event_insert("changed") if log_events else " SELECT count(*) FROM changed"}
    """  # noqa: S608
    result = conn.execute(
        text(sql),
        {
            "status": status.value,
            "code": code,
            "description": scrub_stored(description),  # the storage line of dispatcher/redact
            "c": campaign_id,
            "s": seq,
            "from_statuses": [s.value for s in from_statuses],
            "source": source,
            "stamp": stamp,
            "at": at,
        },
    )
    return result.rowcount if log_events else int(result.scalar_one())


def set_campaign_status(
    conn: Connection,
    campaign_id: int,
    status: RecipientStatus,
    *,
    from_statuses: Sequence[RecipientStatus],
    source: str,
) -> int:
    """Every recipient of a campaign in ``from_statuses`` -> ``status``, each logged as a
    delivery event, in one statement whatever the campaign's size (an operator cancelling what
    is still queued). Filtered by campaign, so it reads only the campaign's rows by index."""
    return set_batch_status(
        conn, campaign_id, None, status, from_statuses=from_statuses, source=source
    )


def expire_batch(conn: Connection, campaign_id: int, seq: int, *, at: datetime, source: str) -> int:
    """A batch's recipients still ``submitted`` -> ``expired`` at ``at``, each with a delivery
    event from ``source`` ("horizon": a read made after the provider's report horizon found no
    final report; "gone": the provider no longer knows the submission). One statement; the
    last raw code and text are kept. ``unknown`` ones stay: nothing says they were sent."""
    return set_batch_status(
        conn,
        campaign_id,
        seq,
        RecipientStatus.EXPIRED,
        from_statuses=(RecipientStatus.SUBMITTED,),
        source=source,
        at=at,
    )


def event_insert(cte: str) -> str:
    """The INSERT that logs every row a CTE changed as a delivery event."""
    return f"""
        INSERT INTO delivery_events (recipient_id, campaign_id, status, raw_code, raw_text,
                                     source, occurred_at)
        SELECT id, campaign_id, status, provider_code, provider_text, :source, status_at
        FROM {cte}"""  # noqa: S608


def unsettled_in_batch(conn: Connection, campaign_id: int, seq: int) -> int:
    return int(
        conn.execute(
            text(
                "SELECT count(*) FROM recipients WHERE campaign_id = :c AND batch_seq = :s "
                "AND status <> ALL(:finals)"
            ),
            {"c": campaign_id, "s": seq, "finals": FINAL_VALUES},
        ).scalar_one()
    )


EXPORT_COLUMNS = (
    "row_no",
    "msisdn",
    "status",
    "provider_code",
    "provider_text",
    "provider_message_id",
    "batch_seq",
    "status_at",
)


def export_csv(conn: Connection, campaign_id: int, out: IO[bytes]) -> None:
    """Stream a campaign's recipients as CSV with a header, straight from COPY."""
    columns = ", ".join(EXPORT_COLUMNS)
    with (
        raw_connection(conn).cursor() as cur,
        cur.copy(
            f"COPY (SELECT {columns} FROM recipients WHERE campaign_id = {int(campaign_id)} "  # noqa: S608
            "ORDER BY row_no) TO STDOUT WITH (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        for chunk in copy:
            out.write(bytes(chunk))
