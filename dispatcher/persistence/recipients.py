"""Recipient rows, written and updated in sets.

A campaign's recipients go by COPY into its own partition table (persistence/partitions.py),
each with its batch number, and the same transaction removes opted-out numbers and repeated
ones in two set-wise statements, before the table is indexed and attached to ``recipients``.
The statements of enqueue name that table; every later one names ``recipients`` with the
campaign id, which prunes to the campaign's partition.
Status changes are one statement per batch or per report answer; a recipient's status only
moves to a higher rank (see RecipientStatus.rank).
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import IO, Any

from psycopg import Copy
from sqlalchemy import Connection, text

from dispatcher.domain.statuses import FINAL_STATUSES, RecipientStatus
from dispatcher.persistence.database import raw_connection
from dispatcher.persistence.partitions import recipients_table
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

    # Rows go as COPY text lines, written a few thousand at a time: about twice as fast as
    # psycopg's write_row, which adapts each value of each row.
    _LINES_PER_WRITE = 4096

    def __init__(self, copy: Copy, campaign_id: int, batch_size: int) -> None:
        self._copy = copy
        self._campaign_id = campaign_id
        self._batch_size = batch_size
        self._lines: list[str] = []
        self.rows = 0

    def add(
        self, row_no: int, msisdn: str, fields: dict[str, Any] | None, text: str | None = None
    ) -> None:
        """``msisdn`` is a normaliser's answer, ASCII digits: it needs no escaping."""
        extra = _NO_EXTRA
        if fields or text is not None:
            extra = (
                f"{_copy_text(json.dumps(fields)) if fields else _NULL}\t"
                f"{_NULL if text is None else _copy_text(text)}"
            )
        self._lines.append(
            f"{self._campaign_id}\t{(row_no - 1) // self._batch_size}\t{row_no}\t{msisdn}\t"
            f"{extra}\n"
        )
        self.rows += 1
        if len(self._lines) >= self._LINES_PER_WRITE:
            self.flush()

    def flush(self) -> None:
        if self._lines:
            self._copy.write("".join(self._lines))
            self._lines.clear()


_NULL = "\\N"
_NO_EXTRA = f"{_NULL}\t{_NULL}"  # no fields, no text of its own
_COPY_ESCAPES = str.maketrans({"\\": "\\\\", "\n": "\\n", "\r": "\\r", "\t": "\\t"})


def _copy_text(value: str) -> str:
    """A value as COPY's text format reads it back (inputs.py refused NUL already)."""
    return value.translate(_COPY_ESCAPES)


@contextmanager
def writer(conn: Connection, campaign_id: int, batch_size: int) -> Iterator[RecipientWriter]:
    """COPY into the campaign's table (partitions.open_recipients made it, unindexed)."""
    table = recipients_table(campaign_id)
    with (
        raw_connection(conn).cursor() as cur,
        cur.copy(
            f"COPY {table} (campaign_id, batch_seq, row_no, msisdn, fields, text) FROM STDIN"
        ) as copy,
    ):
        rows = RecipientWriter(copy, campaign_id, batch_size)
        yield rows
        rows.flush()


def remove_opted_out(conn: Connection, campaign_id: int) -> tuple[int, int]:
    """Drop the campaign's rows whose number is on the opt-out list: (numbers, rows).
    Enqueue only: on the campaign's own table, before it is indexed."""
    if not conn.execute(text("SELECT EXISTS (SELECT 1 FROM opt_outs)")).scalar_one():
        return 0, 0
    numbers, rows = conn.execute(
        text(
            f"WITH removed AS (DELETE FROM {recipients_table(campaign_id)} r USING opt_outs o "  # noqa: S608
            "  WHERE r.msisdn = o.msisdn RETURNING r.msisdn) "
            "SELECT count(DISTINCT msisdn), count(*) FROM removed"
        )
    ).one()
    return int(numbers), int(rows)


