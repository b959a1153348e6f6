"""Push-only accounts (the bulk gateway: no report can be read, reports are only pushed), on
real PostgreSQL without Celery (tests/integration/world.py): an accepted batch stays
``submitted`` until pushed reports make every recipient final, which closes it at once, or
until its horizon, where what is still pending expires; either way its campaign ends with
every recipient final, and no step asks the provider anything."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import text

from dispatcher.persistence.database import Database
from dispatcher.services import plan, submit, track
from dispatcher.services.callbacks import apply_callback
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import batch_row, campaign_state, plain_mobiles
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration

ACCEPTED_AT = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DEFAULT_HORIZON = timedelta(hours=48)  # the bulk gateway's report_horizon_hours default


def _world(database: Database, **options: Any) -> World:
    world = make_world(database, provider="bulkgw", options={"dlr": True, **options})
    world.clock.set(ACCEPTED_AT)
    return world


@pytest.fixture
def world(database: Database) -> World:
    return _world(database)


def _accepted(world: World, count: int = 2, *, refused: int = 0) -> tuple[int, int, list[str]]:
    """A batch the gateway accepted (1701 per destination; the last ``refused`` answered 1706):
    (campaign, batch, its numbers)."""
    numbers = plain_mobiles(count)
    campaign_id = enqueue(
        world.deps,
        CampaignRequest(account="mock", text="Hi", recipients=numbers, sender="SHOP"),
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    lines = [
        f"1706|{n}" if i >= count - refused else f"1701|{n}|{_message_id(campaign_id, n)}"
        for i, n in enumerate(numbers)
    ]
    world.answer("\n".join(lines))
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    return campaign_id, batch_id, numbers


def _message_id(campaign_id: int, number: str) -> str:
    return f"m{campaign_id}-{number}"


def _report(campaign_id: int, number: str, status: str = "DELIVRD") -> dict[str, str]:
    """A pushed report, in the account's default names (bulkgw.Options)."""
    return {"msgid": _message_id(campaign_id, number), "destination": number, "status": status}


def _push(world: World, campaign_id: int, number: str, status: str = "DELIVRD") -> None:
    assert apply_callback(world.deps, "mock", _report(campaign_id, number, status)).applied == 1


def _recipients(world: World, campaign_id: int) -> dict[str, dict[str, object]]:
    with world.deps.db.transaction() as conn:
        rows = conn.execute(
            text("SELECT * FROM recipients WHERE campaign_id = :c"), {"c": campaign_id}
        ).mappings()
        return {str(r["msisdn"]): dict(r) for r in rows}


def _statuses(world: World, campaign_id: int) -> dict[str, str]:
    return {n: str(r["status"]) for n, r in _recipients(world, campaign_id).items()}


def _event_sources(world: World, campaign_id: int, status: str) -> set[str]:
    with world.deps.db.transaction() as conn:
        return set(
            conn.execute(
                text("SELECT source FROM delivery_events WHERE campaign_id = :c AND status = :s"),
                {"c": campaign_id, "s": status},
            ).scalars()
        )


# -- acceptance ---------------------------------------------------------------------------


def test_an_accepted_batch_stays_submitted_with_its_one_step_due_at_the_horizon(
    world: World,
) -> None:
    campaign_id, batch_id, _ = _accepted(world)
    batch = batch_row(world.deps, batch_id)
    horizon = ACCEPTED_AT + DEFAULT_HORIZON
    assert (batch["state"], batch["poll_until"], batch["next_poll_at"]) == (
        "submitted",
        horizon,
        horizon,
    )
    assert set(_statuses(world, campaign_id).values()) == {"submitted"}
    assert campaign_state(world.deps, campaign_id) == "running"


def test_the_accounts_report_horizon_hours_sets_the_horizon(database: Database) -> None:
    world = _world(database, report_horizon_hours=6)
    _, batch_id, _ = _accepted(world)
    assert batch_row(world.deps, batch_id)["poll_until"] == ACCEPTED_AT + timedelta(hours=6)


def test_without_dlr_the_recipients_expire_at_acceptance(database: Database) -> None:
    world = _world(database, dlr=False)
    campaign_id, batch_id, _ = _accepted(world)
    assert batch_row(world.deps, batch_id)["state"] == "done"
    rows = _recipients(world, campaign_id).values()
    assert {(r["status"], r["provider_code"], r["status_at"]) for r in rows} == {
        ("expired", "1701", ACCEPTED_AT)
    }
    assert _event_sources(world, campaign_id, "expired") == {"horizon"}
    assert campaign_state(world.deps, campaign_id) == "done"


