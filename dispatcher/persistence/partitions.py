"""A partition of ``recipients`` and of ``delivery_events`` per campaign: names and DDL.

Enqueue never runs ``CREATE TABLE ... PARTITION OF`` in its long transaction: that takes an
ACCESS EXCLUSIVE lock on the parent until commit, and every running campaign's submits and
reports would wait behind a big COPY. Instead the campaign's rows go into a table of their own
(``open_recipients``: LIKE the parent, no index, a CHECK on its campaign id), are cleaned and
regrouped there, and ``attach`` builds its indexes, ANALYZEs it and attaches it (and an empty
events table) as the transaction's last statements. ATTACH PARTITION takes SHARE UPDATE
EXCLUSIVE on the parent, which reads and row updates do not conflict with; the CHECK lets it
skip the validation scan, and the indexes built beforehand are adopted, not rebuilt.

Archiving drops a campaign's partitions with DETACH PARTITION CONCURRENTLY (outside any
transaction, no lock that blocks running campaigns) then DROP TABLE: O(1) whatever its size.
"""

from __future__ import annotations

from typing import Protocol

from sqlalchemy import Connection, text

from dispatcher.persistence.database import raw_connection

RECIPIENTS = "recipients"
EVENTS = "delivery_events"


def recipients_table(campaign_id: int) -> str:
    """The name of a campaign's recipients partition: safe to put in SQL (digits only)."""
    return f"{RECIPIENTS}_c{int(campaign_id)}"


def events_table(campaign_id: int) -> str:
    return f"{EVENTS}_c{int(campaign_id)}"


def open_recipients(conn: Connection, campaign_id: int) -> str:
    """Create the campaign's standalone recipients table, not yet attached; return its name.

    Ids come from the parent's identity sequence, so a recipient id stays unique across
    campaigns (delivery events and reports name recipients by it)."""
    table = recipients_table(campaign_id)
    _run(conn, _create_like(conn, RECIPIENTS, table, campaign_id, fillfactor=70))
    return table


def attach(conn: Connection, campaign_id: int) -> None:
    """Index and ANALYZE the campaign's recipients table, create its events table, attach both.

    Called last in enqueue's transaction: the parent's SHARE UPDATE EXCLUSIVE lock is held from
    here to the commit only. ANALYZE counts the transaction's own rows, so the planner knows
    the campaign's true size from its first statement on. One round trip for the lot: a
    one-recipient campaign pays for the DDL, not for a dozen exchanges."""
    table, events = recipients_table(campaign_id), events_table(campaign_id)
    values = f"FOR VALUES IN ({int(campaign_id)})"
    _run(
        conn,
        [
            "SET LOCAL maintenance_work_mem = '256MB'",
            _primary_key(table),
            f"CREATE INDEX {table}_batch ON {table} (campaign_id, batch_seq)",
            f"CREATE INDEX {table}_message_id ON {table} (provider_message_id) "
            "WHERE provider_message_id IS NOT NULL",
            f"ANALYZE {table}",
            *_create_like(conn, EVENTS, events, campaign_id, fillfactor=None),
            _primary_key(events),
            f"CREATE INDEX {events}_recipient ON {events} (recipient_id)",
            f"ALTER TABLE {RECIPIENTS} ATTACH PARTITION {table} {values}",
            f"ALTER TABLE {EVENTS} ATTACH PARTITION {events} {values}",
        ],
    )


def existing(conn: Connection, campaign_id: int) -> list[str]:
    """Which of the campaign's two partitions exist (attached or not)."""
    names = [recipients_table(campaign_id), events_table(campaign_id)]
    rows = conn.execute(
        text("SELECT relname FROM pg_class WHERE relname = ANY(:names) AND relkind = 'r'"),
        {"names": names},
    )
    found = {r[0] for r in rows}
    return [n for n in names if n in found]


