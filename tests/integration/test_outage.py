"""A provider down for two hours, at the service layer (World, MemoryBreaker, no Celery): the
account's circuit breaker keeps the requests to a few a minute, no batch uses up an attempt,
no recipient is failed or held, and everything goes out once when the provider answers again.
The clock jumps from one due time to the next, so two hours take a few seconds."""

from __future__ import annotations

import itertools
import math
from datetime import datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from dispatcher.persistence.database import Database
from dispatcher.services import plan, submit, track
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.settings import Timings
from tests.integration.helpers import campaign_state, plain_mobiles, recipient_statuses
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration

OUTAGE = timedelta(hours=2)
BATCHES = 3


def _requests_allowed(timings: Timings, outage: timedelta) -> int:
    """The threshold's failures, the probes while the wait grows to its cap, then one probe per
    capped wait; plus one request per batch already in flight when the breaker opened."""
    growing, wait = 0, timings.breaker_probe_base_seconds
    while wait < timings.breaker_probe_max_seconds:
        growing, wait = growing + 1, wait * timings.breaker_probe_growth
    per_cap = math.ceil(outage.total_seconds() / timings.breaker_probe_max_seconds)
    return timings.breaker_threshold + growing + per_cap + BATCHES


@pytest.fixture
def world(database: Database) -> World:
    """Two recipients per batch, the clock frozen at the start of the test, and a retry cap
    of 10 s: without the breaker, three batches would ask about 3,000 times in two hours."""
    made = make_world(database, batch_size=2)
    timings = Timings(poll_first_delay_seconds=5, retry_cap_seconds=10)
    made.deps.settings = made.deps.settings.model_copy(update={"timings": timings})
    made.clock.set(made.clock())
    return made


def _always(world: World, respond: httpx.Response) -> None:
    """Every request from now on gets ``respond``."""

    def handler(request: httpx.Request) -> httpx.Response:
        world.answers.insert(0, handler)
        return respond

    world.answers[:] = [handler]


def _accept_every_send(world: World) -> None:
    refs = itertools.count(1)

    def handler(request: httpx.Request) -> httpx.Response:
        world.answers.insert(0, handler)
        return httpx.Response(200, text=f"0 | Accepted | ref{next(refs)}")

    world.answers[:] = [handler]


def _campaign(world: World) -> tuple[int, list[int], list[str]]:
    numbers = plain_mobiles(2 * BATCHES)
    request = CampaignRequest(account="mock", text="Hi", recipients=numbers)
    campaign_id = enqueue(world.deps, request)
    batch_ids = plan.plan_campaign(world.deps, campaign_id)
    assert len(batch_ids) == BATCHES
    return campaign_id, batch_ids, numbers


def _batches(world: World, campaign_id: int) -> list[tuple[str, int]]:
    """Each batch's state and attempts."""
    with world.deps.db.transaction() as conn:
        rows = conn.execute(
            text("SELECT state, attempts FROM batches WHERE campaign_id = :c ORDER BY id"),
            {"c": campaign_id},
        )
        return [(r.state, r.attempts) for r in rows]


def _next(world: World, campaign_id: int, column: str, state: str) -> datetime | None:
    """The earliest ``column`` (due_at, next_poll_at) among the campaign's batches in ``state``."""
    with world.deps.db.transaction() as conn:
        earliest: datetime | None = conn.execute(
            text(f"SELECT min({column}) FROM batches WHERE campaign_id = :c AND state = :s"),
            {"c": campaign_id, "s": state},
        ).scalar_one()
        return earliest


def _send_until(world: World, campaign_id: int, batch_ids: list[int], end: datetime) -> None:
    """Run every submit task as its batch falls due, jumping the clock, until ``end``."""
    while (due := _next(world, campaign_id, "due_at", "pending")) and due <= end:
        world.clock.set(max(due, world.clock()))
        for batch_id in batch_ids:
            submit.submit_batch(world.deps, batch_id)


