"""The statements run once per batch of a campaign read a bounded number of batch rows, not
the campaign's batch count (migration 0022).

Measured on a campaign of 10,000 batches: ``publish_next`` (at every claim), the settle of
``finish_if_settled`` (after every batch change) and the sweep's ``batches_to_publish`` each
read every batch of the campaign, so a campaign's total cost grew with the square of its
batches. These tests EXPLAIN ANALYZE each statement on a large campaign, most of it done,
beside an analysed history of other campaigns, and bound the rows its scans read: a row
count, never a timing.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pytest
from sqlalchemy import Connection, text

from dispatcher.persistence import batches, campaigns, maintenance
from dispatcher.persistence.database import Database
from tests.integration.helpers import recording

pytestmark = pytest.mark.integration

BATCHES = 20_000  # the large campaign's
DONE = 18_000  # its first batches, finished: what a scan in the campaign's order walks first
QUEUED = 20  # pending with a live message
SUBMITTED = 30
HELD = 3
WINDOW = 25
AFTER = timedelta(minutes=5)
# Rows a statement may read: a few windows' worth, far below BATCHES.
BOUND = 4 * WINDOW + 100
SCANS = ("Seq Scan", "Index Scan", "Index Only Scan", "Bitmap Heap Scan")
NOW = datetime(2026, 12, 3, 12, 0, tzinfo=UTC)


class Built(NamedTuple):
    large: int  # running, most of its batches done
    stopped: int  # running, its batches done but for HELD held ones


@pytest.fixture(scope="module")
def built(database: Database) -> Built:
    """Two large running campaigns beside done campaigns and two smaller running ones, all
    ANALYZEd."""
    with database.transaction() as conn:
        for _ in range(40):
            _campaign(conn, "done", batches=250, states="'done'")
        for _ in range(2):
            _campaign(conn, "running", batches=500, states="'pending'")
        campaign_id = _campaign(
            conn,
            "running",
            batches=BATCHES,
            states=(
                f"CASE WHEN s <= {DONE} THEN 'done' "
                f"WHEN s <= {DONE + SUBMITTED} THEN 'submitted' ELSE 'pending' END"
            ),
        )
        # Finished but for a few batches held for an operator: settling it asks every check.
        stopped = _campaign(
            conn,
            "running",
            batches=BATCHES,
            states=f"CASE WHEN s <= {BATCHES - HELD} THEN 'done' ELSE 'held' END",
        )
        conn.execute(
            text(
                "UPDATE batches SET published_at = :now - interval '1 minute' "
                "WHERE campaign_id = :c AND state = 'pending' AND seq <= :last"
            ),
            {"c": campaign_id, "now": NOW, "last": DONE + SUBMITTED + QUEUED},
        )
    with database.transaction() as conn:
        conn.execute(text("ANALYZE batches"))
        conn.execute(text("ANALYZE campaigns"))
    return Built(campaign_id, stopped)


def test_publish_next_reads_a_window_not_the_campaign(database: Database, built: Built) -> None:
    read = _rows_read(
        database,
        lambda conn: batches.publish_next(
            conn, built.large, NOW, window=WINDOW, republish_after=AFTER
        ),
        "UPDATE batches",
    )
    assert read <= BOUND


def test_settling_a_running_campaign_reads_a_few_batches(database: Database, built: Built) -> None:
    read = _rows_read(
        database, lambda conn: campaigns.finish_if_settled(conn, built.large), "UPDATE campaigns"
    )
    assert read <= BOUND


def test_settling_a_campaign_with_nothing_active_reads_a_few_batches(
    database: Database, built: Built
) -> None:
    read = _rows_read(
        database,
        lambda conn: campaigns.finish_if_settled(conn, built.stopped),
        "UPDATE campaigns",
    )
    assert read <= BOUND


def test_the_sweep_reads_windows_not_the_campaigns(database: Database, built: Built) -> None:
    read = _rows_read(
        database,
        lambda conn: maintenance.batches_to_publish(conn, NOW, AFTER, WINDOW, limit=1_000),
        "UPDATE batches",
    )
    # Three running campaigns with pending batches, a window each, plus the campaigns table.
    assert read <= 3 * BOUND


def test_connections_plan_for_their_values(database: Database) -> None:
    with database.transaction() as conn:
        mode = conn.execute(text("SHOW plan_cache_mode")).scalar_one()
    assert mode == "force_custom_plan"


def _campaign(conn: Connection, state: str, *, batches: int, states: str) -> int:
    campaign_id: int = conn.execute(
        text(
            "INSERT INTO campaigns (fingerprint, account, provider, kind, text, encoding, "
            "segments, method, batch_size, state) VALUES ('f', 'mock', 'mock', 'notification', "
            "'Hello', 'gsm7', 1, 'POST', 1000, :state) RETURNING id"
        ),
        {"state": state},
    ).scalar_one()
    conn.execute(
        text(
            f"INSERT INTO batches (campaign_id, seq, size, state, due_at) "
            f"SELECT :c, s, 1000, {states}, :now - interval '1 hour' "
            f"FROM generate_series(1, :n) AS s"
        ),
        {"c": campaign_id, "n": batches, "now": NOW},
    )
    return campaign_id


def _rows_read(database: Database, work: Callable[[Connection], object], marker: str) -> int:
    """Rows the scans of ``work``'s statement starting with ``marker`` read (returned, or
    removed by a filter), EXPLAIN ANALYZEd in a transaction that is rolled back."""
    with database.rollback_only() as conn, recording(conn) as seen:
        work(conn)
    statement, parameters = next((s, p) for s, p in seen if marker in s)
    with database.rollback_only() as conn:
        plan = conn.exec_driver_sql(
            f"EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) {statement}", parameters
        ).scalar_one()
    return _read(plan[0]["Plan"])


def _read(node: dict[str, Any]) -> int:
    own = 0
    if node["Node Type"] in SCANS:
        per_loop = (
            node["Actual Rows"]
            + node.get("Rows Removed by Filter", 0)
            + node.get("Rows Removed by Index Recheck", 0)
        )
        own = per_loop * node["Actual Loops"]
    return own + sum(_read(child) for child in node.get("Plans", []))
