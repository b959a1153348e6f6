"""Migration 0021 attaches the old single tables, with every campaign's recipients and
delivery events, as the partitioned tables' legacy partition, and puts them back on
downgrade, losing nothing; a legacy campaign's rows can still be removed on their own."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from alembic import command
from sqlalchemy import Connection, text

from dispatcher.local.servers import ServerUrls, fresh_database
from dispatcher.persistence import partitions
from dispatcher.persistence.database import Database
from dispatcher.persistence.migrate import alembic_config, upgrade

pytestmark = pytest.mark.integration

SIZES = {1: 300, 2: 0, 3: 1200}  # campaign id -> recipients (campaign 2 has none)
ROWS = "SELECT * FROM {table} ORDER BY id"
PARTITIONS = (
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = CAST(:parent AS regclass) ORDER BY 1"
)


@pytest.fixture
def old_shape(servers: ServerUrls) -> Iterator[Database]:
    """A database at 0020 holding three campaigns, their recipients and delivery events."""
    with fresh_database(servers.admin_url, prefix="dispatcher_partition_migration") as url:
        db = Database(url, pool_size=1)
        _migrate(db, "0020", down=True)
        with db.engine.begin() as conn:
            _old_campaigns(conn)
        yield db
        db.dispose()


def test_upgrade_keeps_every_row_and_event_in_the_legacy_partition(
    old_shape: Database,
) -> None:
    before = _contents(old_shape)
    upgrade(old_shape)
    assert _contents(old_shape) == before
    with old_shape.engine.connect() as conn:
        for parent in ("recipients", "delivery_events"):
            found = conn.execute(text(PARTITIONS), {"parent": parent}).scalars()
            assert list(found) == [f"{parent}_legacy"]
        for campaign_id, size in SIZES.items():
            mine = conn.execute(
                text("SELECT count(*) FROM recipients WHERE campaign_id = :c"), {"c": campaign_id}
            )
            assert mine.scalar_one() == size


def test_a_legacy_campaigns_rows_are_dropped_alone(old_shape: Database) -> None:
    upgrade(old_shape)
    before = _contents(old_shape)
    with old_shape.engine.connect() as conn:
        autocommit = conn.execution_options(isolation_level="AUTOCOMMIT")
        partitions.detach_and_drop(autocommit, 3)
    after = _contents(old_shape)
    for table in ("recipients", "delivery_events"):
        kept = [row for row in before[table] if ("campaign_id", 3) not in row]
        assert after[table] == kept
        assert len(kept) == len(before[table]) - SIZES[3]


def test_new_rows_after_the_upgrade_take_ids_after_the_old_ones(old_shape: Database) -> None:
    upgrade(old_shape)
    with old_shape.engine.begin() as conn:
        highest = conn.execute(text("SELECT max(id) FROM recipients")).scalar_one()
        new = conn.execute(
            text(
                "INSERT INTO recipients (campaign_id, batch_seq, row_no, msisdn) "
                "VALUES (3, 0, 9999, '33600009999') RETURNING id"
            )
        ).scalar_one()
    assert new > highest


def test_downgrade_puts_every_row_back_in_one_table(old_shape: Database) -> None:
    before = _contents(old_shape)
    upgrade(old_shape)
    _migrate(old_shape, "0020", down=True)
    assert _contents(old_shape) == before
    with old_shape.engine.connect() as conn:
        kind = conn.execute(text("SELECT relkind FROM pg_class WHERE relname = 'recipients'"))
        assert kind.scalar_one() == "r"


def _migrate(db: Database, revision: str, *, down: bool) -> None:
    with db.engine.begin() as conn:
        config = alembic_config(db)
        config.attributes["connection"] = conn
        (command.downgrade if down else command.upgrade)(config, revision)


def _old_campaigns(conn: Connection) -> None:
    for campaign_id, size in SIZES.items():
        conn.execute(
            text(
                "INSERT INTO campaigns (id, fingerprint, account, provider, kind, text, encoding, "
                "segments, method, batch_size, state) OVERRIDING SYSTEM VALUE VALUES "
                "(:id, 'f', 'mock', 'smsmode', 'notification', 'Hi', 'gsm', 1, 'POST', 100, "
                "'done')"
            ),
            {"id": campaign_id},
        )
        conn.execute(
            text(
                "INSERT INTO recipients (campaign_id, batch_seq, row_no, msisdn, status, "
                "provider_code, provider_message_id, fields) "
                "SELECT :c, g / 100, g, '336' || lpad(g::text, 8, '0'), "
                "CASE WHEN g % 7 = 0 THEN 'failed' ELSE 'delivered' END, '11', "
                "'m' || :c || '-' || g, jsonb_build_object('n', g) "
                "FROM generate_series(1, :n) g"
            ),
            {"c": campaign_id, "n": size},
        )
        conn.execute(
            text(
                "INSERT INTO delivery_events (recipient_id, campaign_id, status, raw_code, "
                "source, occurred_at) SELECT id, campaign_id, status, provider_code, 'poll', "
                "now() FROM recipients WHERE campaign_id = :c"
            ),
            {"c": campaign_id},
        )


def _contents(db: Database) -> dict[str, list[list[tuple[str, object]]]]:
    """Every row of both tables, each as (column, value) pairs by name (0021 changes the
    columns' order)."""
    with db.engine.connect() as conn:
        return {
            table: [
                sorted((str(k), v) for k, v in row.items())
                for row in conn.execute(text(ROWS.format(table=table))).mappings()
            ]
            for table in ("recipients", "delivery_events")
        }
