"""Enqueue's set-wise statements keep linear plans once ``recipients`` has an analysed history
(issue 10).

The rows enqueue copies in are uncommitted when its statements run, so an analysed table
estimates them at one row; a join over them then got a nested loop that rescanned the whole
campaign for each of its rows (16,000 recipients took 70 s). These tests check the plans, not
a timing: every statement enqueue runs inside its transaction is EXPLAINed in that same
transaction, after the COPY, and the inner side of every nested loop must be one lookup by a
unique key. A rescan of the campaign's rows (or of anything derived from them) per outer row
is what goes quadratic.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import Connection, event, text

from dispatcher.local.sample import french_mobiles
from dispatcher.persistence import campaigns, opt_outs
from dispatcher.persistence.database import Database
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.services.intake import fill, prepare
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration

HISTORY = 50_000  # enough for the bad plan before the fix; loads in about a second
CAMPAIGN = 2_000
KEYED = ("Index Scan", "Index Only Scan")  # with a unique index: one row per outer row


@pytest.fixture(scope="module")
def history(database: Database) -> World:
    """A finished campaign of HISTORY recipients, then ANALYZE, as autovacuum would do."""
    world = make_world(database)
    numbers = list(french_mobiles(HISTORY, seed=10))
    enqueue(world.deps, CampaignRequest(account="mock", text="Earlier", recipients=numbers))
    with database.transaction() as conn:
        conn.execute(text("ANALYZE recipients"))
    return world


def test_a_campaign_with_repeated_numbers_plans_no_rescan(history: World) -> None:
    numbers = list(french_mobiles(CAMPAIGN, seed=11))
    request = CampaignRequest(
        account="mock", text="Hello", recipients=numbers + numbers[: CAMPAIGN // 10]
    )
    assert _rescans(_fill_plans(history, request)) == []


def test_a_campaign_with_opted_out_numbers_plans_no_rescan(history: World) -> None:
    numbers = list(french_mobiles(CAMPAIGN, seed=12))
    with history.deps.db.transaction() as conn:
        opt_outs.add(conn, numbers[::10] + list(french_mobiles(500, seed=13)), source="import")
        conn.execute(text("ANALYZE opt_outs"))
    request = CampaignRequest(account="mock", text="Hello", recipients=numbers)
    assert _rescans(_fill_plans(history, request)) == []


def test_a_personalised_campaign_grouped_by_text_plans_no_rescan(history: World) -> None:
    numbers = list(french_mobiles(CAMPAIGN, seed=14))
    # "ë" is not GSM: smsmode cannot take these as a file, so they are regrouped by text.
    rows = [{"phone": n, "first_name": f"Zoë {i % 300}"} for i, n in enumerate(numbers)]
    request = CampaignRequest(account="mock", text="Bonjour {first_name}", recipients=rows)
    plans = _fill_plans(history, request)
    assert any("batch_seq" in statement for statement in plans)  # the regrouping ran
    assert _rescans(plans) == []


def _fill_plans(world: World, request: CampaignRequest) -> dict[str, dict[str, Any]]:
    """Each statement fill ran, with its plan EXPLAINed in fill's own transaction (the new rows
    still uncommitted, as enqueue sees them), which is then rolled back."""
    intake = prepare(world.deps, request)
    seen: list[tuple[str, Any]] = []

    def record(_c: Any, _cur: Any, statement: str, parameters: Any, *_: Any) -> None:
        seen.append((statement, parameters))

    with world.deps.db.rollback_only() as conn:
        campaign_id = campaigns.insert_campaign(conn, intake.row)
        assert campaign_id is not None
        event.listen(conn, "before_cursor_execute", record)
        try:
            fill(conn, campaign_id, intake)
        finally:
            event.remove(conn, "before_cursor_execute", record)
        return {
            statement: _explain(conn, statement, parameters)
            for statement, parameters in seen
            if statement.lstrip().split()[0].upper() not in ("SET", "COPY")
        }


def _explain(conn: Connection, statement: str, parameters: Any) -> dict[str, Any]:
    found = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar_one()
    return dict(found[0]["Plan"])


def _rescans(plans: dict[str, dict[str, Any]]) -> list[str]:
    """Statements with a nested loop whose inner side is not one lookup by a unique key."""
    return [" ".join(s.split())[:120] for s, plan in plans.items() if _bad_loop(plan)]


def _bad_loop(node: dict[str, Any]) -> bool:
    children: list[dict[str, Any]] = node.get("Plans", [])
    if node["Node Type"] == "Nested Loop":
        inner = children[1]
        if inner["Node Type"] not in KEYED or not str(inner.get("Index Name")).endswith("_pkey"):
            return True
    return any(_bad_loop(child) for child in children)
