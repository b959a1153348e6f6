"""Batches that wait, on real PostgreSQL without Celery (tests/integration/world.py): transient
send answers are paced and never counted, the campaign's send deadline ends the wait visibly,
failed report polls back off and never close a batch, and the report horizon closes one only
after a successful read that began after it, expiring what is still pending."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from dispatcher.services import maintenance, plan, submit, track
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import batch_row, campaign_state, plain_mobiles
from tests.integration.world import World

pytestmark = pytest.mark.integration

UNAVAILABLE = "50 | Temporarily unavailable"


def _planned_batch(world: World, count: int = 3, **options: str) -> tuple[int, int]:
    request = CampaignRequest(
        account="mock", text="Hi", recipients=plain_mobiles(count), options=options
    )
    campaign_id = enqueue(world.deps, request)
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    return campaign_id, batch_id


def _recipients(world: World, campaign_id: int) -> list[dict[str, object]]:
    with world.deps.db.transaction() as conn:
        rows = conn.execute(
            text("SELECT * FROM recipients WHERE campaign_id = :c ORDER BY row_no"),
            {"c": campaign_id},
        )
        return [dict(r) for r in rows.mappings()]


def _event_sources(world: World, campaign_id: int, status: str) -> set[str]:
    with world.deps.db.transaction() as conn:
        return set(
            conn.execute(
                text("SELECT source FROM delivery_events WHERE campaign_id = :c AND status = :s"),
                {"c": campaign_id, "s": status},
            ).scalars()
        )


def _fail_transiently(world: World, batch_id: int, times: int) -> list[float]:
    """Answer ``times`` sends with sMsmode's "temporarily unavailable", each once the batch is
    due again; returns the waits (seconds from the answer to the next due time)."""
    world.clock.set(datetime.now(UTC))
    waits = []
    for _ in range(times):
        world.answer(UNAVAILABLE)
        assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.RETRY
        due = batch_row(world.deps, batch_id)["due_at"]
        assert isinstance(due, datetime)
        waits.append((due - world.clock()).total_seconds())
        world.clock.set(due)
    return waits


# -- transient send answers ---------------------------------------------------------------


def test_transient_answers_never_count_an_attempt_nor_stop_the_batch(world: World) -> None:
    campaign_id, batch_id = _planned_batch(world)
    _fail_transiently(world, batch_id, 10)
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["attempts"], batch["retries"]) == ("pending", 0, 10)
    assert {r["status"] for r in _recipients(world, campaign_id)} == {"queued"}
    assert campaign_state(world.deps, campaign_id) == "running"


def test_the_wait_after_a_transient_answer_grows_up_to_its_cap(world: World) -> None:
    _, batch_id = _planned_batch(world)
    timings = world.deps.settings.timings
    waits = _fail_transiently(world, batch_id, 10)
    for retry, wait in enumerate(waits, start=1):
        ceiling = min(timings.retry_cap_seconds, timings.retry_base_seconds * 2 ** (retry - 1))
        assert ceiling / 2 <= wait <= ceiling


def test_a_waiting_batch_is_sent_once_the_provider_answers_again(world: World) -> None:
    campaign_id, batch_id = _planned_batch(world)
    _fail_transiently(world, batch_id, 4)
    world.answer("0 | Accepted | back1")
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["attempts"], batch["provider_ref"]) == ("submitted", 1, "back1")
    assert {r["status"] for r in _recipients(world, campaign_id)} == {"submitted"}


def test_the_send_deadline_fails_a_waiting_batch_with_the_providers_last_answer(
    world: World,
) -> None:
    campaign_id, batch_id = _planned_batch(world)
    _fail_transiently(world, batch_id, 2)
    world.clock.set(datetime.now(UTC) + timedelta(hours=25))  # the default deadline is 24 h

    assert batch_id in maintenance.reap(world.deps).overdue
    assert batch_row(world.deps, batch_id)["state"] == "failed"
    rows = _recipients(world, campaign_id)
    assert {(r["status"], r["provider_code"]) for r in rows} == {("failed", "50")}
    assert all("deadline" in str(r["provider_text"]) for r in rows)
    assert all("Temporarily unavailable" in str(r["provider_text"]) for r in rows)
    assert _event_sources(world, campaign_id, "failed") == {"deadline"}
    assert campaign_state(world.deps, campaign_id) == "done"


def test_the_send_deadline_leaves_a_batch_waiting_before_it_alone(world: World) -> None:
    _, batch_id = _planned_batch(world)
    _fail_transiently(world, batch_id, 2)
    world.clock.set(datetime.now(UTC) + timedelta(hours=23))
    assert batch_id not in maintenance.reap(world.deps).overdue
    assert batch_row(world.deps, batch_id)["state"] == "pending"


def test_the_send_deadline_leaves_a_batch_waiting_for_its_send_window_alone(
    world: World,
) -> None:
    opens = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    window = f"Mon-Sun {opens.hour:02d}:00-{(opens.hour + 1) % 24:02d}:00 UTC"
    world.clock.set(opens + timedelta(minutes=10))
    _, batch_id = _planned_batch(world, window=window)
    world.answer(UNAVAILABLE)  # a transient answer first, then the window shuts
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.RETRY
    world.clock.set(opens + timedelta(hours=2))
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.OUTSIDE_WINDOW

    assert batch_id not in maintenance.reap(world.deps).overdue
    assert batch_row(world.deps, batch_id)["state"] == "pending"


# -- report polls and the horizon ---------------------------------------------------------


def _submitted(world: World, count: int = 2) -> tuple[int, int, list[str], datetime]:
    """A batch the provider accepted: (campaign, batch, its numbers, its poll horizon)."""
    campaign_id, batch_id = _planned_batch(world, count)
    world.answer("0 | Accepted | hz1")
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    numbers = [str(r["msisdn"]) for r in _recipients(world, campaign_id)]
    horizon = batch_row(world.deps, batch_id)["poll_until"]
    assert isinstance(horizon, datetime)
    return campaign_id, batch_id, numbers, horizon


@pytest.mark.parametrize(
    ("body", "status"), [("31 | Internal error", 200), ("Bad gateway", 502)], ids=["31", "502"]
)
def test_a_failed_poll_after_the_horizon_is_logged_backs_off_and_keeps_the_batch(
    world: World, caplog: pytest.LogCaptureFixture, body: str, status: int
) -> None:
    _, batch_id, _, horizon = _submitted(world)
    world.clock.set(horizon + timedelta(seconds=1))
    world.answer(body, status=status)
    with caplog.at_level(logging.WARNING, logger="dispatcher.services.track"):
        assert track.poll_batch(world.deps, batch_id) is track.PollStep.FAILED

    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["poll_failures"]) == ("submitted", 1)
    next_poll = batch["next_poll_at"]
    assert isinstance(next_poll, datetime)
    cap = world.deps.settings.timings.retry_base_seconds  # the first failure's ceiling
    assert world.clock() < next_poll <= world.clock() + timedelta(seconds=cap)
    assert any(f"poll of batch {batch_id} failed" in r.getMessage() for r in caplog.records)


def test_failed_polls_back_off_without_growing_the_report_interval(world: World) -> None:
    _, batch_id, numbers, _ = _submitted(world)
    interval = batch_row(world.deps, batch_id)["poll_interval"]
    for _ in range(3):
        world.answer("31 | Internal error")
        track.poll_batch(world.deps, batch_id)
    batch = batch_row(world.deps, batch_id)
    assert (batch["poll_failures"], batch["poll_interval"]) == (3, interval)

    world.answer(f"{numbers[0]} 13 | {numbers[1]} 13")
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.APPLIED
    assert batch_row(world.deps, batch_id)["poll_failures"] == 0


def test_a_successful_read_after_the_horizon_expires_what_is_still_pending(world: World) -> None:
    campaign_id, batch_id, numbers, horizon = _submitted(world)
    read_at = horizon + timedelta(seconds=1)
    world.clock.set(read_at)
    world.answer(f"{numbers[0]} 11 | {numbers[1]} 13")
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.FINISHED

    assert batch_row(world.deps, batch_id)["state"] == "done"
    by_number = {r["msisdn"]: r for r in _recipients(world, campaign_id)}
    assert by_number[numbers[0]]["status"] == "delivered"
    expired = by_number[numbers[1]]
    assert (expired["status"], expired["provider_code"], expired["status_at"]) == (
        "expired",
        "13",
        read_at,
    )
    assert _event_sources(world, campaign_id, "expired") == {"horizon"}
    assert campaign_state(world.deps, campaign_id) == "done"


def test_a_read_that_began_before_the_horizon_does_not_close_the_batch(world: World) -> None:
    campaign_id, batch_id, numbers, horizon = _submitted(world)
    world.clock.set(horizon - timedelta(seconds=1))

    def answered_after_the_horizon(request: httpx.Request) -> httpx.Response:
        world.clock.set(horizon + timedelta(seconds=1))
        return httpx.Response(200, text=f"{numbers[0]} 13 | {numbers[1]} 13")

    world.answers.append(answered_after_the_horizon)
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.APPLIED
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["next_poll_at"]) == ("submitted", world.clock())
    assert {r["status"] for r in _recipients(world, campaign_id)} == {"submitted"}


def test_the_next_read_is_never_later_than_the_horizon(world: World) -> None:
    _, batch_id, numbers, horizon = _submitted(world)
    world.clock.set(horizon - timedelta(seconds=2))  # the next interval would pass it
    world.answer(f"{numbers[0]} 13 | {numbers[1]} 13")
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.APPLIED
    assert batch_row(world.deps, batch_id)["next_poll_at"] == horizon


def test_a_submission_the_provider_no_longer_knows_expires_its_pending_recipients(
    world: World,
) -> None:
    campaign_id, batch_id, _, _ = _submitted(world)
    world.answer("61 | SMS not found")
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.FINISHED
    assert batch_row(world.deps, batch_id)["state"] == "done"
    assert {r["status"] for r in _recipients(world, campaign_id)} == {"expired"}
    assert _event_sources(world, campaign_id, "expired") == {"gone"}
