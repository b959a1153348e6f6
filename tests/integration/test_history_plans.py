"""A campaign's set-wise statements keep linear plans, on its own partition only, once
``recipients`` has an analysed history of several campaigns (issue 10).

The rows enqueue copies in are uncommitted when its statements run, so an analysed table
estimates them at one row; a join over them then got a nested loop that rescanned the whole
campaign for each of its rows (16,000 recipients took 70 s). These tests check the plans, not
a timing: every statement enqueue runs inside its transaction is EXPLAINed in that same
transaction, after the COPY, and the inner side of every nested loop must be one lookup by a
unique key. A rescan of the campaign's rows (or of anything derived from them) per outer row
is what goes quadratic. Every statement must also read the campaign's own partition only
(persistence/partitions.py): none of the history's ``recipients_c<id>``/``delivery_events_c<id>``.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Connection, text

from dispatcher.domain.models import RecipientResult, Report
from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.local.sample import french_mobiles
from dispatcher.persistence import batches, campaigns, opt_outs, recipients, reports
from dispatcher.persistence.database import Database
from dispatcher.persistence.partitions import events_table, recipients_table
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.services.intake import fill, prepare
from tests.integration.helpers import recording
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration

HISTORY = (30_000, 15_000, 5_000)  # enough for the bad plan before the fix; about a second
CAMPAIGN = 2_000
KEYED = ("Index Scan", "Index Only Scan")  # with a unique index: one row per outer row
PARTITION = re.compile(r"^(recipients|delivery_events)_c(\d+)$")
EXPLAINED = ("SELECT", "INSERT", "UPDATE", "DELETE", "WITH")  # DDL and COPY are not planned


@pytest.fixture(scope="module")
def history(database: Database) -> World:
    """Finished campaigns of HISTORY recipients, with delivery events, then ANALYZE, as
    autovacuum would do."""
    world = make_world(database)
    for seed, size in enumerate(HISTORY, start=20):
        numbers = list(french_mobiles(size, seed=seed))
        campaign_id = enqueue(
            world.deps, CampaignRequest(account="mock", text="Earlier", recipients=numbers)
        )
        with database.transaction() as conn:
            recipients.set_campaign_status(
                conn, campaign_id, RecipientStatus.DELIVERED,
                from_statuses=(RecipientStatus.QUEUED,), source="poll",
            )  # fmt: skip
            conn.execute(
                text(
                    "UPDATE campaigns SET state = 'done', "
                    "finished_at = now() - interval '30 days' WHERE id = :c"
                ),
                {"c": campaign_id},
            )
    with database.transaction() as conn:
        conn.execute(text("ANALYZE recipients"))
        conn.execute(text("ANALYZE delivery_events"))
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


def test_the_statements_of_a_running_campaign_read_its_partition_only(history: World) -> None:
    numbers = list(french_mobiles(CAMPAIGN, seed=15))
    campaign_id = enqueue(
        history.deps, CampaignRequest(account="mock", text="Now", recipients=numbers)
    )
    at = datetime.now(UTC)

    def run(conn: Connection) -> None:
        batches.create_batches(conn, campaign_id, at)
        first = numbers[:500]
        reports.apply_send_results(conn, campaign_id, 0, [
            RecipientResult(n, Outcome.ACCEPTED, "0", "ok", message_id=f"m{n}") for n in first
        ])  # fmt: skip
        recipients.batch_recipients(conn, campaign_id, 0)
        by_id = [Report(msisdn=n, status=RecipientStatus.DELIVERED, raw_code="11",
                        raw_text="Received", occurred_at=at, message_id=f"m{n}")
                 for n in first[:250]]  # fmt: skip
        reports.apply_reports(conn, campaign_id, 0, by_id, source="poll", received_at=at)
        failed = RecipientStatus.FAILED
        by_number = [Report(msisdn=n, status=failed, raw_code="34", raw_text="Routing error",
                            occurred_at=at) for n in first[250:]]  # fmt: skip
        reports.apply_reports(conn, campaign_id, 0, by_number, source="poll", received_at=at)
        reports.locate_message_ids(conn, "mock", [f"m{n}" for n in first[:10]])
        recipients.expire_batch(conn, campaign_id, 1, at=at, source="horizon")
        recipients.unsettled_in_batch(conn, campaign_id, 0)
        recipients.set_campaign_status(
            conn, campaign_id, RecipientStatus.CANCELLED,
            from_statuses=(RecipientStatus.QUEUED,), source="operator",
        )  # fmt: skip
        campaigns.recipient_counts(conn, campaign_id)
        campaigns.finish_if_settled(conn, campaign_id)
        recipients.export_csv(conn, campaign_id, io.BytesIO())

    plans = _plans(history, run, also=(recipients.export_query(campaign_id),))
    assert len(plans) >= 12
    assert _rescans(plans) == []
    own = {recipients_table(campaign_id), events_table(campaign_id)}
    elsewhere = {" ".join(s.split())[:120]: _partitions(p) - own for s, p in plans.items()}
    assert {s: found for s, found in elsewhere.items() if found} == {}
    assert any(_partitions(plan) for plan in plans.values())  # the check can see partitions


def test_enqueue_reads_no_partition_of_the_history(history: World) -> None:
    numbers = list(french_mobiles(CAMPAIGN, seed=16))
    rows = [{"phone": n, "first_name": f"Zoë {i % 30}"} for i, n in enumerate(numbers)]
    request = CampaignRequest(
        account="mock", text="Bonjour {first_name}", recipients=rows + rows[:100]
    )
    plans = _fill_plans(history, request)
    found = set().union(*(_partitions(plan) for plan in plans.values()))
    assert {PARTITION.match(name).group(2) for name in found} <= {_next_id(history)}  # type: ignore[union-attr]


def _next_id(world: World) -> str:
    """The id the campaign being filled got: one more than the last committed (rolled back)."""
    with world.deps.db.transaction() as conn:
        last = conn.execute(text("SELECT max(id) FROM campaigns")).scalar_one()
    return str(int(last) + 1)


def _fill_plans(world: World, request: CampaignRequest) -> dict[str, dict[str, Any]]:
    """Each statement fill ran, with its plan EXPLAINed in fill's own transaction (the new rows
    still uncommitted, as enqueue sees them), which is then rolled back."""
    intake = prepare(world.deps, request)

    def run(conn: Connection) -> None:
        campaign_id = campaigns.insert_campaign(conn, intake.row)
        assert campaign_id is not None
        fill(conn, campaign_id, intake)

    return _plans(world, run)


def _plans(
    world: World, run: Callable[[Connection], None], *, also: tuple[str, ...] = ()
) -> dict[str, dict[str, Any]]:
    """The plan of every statement ``run`` made (and of the queries ``also``: a COPY's, which
    runs on the raw connection out of SQLAlchemy's sight), EXPLAINed in its own transaction
    after it ran, which is then rolled back."""
    with world.deps.db.rollback_only() as conn, recording(conn) as seen:
        run(conn)
        plans = {}
        for statement, parameters in seen:
            verb = statement.lstrip().split()[0].upper()
            if verb in EXPLAINED:
                plans[statement] = _explain(conn, statement, parameters)
        for statement in also:
            plans[statement] = _explain(conn, statement, None)
        return plans


def _explain(conn: Connection, statement: str, parameters: Any) -> dict[str, Any]:
    found = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {statement}", parameters).scalar_one()
    return dict(found[0]["Plan"])


def _rescans(plans: dict[str, dict[str, Any]]) -> list[str]:
    """Statements with a nested loop whose inner side is not one lookup by a unique key."""
    return [" ".join(s.split())[:120] for s, plan in plans.items() if _bad_loop(plan)]


def _partitions(node: dict[str, Any]) -> set[str]:
    """The partitions (and campaign tables) a plan reads or writes."""
    found = (
        {str(node["Relation Name"])} if PARTITION.match(str(node.get("Relation Name"))) else set()
    )
    for child in node.get("Plans", []):
        found |= _partitions(child)
    return found


def _bad_loop(node: dict[str, Any]) -> bool:
    """A nested loop whose inner side reads the campaign's rows other than by primary key."""
    children: list[dict[str, Any]] = node.get("Plans", [])
    if node["Node Type"] == "Nested Loop":
        inner = children[1]
        keyed = inner["Node Type"] in KEYED and str(inner.get("Index Name")).endswith("_pkey")
        if not keyed and _reads_recipients(inner):
            return True
    return any(_bad_loop(child) for child in children)


def _reads_recipients(node: dict[str, Any]) -> bool:
    name = str(node.get("Relation Name"))
    if name in ("recipients", "delivery_events") or PARTITION.match(name):
        return True
    return any(_reads_recipients(child) for child in node.get("Plans", []))
