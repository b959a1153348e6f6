"""Prometheus metrics scraped over HTTP from a running stack: the worker's exporter (its pool's
counters) and the HTTP service's ``/metrics`` (the state read from PostgreSQL and Redis); and
the state collector on a database of its own (no beat, no worker) for what a test must set up
by hand: an unknown batch, an overdue scheduled campaign.

Counters are cumulative across the session, so each test compares with a scrape taken before.
"""

from __future__ import annotations

import os
import signal
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import psutil
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families
from sqlalchemy import text

from dispatcher.local.stack import LocalStack
from dispatcher.metrics.state import StateCollector
from dispatcher.services import plan, submit
from dispatcher.services.campaigns import cancel_campaign
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import mobiles, plain_mobiles, wait_settled
from tests.integration.world import World
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


def parse(body: str) -> Samples:
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(body)
        for sample in family.samples
    }


def scrape(url: str) -> Samples:
    answer = httpx.get(url, timeout=10)
    answer.raise_for_status()
    return parse(answer.text)


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str) -> float:
    return sum(v for (n, _), v in samples.items() if n == name)


def worker_url(stack: LocalStack) -> str:
    assert stack.worker_metrics_url is not None
    return stack.worker_metrics_url


def api_url(stack: LocalStack) -> str:
    assert stack.api_url is not None
    return f"{stack.api_url}/metrics"


def state_of(world: World) -> Samples:
    """What the HTTP service's collector reports for the world's database."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector(lambda: world.deps))
    return parse(generate_latest(registry).decode())


def _enqueue(deps: Deps, numbers: list[str], marker: str) -> int:
    return enqueue(
        deps,
        CampaignRequest(account="sandbox-smsmode", text=f"Metrics {marker}", recipients=numbers),
    )


def test_a_campaigns_recipients_are_counted_accepted_by_the_workers_exporter(
    stack: LocalStack, deps: Deps, marker: str
) -> None:
    before = scrape(worker_url(stack))
    numbers = plain_mobiles(7)

    wait_settled(deps, _enqueue(deps, numbers, marker))

    after = scrape(worker_url(stack))
    name, labels = "dispatcher_recipients_total", {"account": "sandbox-smsmode"}
    accepted = value(after, name, **labels, outcome="accepted")
    assert accepted - value(before, name, **labels, outcome="accepted") >= len(numbers)
    delivered = {"account": "sandbox-smsmode", "status": "delivered", "source": "poll"}
    assert value(after, "dispatcher_reports_total", **delivered) - value(
        before, "dispatcher_reports_total", **delivered
    ) >= len(numbers)


def test_the_http_service_reports_a_running_campaigns_recipients_per_status(
    stack: LocalStack, deps: Deps, marker: str
) -> None:
    # The sandbox never sends a final report for numbers ending in 95: the campaign runs on.
    numbers = mobiles(4, suffix="95")
    campaign_id = _enqueue(deps, numbers, marker)
    labels = {"campaign_id": str(campaign_id), "account": "sandbox-smsmode"}

    def submitted() -> float | None:
        found = value(scrape(api_url(stack)), "dispatcher_campaign_recipients", **labels,
                      status="submitted")  # fmt: skip
        return found if found == len(numbers) else None

    try:
        assert wait_until(submitted, timeout=60, what="the campaign's recipients submitted")
    finally:  # it would poll until its horizon
        cancel_campaign(deps, campaign_id)


def test_the_http_service_counts_its_requests_by_route_template(stack: LocalStack) -> None:
    def by_route(samples: Samples) -> float:
        return sum(
            v
            for (name, labels), v in samples.items()
            if name == "dispatcher_http_requests_total"
            and dict(labels)["route"] == "/campaigns/{campaign_id}"
        )

    before = by_route(scrape(api_url(stack)))

    answer = httpx.get(f"{stack.api_url}/campaigns/424242", timeout=10)

    after = scrape(api_url(stack))
    assert by_route(after) == before + 1, answer.status_code
    assert not any("424242" in dict(labels).get("route", "") for _, labels in after)


def test_a_killed_pool_process_keeps_its_counts_in_the_exporters_sums(
    stack: LocalStack, deps: Deps, marker: str
) -> None:
    wait_settled(deps, _enqueue(deps, plain_mobiles(3), marker))
    before = total(scrape(worker_url(stack)), "dispatcher_tasks_total")
    worker = next(p for p in stack.processes if p.name == "worker1")
    children = psutil.Process(worker.pid).children()
    files = {
        int(f.stem.rsplit("_", 1)[1])
        for f in Path(stack.options.data_dir, "metrics").glob("*/counter_*.db")
    }
    victim = next(c.pid for c in children if c.pid in files)

    os.kill(victim, signal.SIGKILL)
    wait_until(lambda: not psutil.pid_exists(victim), timeout=30, what="the pool process gone")

    assert total(scrape(worker_url(stack)), "dispatcher_tasks_total") >= before
    wait_until(
        lambda: len(psutil.Process(worker.pid).children()) >= len(children),
        timeout=60,
        what="the pool process replaced",
    )


def test_an_unknown_batch_is_counted_stuck_for_its_account(world: World) -> None:
    before = value(state_of(world), "dispatcher_stuck_batches", account="mock", state="unknown")
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(3))
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    world.answer("internal", status=500)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.UNKNOWN

    after = state_of(world)

    assert value(after, "dispatcher_stuck_batches", account="mock", state="unknown") == before + 1
    assert value(after, "dispatcher_batches", state="unknown") >= 1


def test_a_scheduled_campaign_past_its_start_shows_as_overdue(world: World) -> None:
    later = datetime.now(UTC) + timedelta(hours=1)
    campaign_id = enqueue(
        world.deps,
        CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(2), send_at=later),
    )
    with world.deps.db.transaction() as conn:  # beat is down: nothing started it on time
        conn.execute(
            text("UPDATE campaigns SET send_at = now() - interval '10 minutes' WHERE id = :c"),
            {"c": campaign_id},
        )

    overdue = value(state_of(world), "dispatcher_scheduled_overdue_seconds")

    assert overdue >= 600