def remove_duplicates(conn: Connection, campaign_id: int) -> int:
    """Keep the first row of each number in the campaign; returns how many rows went.

    This, in the transaction that copied the rows in, is what keeps a number from appearing
    twice in a campaign (migration 0007 says why no unique index does it).

    Linear by construction, whatever the statistics (issue 10): a statement joining the
    campaign's rows with themselves once got a nested loop, quadratic in the campaign (16,000
    recipients took 70 s). Here one window pass over the campaign's own table (one sort)
    finds the later rows of each number, and the DELETE takes them by their physical address
    (a TID scan of a sorted array; the table has no index yet): no join, no join plan to get
    wrong. Enqueue only: the table is the campaign's own, not yet attached. The sort compares
    bytes (COLLATE "C": equal numbers are equal bytes), about 40 % cheaper than the
    database's linguistic collation on a million numbers.
    """
    table = recipients_table(campaign_id)
    conn.execute(text("SET LOCAL work_mem = '256MB'"))  # the campaign's rows sorted in memory
    return conn.execute(
        text(
            f"DELETE FROM {table} WHERE ctid = ANY(ARRAY("  # noqa: S608 (a name of digits)
            "  SELECT ctid FROM ("
            "    SELECT ctid,"
            '      row_number() OVER (PARTITION BY msisdn COLLATE "C" ORDER BY row_no) AS nth'
            f"    FROM {table}) numbered"
            "  WHERE nth > 1))"
        )
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
    counts a text's own batches once, whatever its size. Enqueue only (the campaign's own
    table, before it is indexed: joined back by physical address).
    """
    table = recipients_table(campaign_id)
    return int(
        conn.execute(
            text(
                f"""
            WITH per_text AS (
                SELECT ctid AS tid,
                       (row_number() OVER (w ORDER BY row_no) - 1) / :size AS chunk,
                       min(row_no) OVER w AS first_row,
                       (count(*) OVER w + :size - 1) / :size AS chunks,
                       row_no = min(row_no) OVER w AS leads
                FROM {table}
                WINDOW w AS (PARTITION BY text COLLATE "C")
            ), numbered AS (
                SELECT tid, chunk, chunks, sum(CASE WHEN leads THEN chunks ELSE 0 END)
                       OVER (ORDER BY first_row) - chunks AS first_seq
                FROM per_text
            ), renumbered AS (
                UPDATE {table} r SET batch_seq = n.first_seq + n.chunk
                FROM numbered n WHERE r.ctid = n.tid
                RETURNING r.batch_seq
            )
            SELECT count(DISTINCT batch_seq) FROM renumbered
            """  # noqa: S608 (a name of digits)
            ),
            {"size": batch_size},
        ).scalar_one()
    )


def distinct_texts(conn: Connection, campaign_id: int) -> Iterator[tuple[str, int]]:
    """(text, recipients) of a personalised campaign, most used first, streamed from a
    server-side cursor (a million different texts are never all in memory)."""
    query = text(
        f"SELECT text, count(*) FROM {recipients_table(campaign_id)} "  # noqa: S608
        "GROUP BY text ORDER BY count(*) DESC, min(row_no)"
    ).execution_options(yield_per=1000)
    for row in conn.execute(query):
        yield row[0], row[1]


def has_numbers_in(conn: Connection, campaign_id: int, country_code: str) -> bool:
    """Whether any recipient's number starts with ``country_code`` (e.g. "33")."""
    return bool(
        conn.execute(
            text(
                f"SELECT EXISTS (SELECT 1 FROM {recipients_table(campaign_id)} "  # noqa: S608
                "WHERE msisdn LIKE :prefix)"
            ),
            {"prefix": f"{country_code}%"},
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


def export_query(campaign_id: int) -> str:
    """The export's query (a COPY takes no parameters: the id is an integer)."""
    columns = ", ".join(EXPORT_COLUMNS)
    return (
        f"SELECT {columns} FROM recipients WHERE campaign_id = {int(campaign_id)} "  # noqa: S608
        "ORDER BY row_no"
    )


def export_csv(conn: Connection, campaign_id: int, out: IO[bytes]) -> None:
    """Stream a campaign's recipients as CSV with a header, straight from COPY."""
    with (
        raw_connection(conn).cursor() as cur,
        cur.copy(
            f"COPY ({export_query(campaign_id)}) TO STDOUT WITH (FORMAT csv, HEADER true)"
        ) as copy,
    ):
        for chunk in copy:
            out.write(bytes(chunk))