def detach_and_drop(autocommit: Connection, campaign_id: int) -> list[str]:
    """Drop the campaign's partitions; returns the tables dropped. ``autocommit`` must be a
    connection in AUTOCOMMIT: DETACH ... CONCURRENTLY cannot run in a transaction block.

    A campaign enqueued before migration 0021 has no partition of its own: its rows are in
    the legacy partitions, and are deleted there (in its number of rows, not O(1))."""
    own = existing(autocommit, campaign_id)
    dropped = []
    for parent, child in (
        (RECIPIENTS, recipients_table(campaign_id)),
        (EVENTS, events_table(campaign_id)),
    ):
        if child not in own:  # prunes to the legacy partition, or to nothing
            autocommit.execute(
                text(f"DELETE FROM {parent} WHERE campaign_id = :c"),  # noqa: S608
                {"c": campaign_id},
            )
            continue
        if _is_attached(autocommit, child):
            autocommit.execute(text(f"ALTER TABLE {parent} DETACH PARTITION {child} CONCURRENTLY"))
        autocommit.execute(text(f"DROP TABLE {child}"))
        dropped.append(child)
    return dropped


def _primary_key(table: str) -> str:
    return f"ALTER TABLE {table} ADD CONSTRAINT {table}_pkey PRIMARY KEY (campaign_id, id)"


def _run(conn: Connection, ddl: list[str]) -> None:
    """Statements without parameters (names of digits, constants), sent as one."""
    conn.exec_driver_sql("; ".join(ddl))


def _is_attached(conn: Connection, table: str) -> bool:
    return bool(
        conn.execute(
            text("SELECT EXISTS (SELECT 1 FROM pg_inherits WHERE inhrelid = CAST(:t AS regclass))"),
            {"t": table},
        ).scalar_one()
    )


def _create_like(
    conn: Connection, parent: str, table: str, campaign_id: int, *, fillfactor: int | None
) -> list[str]:
    """The DDL of a table like ``parent``, for one campaign, ids from the parent's sequence."""
    # DDL takes no parameters: the sequence's name is quoted by PostgreSQL itself.
    sequence = conn.execute(
        text("SELECT quote_literal(pg_get_serial_sequence(:parent, 'id'))"), {"parent": parent}
    ).scalar_one()
    storage = f" WITH (fillfactor = {int(fillfactor)})" if fillfactor else ""
    return [
        f"CREATE TABLE {table} (LIKE {parent} INCLUDING DEFAULTS INCLUDING CONSTRAINTS){storage}",
        f"ALTER TABLE {table} ALTER COLUMN id SET DEFAULT nextval({sequence}::regclass), "
        f"ADD CONSTRAINT {table}_campaign CHECK (campaign_id = {int(campaign_id)})",
    ]


class Sink(Protocol):
    def write(self, data: bytes, /) -> object: ...


def export_table(conn: Connection, table: str, campaign_id: int, out: Sink) -> None:
    """Every row of a campaign in ``table`` (recipients or delivery_events), by id, as CSV with
    a header, streamed from COPY."""
    assert table in (RECIPIENTS, EVENTS)
    query = f"SELECT * FROM {table} WHERE campaign_id = {int(campaign_id)} ORDER BY id"  # noqa: S608
    with (
        raw_connection(conn).cursor() as cur,
        cur.copy(f"COPY ({query}) TO STDOUT WITH (FORMAT csv, HEADER true)") as copy,
    ):
        for chunk in copy:
            out.write(bytes(chunk))


def row_counts(conn: Connection, campaign_id: int) -> tuple[int, int]:
    """(recipients, delivery events) the campaign has."""
    counted = [
        conn.execute(
            text(f"SELECT count(*) FROM {table} WHERE campaign_id = :c"),  # noqa: S608
            {"c": campaign_id},
        ).scalar_one()
        for table in (RECIPIENTS, EVENTS)
    ]
    return int(counted[0]), int(counted[1])
