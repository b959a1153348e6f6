"""Fairness: small campaigns never wait behind a big one (issue 10, docs/architecture.md
"Fairness"). A campaign has at most ``queued_batches_per_campaign`` batches waiting in the
submit queue; each claim publishes its next one, and the sweep fills what a lost message or a
wiped Redis left open. Service-level tests (World: real PostgreSQL with an analysed history, a
recording publisher) check the rule; one test on the real stack checks the order it gives.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from dispatcher.persistence import batches
from dispatcher.persistence.database import Database
from dispatcher.services import maintenance, outage, plan, submit
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import batches_of, fault_on_send, plain_mobiles
from tests.integration.world import World, make_world
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

BATCH = 100  # the World's account sends batches of this size
BIG = 20  # batches of the World's big campaign: more than a window


def _earlier_campaigns(deps: Deps, account: str, count: int = 3) -> None:
    """Finished campaigns with their batches done, then ANALYZE: the window's counts must read
    only running campaigns' pending batches, however many batches came before. Enqueued a year
    ahead so that no worker plans them, then finished set-wise."""
    for _ in range(count):
        campaign_id = enqueue(
            deps,
            CampaignRequest(
                account=account,
                text="Earlier",
                recipients=plain_mobiles(30 * BATCH),
                send_at=datetime.now(UTC) + timedelta(days=365),
            ),
        )
        with deps.db.transaction() as conn:
            batches.create_batches(conn, campaign_id, datetime.now(UTC))
            conn.execute(
                text(
                    "UPDATE batches SET state = 'done', finished_at = now() WHERE campaign_id = :c"
                ),
                {"c": campaign_id},
            )
            conn.execute(
                text("UPDATE campaigns SET state = 'done' WHERE id = :c"), {"c": campaign_id}
            )
    with deps.db.transaction() as conn:
        conn.execute(text("ANALYZE batches"))
        conn.execute(text("ANALYZE campaigns"))


@pytest.fixture(scope="module")
def history(database: Database) -> Database:
    _earlier_campaigns(make_world(database, batch_size=BATCH).deps, "mock")
    return database


@pytest.fixture(scope="module")
def stack_history(deps: Deps) -> Deps:
    _earlier_campaigns(deps, "sandbox-smsmode")
    return deps


@pytest.fixture
def fair_world(history: Database) -> World:
    world = make_world(history, batch_size=BATCH)
    with history.transaction() as conn:  # no other campaign of this module left running
        conn.execute(text("UPDATE campaigns SET state = 'done' WHERE state = 'running'"))
    return world


def _planned(world: World, batches: int) -> tuple[int, list[int]]:
    numbers = plain_mobiles(batches * BATCH)
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=numbers)
    )
    batch_ids = plan.plan_campaign(world.deps, campaign_id)
    assert len(batch_ids) == batches
    return campaign_id, batch_ids


def _window(world: World) -> int:
    return world.deps.settings.timings.queued_batches_per_campaign


def test_planning_publishes_only_the_campaigns_window_of_batches(fair_world: World) -> None:
    _, batch_ids = _planned(fair_world, BIG)

    assert fair_world.publisher.submitted == batch_ids[: _window(fair_world)]


def test_each_claim_publishes_the_campaigns_next_batch(fair_world: World) -> None:
    _, batch_ids = _planned(fair_world, BIG)
    window = _window(fair_world)
    fair_world.publisher.submitted.clear()
    fair_world.answer("0 | Accepted | ref1")

    submit.submit_batch(fair_world.deps, batch_ids[0])

    assert fair_world.publisher.submitted == [batch_ids[window]]


def test_the_sweep_publishes_nothing_while_every_window_is_full(fair_world: World) -> None:
    maintenance.sweep(fair_world.deps)  # the first sweep on a Redis sets its marker
    _planned(fair_world, BIG)
    fair_world.publisher.submitted.clear()

    maintenance.sweep(fair_world.deps)

    assert fair_world.publisher.submitted == []


def test_after_a_wipe_the_sweep_gives_each_campaign_its_window_not_one_its_whole(
    fair_world: World,
) -> None:
    """The World's cache is new, as a wiped Redis is: the sweep forgets every publication and
    publishes again. The small campaign, planned after the big one, gets its batch in the same
    sweep, not after the big campaign's every batch."""
    _, big = _planned(fair_world, BIG)
    _, small = _planned(fair_world, 2)
    fair_world.publisher.submitted.clear()

    maintenance.sweep(fair_world.deps)

    assert sorted(fair_world.publisher.submitted) == sorted(big[: _window(fair_world)] + small)


def test_when_the_breaker_closes_a_big_campaigns_waiting_batches_go_a_window_at_a_time(
    fair_world: World,
) -> None:
    campaign_id, batch_ids = _planned(fair_world, BIG)
    with fair_world.deps.db.transaction() as conn:  # every batch paced by the open breaker
        conn.execute(
            text(
                "UPDATE batches SET last_outcome = 'paced', published_at = NULL, "
                "due_at = now() + interval '1 minute' WHERE campaign_id = :c"
            ),
            {"c": campaign_id},
        )
    fair_world.publisher.submitted.clear()

    outage.wake(fair_world.deps, "mock")

    assert fair_world.publisher.submitted == batch_ids[: _window(fair_world)]


def test_a_small_campaign_enqueued_behind_a_big_one_is_sent_before_the_big_one_ends(
    stack_history: Deps, sandbox: httpx.Client, marker: str
) -> None:
    """On the real stack: the big campaign's sends are slow (0.5 s each), so most of its
    batches are still waiting when the small one is enqueued. Evidence of order from the
    database: the small campaign was submitted before the big one's last batch was even sent."""
    deps = stack_history
    big_marker = f"{marker}big"
    fault_on_send(sandbox, big_marker, {"type": "latency", "delay": 0.5})
    big = enqueue(
        deps,
        CampaignRequest(
            account="sandbox-smsmode", text=f"Big {big_marker}", recipients=plain_mobiles(30_000)
        ),
    )
    wait_until(lambda: batches_of(deps, big) or None, timeout=30, what="the big one's plan")
    small = enqueue(
        deps,
        CampaignRequest(
            account="sandbox-smsmode", text=f"Small {marker}", recipients=plain_mobiles(100)
        ),
    )
    wait_until(lambda: _all_sent(deps, big) and _all_sent(deps, small), timeout=120, what="sends")

    (small_batch,) = batches_of(deps, small)
    big_batches = batches_of(deps, big)
    assert small_batch["submitted_at"] is not None
    assert small_batch["submitted_at"] < max(b["sending_at"] for b in big_batches)


def _all_sent(deps: Deps, campaign_id: int) -> bool:
    states = {b["state"] for b in batches_of(deps, campaign_id)}
    return bool(states) and not states & {"pending", "claimed", "sending"}
