"""The service layer on real PostgreSQL, without Celery or HTTP: a database of its own, a
recording publisher and adapters over httpx.MockTransport, with the clock in our hands."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.services import maintenance, plan, submit, track
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import (
    batch_row,
    plain_mobiles,
    recipient_numbers,
    recipient_statuses,
)
from tests.integration.world import Handler, World

pytestmark = pytest.mark.integration


def _planned_batch(world: World, count: int = 5) -> tuple[int, int]:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(count))
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    return campaign_id, batch_id


def _answer(body: str, status: int = 200) -> Handler:
    return lambda request: httpx.Response(status, text=body)


def test_planning_publishes_one_submit_per_batch_and_only_once(world: World) -> None:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(2500))
    )
    batch_ids = plan.plan_campaign(world.deps, campaign_id)
    assert len(batch_ids) == 3
    assert plan.plan_campaign(world.deps, campaign_id) == []
    assert world.publisher.submitted == batch_ids


def test_a_second_delivery_of_the_same_task_finds_the_batch_taken(world: World) -> None:
    _, batch_id = _planned_batch(world)
    world.answers.append(_answer("0 | Accepted | abc123"))
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.NOT_CLAIMABLE
    assert len(world.requests) == 1


def test_accepted_batches_are_submitted_with_the_provider_id_and_a_first_poll(world: World) -> None:
    campaign_id, batch_id = _planned_batch(world)
    world.answers.append(_answer("0 | Accepted | abc123"))
    submit.submit_batch(world.deps, batch_id)
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["provider_ref"], batch["attempts"]) == ("submitted", "abc123", 1)
    assert batch["next_poll_at"] is not None
    assert recipient_statuses(world.deps, campaign_id) == {"submitted"}


def test_no_rate_limit_token_hands_the_batch_back_unsent_with_a_due_time(world: World) -> None:
    _, batch_id = _planned_batch(world)
    world.limiter.wait = 30
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.RATE_LIMITED
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["attempts"]) == ("pending", 0)
    assert batch["due_at"] > datetime.now(UTC) + timedelta(seconds=20)
    assert world.requests == []


def test_a_transient_answer_schedules_a_retry_in_postgres_not_on_the_broker(world: World) -> None:
    campaign_id, batch_id = _planned_batch(world)
    world.answers.append(_answer("50 | Temporarily unavailable"))
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.RETRY
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["last_code"], batch["published_at"]) == ("pending", "50", None)
    assert (batch["attempts"], batch["retries"]) == (0, 1)  # paced, not counted
    assert batch["due_at"] > datetime.now(UTC)
    assert recipient_statuses(world.deps, campaign_id) == {"queued"}


def test_an_unknown_outcome_marks_batch_and_recipients_unknown(world: World) -> None:
    campaign_id, batch_id = _planned_batch(world)
    world.answers.append(_answer("internal", status=500))
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.UNKNOWN
    assert batch_row(world.deps, batch_id)["state"] == "unknown"
    assert recipient_statuses(world.deps, campaign_id) == {"unknown"}
    world.publisher.submitted.clear()
    maintenance.sweep(world.deps)
    assert batch_id not in world.publisher.submitted


def test_a_batch_over_the_limit_is_held_for_an_operator_without_a_request(world: World) -> None:
    _, batch_id = _planned_batch(world)
    with world.deps.db.transaction() as conn:  # as if the limit had been lowered since
        conn.execute(
            text(
                "UPDATE campaigns SET method = 'GET' "
                "WHERE id = (SELECT campaign_id FROM batches WHERE id = :b)"
            ),
            {"b": batch_id},
        )
    world.deps.settings.accounts["mock"].batch_size = 2
    try:
        assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.HELD
    finally:
        world.deps.settings.accounts["mock"].batch_size = None
    assert batch_row(world.deps, batch_id)["state"] == "held"
    assert world.requests == []


def test_the_reaper_turns_a_send_whose_lease_ended_into_unknown(world: World) -> None:
    campaign_id, batch_id = _planned_batch(world)
    with world.deps.db.transaction() as conn:
        conn.execute(
            text(
                "UPDATE batches SET state = 'sending', attempts = 1, worker = 'gone', "
                "lease_until = now() - interval '1 second' WHERE id = :b"
            ),
            {"b": batch_id},
        )
    report = maintenance.reap(world.deps)
    assert batch_id in report.unknown
    assert recipient_statuses(world.deps, campaign_id) == {"unknown"}


def test_the_reaper_hands_back_a_claim_whose_lease_ended(world: World) -> None:
    _, batch_id = _planned_batch(world)
    with world.deps.db.transaction() as conn:
        conn.execute(
            text(
                "UPDATE batches SET state = 'claimed', worker = 'gone', "
                "lease_until = now() - interval '1 second' WHERE id = :b"
            ),
            {"b": batch_id},
        )
    assert batch_id in maintenance.reap(world.deps).released
    assert batch_row(world.deps, batch_id)["state"] == "pending"


def test_an_answer_arriving_after_the_reaper_wins_over_its_guess(world: World) -> None:
    campaign_id, batch_id = _planned_batch(world)

    def accepted_after_reaping(request: httpx.Request) -> httpx.Response:
        with world.deps.db.transaction() as conn:
            conn.execute(
                text("UPDATE batches SET lease_until = now() - interval '1 second' WHERE id = :b"),
                {"b": batch_id},
            )
        maintenance.reap(world.deps)
        return httpx.Response(200, text="0 | Accepted | late1")

    world.answers.append(accepted_after_reaping)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    assert batch_row(world.deps, batch_id)["state"] == "submitted"
    assert recipient_statuses(world.deps, campaign_id) == {"submitted"}


def test_polls_apply_reports_grow_their_interval_and_finish_the_batch(world: World) -> None:
    campaign_id, batch_id = _planned_batch(world, count=2)
    numbers = sorted(recipient_numbers(world.deps, campaign_id))
    world.answers.append(_answer("0 | Accepted | poll1"))
    submit.submit_batch(world.deps, batch_id)

    world.answers.append(_answer(f"{numbers[0]} 13 | {numbers[1]} 0"))
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.APPLIED
    first = batch_row(world.deps, batch_id)
    world.answers.append(_answer(f"{numbers[0]} 13 | {numbers[1]} 13"))
    track.poll_batch(world.deps, batch_id)
    assert batch_row(world.deps, batch_id)["poll_interval"] > first["poll_interval"]

    world.answers.append(_answer(f"{numbers[0]} 11 | {numbers[1]} 35"))
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.FINISHED
    assert batch_row(world.deps, batch_id)["state"] == "done"
    assert recipient_statuses(world.deps, campaign_id) == {
        RecipientStatus.DELIVERED.value,
        RecipientStatus.FAILED.value,
    }


def test_a_late_in_progress_report_never_overwrites_delivered(world: World) -> None:
    campaign_id, batch_id = _planned_batch(world, count=2)
    numbers = sorted(recipient_numbers(world.deps, campaign_id))
    world.answers += [
        _answer("0 | Accepted | late2"),
        _answer(f"{numbers[0]} 11 | {numbers[1]} 13"),
        _answer(f"{numbers[0]} 13 | {numbers[1]} 13"),
    ]
    submit.submit_batch(world.deps, batch_id)
    track.poll_batch(world.deps, batch_id)
    track.poll_batch(world.deps, batch_id)
    with world.deps.db.transaction() as conn:
        row = conn.execute(
            text(
                "SELECT status, provider_code FROM recipients "
                "WHERE msisdn = :m AND campaign_id = :c"
            ),
            {"m": numbers[0], "c": campaign_id},
        ).one()
    assert tuple(row) == ("delivered", "11")


def test_the_sweeper_republishes_a_due_batch_whose_message_was_lost(world: World) -> None:
    _, batch_id = _planned_batch(world)
    with world.deps.db.transaction() as conn:
        conn.execute(
            text("UPDATE batches SET published_at = now() - interval '1 hour' WHERE id = :b"),
            {"b": batch_id},
        )
    world.publisher.submitted.clear()
    maintenance.sweep(world.deps)
    assert batch_id in world.publisher.submitted
