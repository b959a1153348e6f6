"""Why a campaign is not moving, produced for real: each reason comes from a campaign brought
into that wait by the services themselves (pause, a shut send window, a start beat never
made, a lost answer, a held batch, an open circuit, a backoff, the rate limit), read back by
``campaign_status`` on real PostgreSQL. Service layer with the World's clock and provider."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import text

from dispatcher.domain.models import CampaignProgress
from dispatcher.domain.waiting import WaitingReason
from dispatcher.persistence import campaigns, reconcile
from dispatcher.persistence import waiting as stored
from dispatcher.persistence.database import Database
from dispatcher.services import campaigns as operate
from dispatcher.services import plan, submit
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration

# Friday 4 December 2026, 20:30 in Paris: a Mon-Sat 08:00-20:00 window has just shut.
FRIDAY_EVENING = datetime(2026, 12, 4, 19, 30, tzinfo=UTC)
WINDOW = "Mon-Sat 08:00-20:00 Europe/Paris holidays=FR"
UNAVAILABLE = "50 | Temporarily unavailable"


@pytest.fixture(autouse=True)
def _only_this_tests_batches(database: Database) -> None:
    """The module's database is shared: earlier tests' waiting batches must not count."""
    with database.transaction() as conn:
        conn.execute(text("UPDATE batches SET reconcile_state = 'unplaced' "
                          "WHERE reconcile_state = 'pending'"))  # fmt: skip


def _campaign(world: World, count: int = 3, **options: str) -> tuple[int, list[int]]:
    request = CampaignRequest(
        account="mock", text="Hi", recipients=plain_mobiles(count), options=options
    )
    campaign_id = enqueue(world.deps, request)
    return campaign_id, plan.plan_campaign(world.deps, campaign_id)


def _status(world: World, campaign_id: int) -> CampaignProgress:
    return operate.campaign_status(world.deps, campaign_id)


def _reason(world: World, campaign_id: int, code: str) -> WaitingReason:
    found = [r for r in _status(world, campaign_id).waiting if r.code == code]
    assert found, f"no {code} in {_status(world, campaign_id).waiting}"
    return found[0]


def test_a_paused_campaign_says_who_paused_it(world: World) -> None:
    campaign_id, _ = _campaign(world)

    operate.pause_campaign(world.deps, campaign_id, actor="os:alice")

    waiting = _status(world, campaign_id).waiting
    assert [r.code for r in waiting] == ["paused"]
    assert waiting[0].text.startswith("paused by os:alice at ")


def test_a_batch_outside_its_send_window_says_when_the_window_opens(world: World) -> None:
    world.clock.set(FRIDAY_EVENING)
    campaign_id, (batch_id,) = _campaign(world, window=WINDOW)

    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.OUTSIDE_WINDOW

    reason = _reason(world, campaign_id, "send_window")
    assert reason.until == datetime(2026, 12, 5, 7, 0, tzinfo=UTC)
    assert reason.text == "waiting for its send window until Sat 08:00 Europe/Paris"


def test_a_campaign_nobody_started_after_its_send_time_asks_whether_beat_runs(
    world: World,
) -> None:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(2))
    )  # planning waits for a worker: the World has none, as if beat and workers were down
    world.clock.set(datetime.now(UTC) + timedelta(minutes=10))

    reason = _reason(world, campaign_id, "overdue_start")

    assert "overdue: is beat running?" in reason.text
    assert _status(world, campaign_id).state.value == "scheduled"


def test_a_lost_answer_is_first_reconciled_then_waits_for_an_operator(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("answer lost", request=request)

    world.answers.append(timeout)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.UNKNOWN
    assert [r.code for r in _status(world, campaign_id).waiting] == ["reconciling"]

    with world.deps.db.transaction() as conn:
        reconcile.settle(conn, batch_id, "unplaced", {"event": "not-found"})
        campaigns.finish_if_settled(conn, campaign_id)

    reason = _reason(world, campaign_id, "needs_attention")
    assert reason.text.startswith("1 batch waits for an operator (1 unknown)")
    assert f"--campaign {campaign_id}" in reason.text


def test_a_held_batch_waits_for_an_operator(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world, 5)
    with world.deps.db.transaction() as conn:  # as if the account's batch size had shrunk
        conn.execute(text("UPDATE campaigns SET method = 'GET' WHERE id = :c"), {"c": campaign_id})
    world.deps.settings.accounts["mock"].batch_size = 2

    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.HELD

    assert "(1 held)" in _reason(world, campaign_id, "needs_attention").text


def test_an_open_circuit_names_the_provider_and_its_next_probe(database: Database) -> None:
    world = make_world(database, batch_size=1)
    campaign_id, batch_ids = _campaign(world, 6)
    for batch_id in batch_ids[:5]:  # the default threshold: five answers proving nothing sent
        world.answer(UNAVAILABLE)
        assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.RETRY

    reason = _reason(world, campaign_id, "circuit_open")

    assert reason.text.startswith("sMsmode circuit open since ")
    assert ", next probe " in reason.text
    assert reason.until is not None
    assert reason.until > world.clock()


def test_a_batch_backing_off_says_when_it_retries_and_what_the_provider_answered(
    world: World,
) -> None:
    campaign_id, (batch_id,) = _campaign(world)
    world.answer(UNAVAILABLE)

    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.RETRY

    reason = _reason(world, campaign_id, "retry_backoff")
    assert reason.text.startswith("1 batch retries after ")
    assert "(provider answered 50 Temporarily unavailable)" in reason.text


def test_a_batch_handed_back_by_the_rate_limit_says_until_when(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world)
    world.limiter.wait = 30.0

    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.RATE_LIMITED

    reason = _reason(world, campaign_id, "rate_limited")
    assert "request-rate limit until" in reason.text
    assert reason.until is not None
    assert reason.until > world.clock() + timedelta(seconds=20)


def test_an_accepted_batch_waits_for_its_delivery_reports(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world)
    world.answer(f"0 | Accepted | ok{batch_id}")

    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED

    waiting = _status(world, campaign_id).waiting
    assert [r.code for r in waiting] == ["awaiting_reports"]
    assert waiting[0].text.startswith("1 batch waits for delivery reports (next poll ")


def _scans(plan: dict[str, Any]) -> Iterator[str]:
    """The relation or index of every scan in an EXPLAIN (FORMAT JSON) plan."""
    if "Relation Name" in plan or "Index Name" in plan:
        yield plan.get("Index Name", plan.get("Relation Name", ""))
    for child in plan.get("Plans", []):
        yield from _scans(child)


def test_the_reasons_read_only_the_campaigns_unfinished_batches(world: World) -> None:
    """Through batches_live (campaign, state; unfinished states only): a campaign's thousands
    of finished batches, and every other campaign's, are never read on each refresh. The
    index must be usable, which a seq scan forbidden for the statement proves on any size."""
    with world.deps.db.transaction() as conn:
        conn.execute(text("SET LOCAL enable_seqscan = off"))
        explained = conn.execute(
            text("EXPLAIN (FORMAT JSON) " + str(stored._GROUPS)),
            {"c": 1, "now": datetime.now(UTC)},
        )
        (plan,) = explained.scalar_one()

    assert set(_scans(plan["Plan"])) == {"batches_live"}, plan
