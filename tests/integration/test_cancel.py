"""Cancelling and resuming a campaign on real PostgreSQL, at the service layer (no workers):
every recipient a cancel moves is logged as a delivery event like any other status change, in
one statement per campaign that touches only that campaign's rows."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import event, text

from dispatcher.errors import NotFoundError
from dispatcher.services import campaigns as operate
from dispatcher.services import plan
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World

pytestmark = pytest.mark.integration


def _scheduled(world: World, count: int) -> int:
    return enqueue(
        world.deps,
        CampaignRequest(
            account="mock",
            text="Later",
            recipients=plain_mobiles(count),
            send_at=datetime.now(UTC) + timedelta(hours=1),
        ),
    )


def _rows(world: World, sql: str, campaign_id: int) -> list[dict[str, Any]]:
    with world.deps.db.transaction() as conn:
        return [dict(r) for r in conn.execute(text(sql), {"c": campaign_id}).mappings()]


@contextmanager
def _statements(world: World) -> Iterator[list[str]]:
    """Every SQL statement the services send while the block runs."""
    seen: list[str] = []

    def record(*args: Any) -> None:
        seen.append(args[2])  # (conn, cursor, statement, parameters, context, executemany)

    engine = world.deps.db.engine
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_every_recipient_cancelled_with_a_scheduled_campaign_has_one_cancelled_event(
    world: World,
) -> None:
    campaign_id = _scheduled(world, 7)

    assert operate.cancel_campaign(world.deps, campaign_id) == 7

    recipients = _rows(
        world, "SELECT id, status FROM recipients WHERE campaign_id = :c", campaign_id
    )
    events = _rows(
        world,
        "SELECT recipient_id, status, source FROM delivery_events WHERE campaign_id = :c",
        campaign_id,
    )
    assert {r["status"] for r in recipients} == {"cancelled"}
    assert sorted(e["recipient_id"] for e in events) == sorted(r["id"] for r in recipients)
    assert {(e["status"], e["source"]) for e in events} == {("cancelled", "operator")}


def test_cancelling_moves_every_queued_recipient_in_one_statement(world: World) -> None:
    campaign_id = _scheduled(world, 2500)  # three batches of 1,000 at most
    seqs = _rows(
        world, "SELECT DISTINCT batch_seq FROM recipients WHERE campaign_id = :c", campaign_id
    )
    assert len(seqs) == 3

    with _statements(world) as seen:
        assert operate.cancel_campaign(world.deps, campaign_id) == 2500

    updates = [s for s in seen if "UPDATE recipients" in s]
    assert len(updates) == 1
    assert "campaign_id = %(c)s" in updates[0]  # the campaign's own rows, by index


def test_cancelling_one_campaign_leaves_another_campaigns_recipients_alone(world: World) -> None:
    other = _scheduled(world, 4)
    campaign_id = _scheduled(world, 3)

    operate.cancel_campaign(world.deps, campaign_id)

    assert {
        r["status"]
        for r in _rows(world, "SELECT status FROM recipients WHERE campaign_id = :c", other)
    } == {"queued"}
    assert _rows(world, "SELECT id FROM delivery_events WHERE campaign_id = :c", other) == []


def test_cancelling_a_planned_campaign_cancels_its_unsent_batches(world: World) -> None:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Now", recipients=plain_mobiles(1500))
    )
    assert len(plan.plan_campaign(world.deps, campaign_id)) == 2

    assert operate.cancel_campaign(world.deps, campaign_id) == 1500

    batches = _rows(
        world, "SELECT state, finished_at FROM batches WHERE campaign_id = :c", campaign_id
    )
    assert [b["state"] for b in batches] == ["cancelled", "cancelled"]
    assert all(b["finished_at"] is not None for b in batches)


def test_resuming_a_paused_campaign_that_never_started_schedules_it_again(world: World) -> None:
    campaign_id = _scheduled(world, 2)
    operate.pause_campaign(world.deps, campaign_id)

    operate.resume_campaign(world.deps, campaign_id)

    assert operate.campaign_status(world.deps, campaign_id).state == "scheduled"
    assert world.publisher.planned == [campaign_id]


def test_resuming_a_campaign_that_does_not_exist_says_so(world: World) -> None:
    with pytest.raises(NotFoundError):
        operate.resume_campaign(world.deps, 10**9)
