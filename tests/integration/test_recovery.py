"""Recovery after a worker crash and after a Redis wipe, on the service layer (issue 8, "faster
recovery"): a dead worker's claim comes back one lease later, a lost poll one poll lease later,
and a wiped Redis costs one sweep; a batch possibly sent is never published again.

A worker "dies" here by raising ``WorkerKilled`` (a BaseException: as with SIGKILL, no
``except Exception`` runs) at the step the test chooses. Claim and send leases are kept on
PostgreSQL's clock (one clock for every host), so a test ends a lease by moving it in its row;
poll times are on the services' clock, which the World's clock drives. The module's tests share
one database, so each looks only at its own batch in what the sweeper publishes.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import httpx
import pytest
import redis
from sqlalchemy import text

from dispatcher.cache import MemoryCache, RedisCache
from dispatcher.domain.statuses import RecipientStatus
from dispatcher.local.servers import ServerUrls
from dispatcher.local.stack import LocalStack
from dispatcher.services import maintenance, plan, submit
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import (
    batch_row,
    batch_states,
    fault_on_send,
    plain_mobiles,
    submissions,
    wait_settled,
)
from tests.integration.world import Recorder, World
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


class WorkerKilled(BaseException):
    """The worker process ends here."""


class DyingLimiter:
    """A rate limiter whose worker is killed while it asks for a slot: after the claim,
    before ``mark_sending``."""

    def acquire(self, account: str, rate: str) -> float:
        raise WorkerKilled


def _planned_batch(world: World) -> tuple[int, int]:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(3))
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    return campaign_id, batch_id


def _lease_runs_out(world: World, batch_id: int) -> None:
    with world.deps.db.transaction() as conn:
        conn.execute(
            text("UPDATE batches SET lease_until = now() - interval '1 ms' WHERE id = :b"),
            {"b": batch_id},
        )


def _published_at(world: World, batch_id: int, seconds_ago: float) -> None:
    with world.deps.db.transaction() as conn:
        conn.execute(
            text("UPDATE batches SET published_at = now() - :ago * interval '1 s' WHERE id = :b"),
            {"b": batch_id, "ago": seconds_ago},
        )


def _claimed_by_a_dead_worker(world: World, batch_id: int) -> None:
    """Another process (a worker takes its own claim again) claims the batch and dies."""
    limiter, worker = world.deps.limiter, world.deps.worker
    world.deps.limiter, world.deps.worker = DyingLimiter(), "dead-host:1"
    try:
        with pytest.raises(WorkerKilled):
            submit.submit_batch(world.deps, batch_id)
    finally:
        world.deps.limiter, world.deps.worker = limiter, worker
    row = batch_row(world.deps, batch_id)
    assert (row["state"], row["worker"]) == ("claimed", "dead-host:1")


def _accepted(world: World) -> int:
    """A submitted batch whose first poll is due 5 s (the World's first delay) after now."""
    world.clock.set(datetime(2026, 3, 2, 10, 0, tzinfo=UTC))
    _, batch_id = _planned_batch(world)
    world.answer("0 | Accepted | rec1")
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    return batch_id


def _wipe_redis(world: World) -> None:
    assert isinstance(world.deps.cache, MemoryCache)
    world.deps.cache.values.clear()


# -- a worker dies holding a claim ------------------------------------------------------------


def test_a_dead_workers_claim_is_not_taken_from_it_before_its_lease_ends(world: World) -> None:
    _, batch_id = _planned_batch(world)
    _claimed_by_a_dead_worker(world, batch_id)
    world.publisher.submitted.clear()

    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.NOT_CLAIMABLE
    assert batch_id not in maintenance.reap(world.deps).released
    assert batch_id not in world.publisher.submitted


def test_a_dead_workers_claim_is_handed_back_and_published_once_its_lease_ends(
    world: World,
) -> None:
    _, batch_id = _planned_batch(world)
    _claimed_by_a_dead_worker(world, batch_id)
    world.publisher.submitted.clear()

    _lease_runs_out(world, batch_id)
    assert batch_id in maintenance.reap(world.deps).released

    assert world.publisher.submitted.count(batch_id) == 1  # by the reaper, not a sweep later
    world.answer("0 | Accepted | back1")
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    assert len(world.requests) == 1


def test_a_claim_the_reaper_handed_back_is_not_published_again_by_the_next_sweep(
    world: World,
) -> None:
    _, batch_id = _planned_batch(world)
    maintenance.sweep(world.deps)  # the marker is set: no wipe to repair below
    _claimed_by_a_dead_worker(world, batch_id)
    _lease_runs_out(world, batch_id)
    maintenance.reap(world.deps)
    world.publisher.submitted.clear()

    maintenance.sweep(world.deps)
    assert batch_id not in world.publisher.submitted


# -- a poll's message is lost -----------------------------------------------------------------


def test_a_poll_whose_message_was_lost_is_published_again_once_its_lease_ends(
    world: World,
) -> None:
    batch_id = _accepted(world)
    lease = world.deps.settings.timings.poll_lease_seconds
    world.clock.advance(seconds=5)
    maintenance.sweep(world.deps)
    assert world.publisher.polled.count(batch_id) == 1  # and its worker dies with the message

    world.clock.advance(seconds=lease - 0.5)
    maintenance.sweep(world.deps)
    assert world.publisher.polled.count(batch_id) == 1
    world.clock.advance(seconds=0.5)
    maintenance.sweep(world.deps)
    assert world.publisher.polled.count(batch_id) == 2


# -- Redis is wiped -----------------------------------------------------------------------------


def test_after_a_redis_wipe_the_next_sweep_republishes_a_batch_published_a_second_ago(
    world: World,
) -> None:
    _, batch_id = _planned_batch(world)
    maintenance.sweep(world.deps)
    _published_at(world, batch_id, seconds_ago=1)
    world.publisher.submitted.clear()
    maintenance.sweep(world.deps)
    assert batch_id not in world.publisher.submitted  # its message may still be on its way

    _wipe_redis(world)
    maintenance.sweep(world.deps)
    assert batch_id in world.publisher.submitted


def test_after_a_redis_wipe_one_sweep_republishes_and_the_next_does_not(world: World) -> None:
    _, batch_id = _planned_batch(world)
    maintenance.sweep(world.deps)
    _wipe_redis(world)
    maintenance.sweep(world.deps)
    world.publisher.submitted.clear()

    maintenance.sweep(world.deps)
    assert batch_id not in world.publisher.submitted


def test_after_a_redis_wipe_a_poll_published_a_moment_ago_is_published_again_at_once(
    world: World,
) -> None:
    batch_id = _accepted(world)
    world.clock.advance(seconds=5)
    maintenance.sweep(world.deps)
    world.clock.advance(seconds=1)

    _wipe_redis(world)
    maintenance.sweep(world.deps)
    assert world.publisher.polled.count(batch_id) == 2


def test_a_redis_wipe_never_republishes_a_batch_that_may_have_been_sent(world: World) -> None:
    _, batch_id = _planned_batch(world)

    def worker_dies_mid_request(request: httpx.Request) -> httpx.Response:
        raise WorkerKilled

    world.answers.append(worker_dies_mid_request)
    worker, world.deps.worker = world.deps.worker, "dead-host:2"
    try:
        with pytest.raises(WorkerKilled):
            submit.submit_batch(world.deps, batch_id)
    finally:
        world.deps.worker = worker
    world.publisher.submitted.clear()

    _wipe_redis(world)
    maintenance.sweep(world.deps)
    maintenance.reap(world.deps)
    assert batch_id not in world.publisher.submitted
    assert batch_row(world.deps, batch_id)["state"] == "sending"


def test_a_redis_wipe_leaves_a_live_claim_to_its_worker(world: World) -> None:
    _, batch_id = _planned_batch(world)
    _claimed_by_a_dead_worker(world, batch_id)  # as far as the sweep can tell, alive
    world.publisher.submitted.clear()

    _wipe_redis(world)
    maintenance.sweep(world.deps)
    assert batch_id not in world.publisher.submitted
    assert batch_row(world.deps, batch_id)["state"] == "claimed"


# -- the marker on a real Redis -----------------------------------------------------------------


def test_the_wipe_marker_is_set_once_on_redis_and_again_once_it_is_gone(
    servers: ServerUrls,
) -> None:
    prefix = f"dispatcher:test-recovery-{uuid.uuid4().hex}:"
    cache = RedisCache(servers.redis_url, prefix=prefix)
    client = redis.Redis.from_url(servers.redis_url)
    try:
        assert cache.add("epoch", "first", 60) is True
        assert cache.add("epoch", "second", 60) is False
        assert cache.get("epoch") == "first"

        client.delete(prefix + "epoch")  # a wipe, for this key only (the stack shares the index)
        assert cache.add("epoch", "third", 60) is True
    finally:
        client.delete(prefix + "epoch")


# -- with real workers: what recovery takes (printed; run with -s to see it) --------------------


def _sent(deps: Deps, campaign_id: int) -> int:
    return sum(s in ("submitted", "done") for s in batch_states(deps, campaign_id))


def test_with_real_workers_a_dead_workers_claim_is_sent_once_after_its_lease(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    send_at = datetime.now(UTC) + timedelta(hours=1)  # nothing publishes it but the test
    campaign_id = enqueue(
        deps,
        CampaignRequest(
            account="sandbox-smsmode",
            text=f"Claimed {marker}",
            recipients=plain_mobiles(5),
            send_at=send_at,
        ),
    )
    planner = replace(deps, publisher=Recorder(), clock=lambda: send_at)
    (batch_id,) = plan.plan_campaign(planner, campaign_id)
    lease = deps.settings.timings.claim_lease_seconds
    with deps.db.transaction() as conn:  # what a worker that claimed it and died leaves
        conn.execute(
            text(
                "UPDATE batches SET state = 'claimed', worker = 'dead-host:3', due_at = now(), "
                "lease_until = now() + :lease * interval '1 s' WHERE id = :b"
            ),
            {"b": batch_id, "lease": lease},
        )
    claimed = time.monotonic()

    wait_until(lambda: _sent(deps, campaign_id) == 1, timeout=30, what="the batch sent")
    print(f"\nclaim of a dead worker (lease {lease:g} s): sent {time.monotonic() - claimed:.1f} s")
    assert len(submissions(sandbox, marker)) == 1


def test_with_real_workers_a_redis_wipe_mid_campaign_resumes_sending_at_the_next_sweep(
    deps: Deps, stack: LocalStack, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "latency", "delay": 1})
    numbers = plain_mobiles(12000)
    campaign_id = enqueue(
        deps,
        CampaignRequest(account="sandbox-smsmode", text=f"Wiped {marker}", recipients=numbers),
    )
    wait_until(lambda: _sent(deps, campaign_id) >= 1, timeout=30, what="a first batch sent")
    assert stack.endpoints is not None
    redis.Redis.from_url(stack.endpoints.broker_url).flushdb()
    wiped = time.monotonic()
    states = batch_states(deps, campaign_id)
    # Sent, or in a worker's hands: those finish whatever Redis holds. Any batch beyond them
    # was pending at the wipe, its message gone with Redis.
    beyond = sum(s in ("submitted", "done", "claimed", "sending") for s in states)
    assert beyond < len(states)

    wait_until(lambda: _sent(deps, campaign_id) > beyond, timeout=60, what="sending to resume")
    resumed = time.monotonic() - wiped
    progress = wait_settled(deps, campaign_id, timeout=90)
    print(
        f"\nRedis wiped with {len(states) - beyond} batch(es) pending: sending resumed "
        f"{resumed:.1f} s later, campaign settled {time.monotonic() - wiped:.1f} s later"
    )
    assert progress.by_status == {RecipientStatus.DELIVERED: len(numbers)}
    accepted = [n for s in submissions(sandbox, marker) for n in s["numbers"]]
    assert sorted(accepted) == sorted(numbers)