def _poll_until(world: World, campaign_id: int, batch_ids: list[int], end: datetime) -> None:
    """Run every poll as it falls due, jumping the clock, until ``end``."""
    while (
        due := _next(world, campaign_id, "next_poll_at", "submitted")
    ) is not None and due <= end:
        world.clock.set(max(due, world.clock()))
        for batch_id in batch_ids:
            with world.deps.db.transaction() as conn:
                at = conn.execute(
                    text("SELECT next_poll_at FROM batches WHERE id = :b"), {"b": batch_id}
                ).scalar_one()
            if at is not None and at <= world.clock():
                track.poll_batch(world.deps, batch_id)


def test_a_two_hour_outage_costs_a_few_probes_a_minute_and_no_recipient(world: World) -> None:
    campaign_id, batch_ids, _ = _campaign(world)
    _always(world, httpx.Response(503, text=""))
    _send_until(world, campaign_id, batch_ids, world.clock() + OUTAGE)

    assert len(world.requests) <= _requests_allowed(world.deps.settings.timings, OUTAGE)
    assert _batches(world, campaign_id) == [("pending", 0)] * BATCHES
    assert recipient_statuses(world.deps, campaign_id) == {"queued"}
    assert campaign_state(world.deps, campaign_id) == "running"


def test_when_the_provider_answers_again_every_batch_goes_once(world: World) -> None:
    campaign_id, batch_ids, numbers = _campaign(world)
    _always(world, httpx.Response(503, text=""))
    _send_until(world, campaign_id, batch_ids, world.clock() + OUTAGE)
    sent_during_outage = len(world.requests)

    _accept_every_send(world)
    world.publisher.submitted.clear()
    _send_until(world, campaign_id, batch_ids, world.clock() + timedelta(minutes=5))

    assert len(world.requests) - sent_during_outage == BATCHES
    assert _batches(world, campaign_id) == [("submitted", 1)] * BATCHES
    # The probe's answer closed the breaker and woke the others: published, not left to wait.
    assert len(set(world.publisher.submitted) & set(batch_ids)) == BATCHES - 1

    _always(world, httpx.Response(200, text=" | ".join(f"{n} 11" for n in numbers)))
    _poll_until(world, campaign_id, batch_ids, world.clock() + timedelta(minutes=5))
    assert campaign_state(world.deps, campaign_id) == "done"


def test_a_two_hour_outage_of_report_polls_costs_a_few_probes_a_minute(world: World) -> None:
    campaign_id, batch_ids, _ = _campaign(world)
    _accept_every_send(world)
    _send_until(world, campaign_id, batch_ids, world.clock())
    sent = len(world.requests)
    _always(world, httpx.Response(503, text=""))
    _poll_until(world, campaign_id, batch_ids, world.clock() + OUTAGE)

    assert len(world.requests) - sent <= _requests_allowed(world.deps.settings.timings, OUTAGE)
    assert _batches(world, campaign_id) == [("submitted", 1)] * BATCHES
    assert recipient_statuses(world.deps, campaign_id) == {"submitted"}


def test_when_reports_can_be_read_again_every_batch_finishes(world: World) -> None:
    campaign_id, batch_ids, numbers = _campaign(world)
    _accept_every_send(world)
    _send_until(world, campaign_id, batch_ids, world.clock())
    _always(world, httpx.Response(503, text=""))
    _poll_until(world, campaign_id, batch_ids, world.clock() + OUTAGE)

    world.publisher.polled.clear()
    _always(world, httpx.Response(200, text=" | ".join(f"{n} 11" for n in numbers)))
    _poll_until(world, campaign_id, batch_ids, world.clock() + timedelta(minutes=5))
    assert len(set(world.publisher.polled) & set(batch_ids)) == BATCHES - 1  # woken by the probe
    assert recipient_statuses(world.deps, campaign_id) == {"delivered"}
    assert campaign_state(world.deps, campaign_id) == "done"