# -- pushed reports -----------------------------------------------------------------------


def test_a_pushed_report_that_leaves_a_recipient_pending_keeps_the_batch_submitted(
    world: World,
) -> None:
    campaign_id, batch_id, numbers = _accepted(world)
    _push(world, campaign_id, numbers[0])
    assert batch_row(world.deps, batch_id)["state"] == "submitted"
    assert campaign_state(world.deps, campaign_id) == "running"


def test_pushed_reports_that_make_every_recipient_final_close_the_batch_and_campaign(
    world: World,
) -> None:
    campaign_id, batch_id, numbers = _accepted(world)
    _push(world, campaign_id, numbers[0])
    _push(world, campaign_id, numbers[1], "UNDELIV")
    assert batch_row(world.deps, batch_id)["state"] == "done"
    assert _statuses(world, campaign_id) == {numbers[0]: "delivered", numbers[1]: "failed"}
    assert campaign_state(world.deps, campaign_id) == "done"


def test_destinations_refused_at_acceptance_count_as_final_when_the_rest_report(
    world: World,
) -> None:
    campaign_id, batch_id, numbers = _accepted(world, 3, refused=1)
    _push(world, campaign_id, numbers[0])
    _push(world, campaign_id, numbers[1])
    assert batch_row(world.deps, batch_id)["state"] == "done"
    assert campaign_state(world.deps, campaign_id) == "done"


def test_a_non_final_pushed_report_does_not_close_the_batch(world: World) -> None:
    campaign_id, batch_id, numbers = _accepted(world, 1)
    _push(world, campaign_id, numbers[0], "ACCEPTD")
    assert batch_row(world.deps, batch_id)["state"] == "submitted"
    assert _statuses(world, campaign_id) == {numbers[0]: "submitted"}


# -- the horizon step ---------------------------------------------------------------------


def test_the_step_woken_before_the_horizon_waits_for_it_without_asking_the_provider(
    world: World,
) -> None:
    campaign_id, batch_id, _ = _accepted(world)
    sent = len(world.requests)
    world.clock.set(ACCEPTED_AT + timedelta(hours=1))
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.WAITING
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["next_poll_at"]) == ("submitted", ACCEPTED_AT + DEFAULT_HORIZON)
    assert set(_statuses(world, campaign_id).values()) == {"submitted"}
    assert len(world.requests) == sent


def test_the_step_before_the_horizon_closes_a_batch_whose_reports_are_all_final(
    world: World,
) -> None:
    campaign_id, batch_id, _ = _accepted(world, 1)
    with world.deps.db.transaction() as conn:  # as if the report had been applied elsewhere
        conn.execute(
            text("UPDATE recipients SET status = 'delivered' WHERE campaign_id = :c"),
            {"c": campaign_id},
        )
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.FINISHED
    assert batch_row(world.deps, batch_id)["state"] == "done"
    assert campaign_state(world.deps, campaign_id) == "done"


def test_at_the_horizon_what_is_still_pending_expires_and_the_campaign_is_done(
    world: World,
) -> None:
    campaign_id, batch_id, numbers = _accepted(world)
    _push(world, campaign_id, numbers[0])
    sent = len(world.requests)
    at = ACCEPTED_AT + DEFAULT_HORIZON
    world.clock.set(at)

    assert track.poll_batch(world.deps, batch_id) is track.PollStep.FINISHED

    assert batch_row(world.deps, batch_id)["state"] == "done"
    rows = _recipients(world, campaign_id)
    assert rows[numbers[0]]["status"] == "delivered"
    assert (rows[numbers[1]]["status"], rows[numbers[1]]["status_at"]) == ("expired", at)
    assert _event_sources(world, campaign_id, "expired") == {"horizon"}
    assert campaign_state(world.deps, campaign_id) == "done"
    assert len(world.requests) == sent  # nothing can be read: nothing was asked


def test_a_report_pushed_after_the_horizon_changes_nothing(world: World) -> None:
    campaign_id, batch_id, numbers = _accepted(world, 1)
    world.clock.set(ACCEPTED_AT + DEFAULT_HORIZON)
    track.poll_batch(world.deps, batch_id)
    assert apply_callback(world.deps, "mock", _report(campaign_id, numbers[0])).applied == 0
    assert _statuses(world, campaign_id) == {numbers[0]: "expired"}
