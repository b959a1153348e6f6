"""Flower tells the truth, read through its API during real campaigns on the session stack: a
submit that ends unknown is a FAILURE naming its campaign and batch (and its message is
acknowledged, not redelivered), accepted ones are SUCCESS naming theirs, a plan of a campaign
that does not exist is a FAILURE, and beat's housekeeping is not listed at all."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any, cast

import httpx
import pytest
import redis

from dispatcher.local.embedded import free_port
from dispatcher.local.processes import log_contains, python, start_process
from dispatcher.local.stack import LocalStack
from dispatcher.queueing import HOUSEKEEPING_TASKS, PLAN_TASK, SUBMIT_TASK
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import batches_of, fault_on_send, plain_mobiles, submissions
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

AUTH = ("operator", "flower-password-for-tests")
NO_CAMPAIGN = 987_654_321
Tasks = dict[str, dict[str, Any]]


def _tasks(flower: httpx.Client) -> Tasks:
    answer = flower.get("/api/tasks")
    answer.raise_for_status()
    found: Tasks = answer.json()
    return found


def _final(flower: httpx.Client, name: str, ids: set[int]) -> Tasks | None:
    """Flower's tasks ``name`` for each of ``ids``, once every one of them has ended."""
    tasks = _tasks(flower)
    mine = {
        t["args"]: t
        for t in tasks.values()
        if t["name"] == name and t["args"] in {f"[{i}]" for i in ids}
    }
    ended = len(mine) == len(ids) and all(
        t["state"] in ("SUCCESS", "FAILURE") for t in mine.values()
    )
    return mine if ended else None


def _only_batch(deps: Deps, campaign_id: int) -> int:
    rows = wait_until(lambda: batches_of(deps, campaign_id), what="the campaign's batch")
    (batch_id,) = [int(row["id"]) for row in rows]
    return batch_id


@pytest.fixture(scope="module")
def flower(stack: LocalStack, deps: Deps) -> Iterator[httpx.Client]:
    """Flower on the session's broker, listening for events before the tests' tasks run: a
    plan for a campaign that does not exist is published until Flower lists it."""
    port = free_port()
    argv = [python(), "-m", "celery", "-A", "workers.app", "flower"]
    argv += [f"--port={port}", "--address=127.0.0.1", "--persistent=False"]
    env = {**stack.env, "FLOWER_BASIC_AUTH": ":".join(AUTH)}  # never on the command line
    process = start_process(
        "flower", argv, env=env, log_dir=stack.log_dir, ready=log_contains("Visit me at")
    )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", auth=AUTH, timeout=10) as client:

            def listening() -> Tasks | None:
                deps.publisher.plan(NO_CAMPAIGN)
                return _final(client, PLAN_TASK, {NO_CAMPAIGN})

            wait_until(listening, timeout=60, interval=2, what="Flower to list a task")
            yield client
    finally:
        process.stop()


def test_a_plan_for_a_campaign_that_does_not_exist_is_a_failure_naming_it(
    flower: httpx.Client,
) -> None:
    (task,) = _final(flower, PLAN_TASK, {NO_CAMPAIGN}).values()  # type: ignore[union-attr]
    assert task["state"] == "FAILURE"
    assert f"campaign {NO_CAMPAIGN}: refused (no such campaign)" in task["exception"]


def test_an_unknown_submit_is_a_failure_and_accepted_ones_succeed_each_naming_its_campaign(
    flower: httpx.Client, stack: LocalStack, deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    # The sandbox accepts, then answers after the account's 1 s read timeout: unknown.
    fault_on_send(sandbox, f"{marker}-slow", {"type": "accept_then_timeout", "delay": 3})
    slow = enqueue(
        deps,
        CampaignRequest(
            account="sandbox-slow", text=f"Hello {marker}-slow", recipients=plain_mobiles(3)
        ),
    )
    fine = enqueue(
        deps,
        CampaignRequest(
            account="sandbox-smsmode", text=f"Hello {marker}", recipients=plain_mobiles(3)
        ),
    )
    batch_of = {campaign_id: _only_batch(deps, campaign_id) for campaign_id in (slow, fine)}

    seen = wait_until(
        lambda: _final(flower, SUBMIT_TASK, set(batch_of.values())),
        timeout=60,
        what="both submits to end in Flower",
    )

    unknown, accepted = seen[f"[{batch_of[slow]}]"], seen[f"[{batch_of[fine]}]"]
    assert unknown["state"] == "FAILURE"
    assert f"campaign {slow} batch {batch_of[slow]}: unknown" in unknown["exception"]
    assert "BatchNotSubmittedError" in unknown["exception"]
    assert accepted["state"] == "SUCCESS"
    assert accepted["result"].startswith(f"'campaign {fine} batch {batch_of[fine]}: accepted")
    assert [t["name"] for t in _tasks(flower).values() if t["name"] in HOUSEKEEPING_TASKS] == []
    # The failure was acknowledged: the broker holds no copy of its message to deliver again,
    # and the batch went to the provider once.
    assert stack.endpoints is not None
    broker = redis.Redis.from_url(stack.endpoints.broker_url)
    held = cast(list[bytes], broker.hvals("unacked")) + cast(
        list[bytes], broker.lrange("submit", 0, -1)
    )
    assert [m for m in held if unknown["uuid"].encode() in m] == []
    assert len(submissions(sandbox, f"{marker}-slow")) == 1
    assert batches_of(deps, slow)[0]["attempts"] == 1
