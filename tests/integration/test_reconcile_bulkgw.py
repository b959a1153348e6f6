"""Reconciliation for the bulk gateway by its pushed reports (services/reconcile_pushed.py): a
1715 answer or a lost answer leaves recipients unknown without a message id; a pushed report
for a message id we never stored places one when its number and submit date fit that send
and nothing else; recipients no report places are unplaced after the report horizon; an
ambiguous report is never guessed. Service layer on real PostgreSQL, with the World's clock
and a MockTransport gateway."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import httpx
import pytest
from sqlalchemy import text

from dispatcher.domain.statuses import CampaignState
from dispatcher.persistence.database import Database
from dispatcher.services import campaigns as operate
from dispatcher.services import plan, reconcile, submit
from dispatcher.services.callbacks import apply_callback
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import batch_row, plain_mobiles, recipient_numbers
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration

DATE = "%Y-%m-%d %H:%M:%S"  # the sandbox's report dates; UTC
HORIZON = timedelta(hours=48)  # the gateway's report_horizon_hours default


@pytest.fixture
def world(database: Database) -> World:
    """A bulk gateway account asking for reports, its report dates in UTC with seconds. The
    module's database is shared: earlier tests' reconciliations and stored reports end here."""
    with database.transaction() as conn:
        conn.execute(text("UPDATE batches SET reconcile_state = 'unplaced' "
                          "WHERE reconcile_state = 'pending'"))  # fmt: skip
        conn.execute(text("DELETE FROM unmatched_reports"))
        conn.execute(text("UPDATE recipients SET status = 'failed' WHERE status = 'unknown'"))
    return make_world(
        database,
        provider="bulkgw",
        timezone="UTC",
        options={"dlr": True, "report_time_format": DATE},
    )


def _campaign(world: World, numbers: list[str]) -> tuple[int, int, list[str]]:
    campaign_id = enqueue(
        world.deps,
        CampaignRequest(account="mock", text="Hi", recipients=numbers, sender="SHOP"),
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    return campaign_id, batch_id, recipient_numbers(world.deps, campaign_id)


def _send(world: World, batch_id: int, answer: str | None) -> submit.SubmitStep:
    """The batch's one request; ``answer`` None: the answer is lost (read timeout)."""
    if answer is None:

        def timeout(request: httpx.Request) -> httpx.Response:
            raise httpx.ReadTimeout("answer lost", request=request)

        world.answers.append(timeout)
    else:
        world.answer(answer)
    return submit.submit_batch(world.deps, batch_id)


def _statuses(world: World, campaign_id: int) -> dict[str, tuple[str, str | None]]:
    """number -> (status, provider message id)."""
    with world.deps.db.transaction() as conn:
        found = conn.execute(
            text(
                "SELECT msisdn, status, provider_message_id FROM recipients WHERE campaign_id = :c"
            ),
            {"c": campaign_id},
        )
        return {r.msisdn: (r.status, r.provider_message_id) for r in found}


def _push(
    world: World, number: str, message_id: str, submitted: datetime, status: str = "DELIVRD"
) -> None:
    """A report pushed for a message the gateway took (the sandbox's names and dates)."""
    params = {
        "msgid": message_id,
        "destination": number,
        "status": status,
        "submitdate": submitted.astimezone(UTC).strftime(DATE),
        "donedate": (submitted + timedelta(seconds=5)).astimezone(UTC).strftime(DATE),
    }
    apply_callback(world.deps, "mock", params)


def _sent_at(world: World, batch_id: int) -> datetime:
    sent: datetime = batch_row(world.deps, batch_id)["sending_at"]
    return sent


def _reconcile(world: World, batch_id: int) -> reconcile.Step:
    return reconcile.reconcile_due(world.deps).steps[batch_id]


def _stored(world: World) -> int:
    with world.deps.db.transaction() as conn:
        return int(conn.execute(text("SELECT count(*) FROM unmatched_reports")).scalar_one())


def test_1715_destinations_whose_reports_come_are_placed_final_and_sent_once(
    world: World,
) -> None:
    campaign_id, batch_id, (n1, n2, n3) = _campaign(world, plain_mobiles(3))
    answer = f"1701|{n1}|m1-{campaign_id},1715|{n2}|,1715|{n3}|"
    assert _send(world, batch_id, answer) is submit.SubmitStep.ACCEPTED
    assert batch_row(world.deps, batch_id)["reconcile_state"] == "pending"
    sent = _sent_at(world, batch_id)

    _push(world, n1, f"m1-{campaign_id}", sent)
    _push(world, n2, f"x2-{campaign_id}", sent)
    _push(world, n3, f"x3-{campaign_id}", sent, status="UNDELIV")

    assert _reconcile(world, batch_id) is reconcile.Step.PLACED
    assert _statuses(world, campaign_id) == {
        n1: ("delivered", f"m1-{campaign_id}"),
        n2: ("delivered", f"x2-{campaign_id}"),
        n3: ("failed", f"x3-{campaign_id}"),
    }
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["reconcile_state"]) == ("done", "placed")
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.DONE
    assert len(world.requests) == 1
    assert _stored(world) == 0  # consumed


def test_a_1715_destination_stays_unknown_until_reconciled_never_submitted_blindly(
    world: World,
) -> None:
    campaign_id, batch_id, (n1, n2) = _campaign(world, plain_mobiles(2))
    _send(world, batch_id, f"1701|{n1}|m1-{campaign_id},1715|{n2}|")
    assert _statuses(world, campaign_id)[n2] == ("unknown", None)
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.RUNNING


def test_a_lost_answer_whose_reports_come_is_placed_then_submitted_until_its_horizon(
    world: World,
) -> None:
    campaign_id, batch_id, (n1, n2) = _campaign(world, plain_mobiles(2))
    assert _send(world, batch_id, None) is submit.SubmitStep.UNKNOWN
    sent = _sent_at(world, batch_id)
    _push(world, n1, f"y1-{campaign_id}", sent, status="ACCEPTD")
    _push(world, n2, f"y2-{campaign_id}", sent)

    assert _reconcile(world, batch_id) is reconcile.Step.PLACED
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["reconcile_state"]) == ("submitted", "placed")
    assert batch["poll_until"] is not None
    assert _statuses(world, campaign_id) == {
        n1: ("submitted", f"y1-{campaign_id}"),
        n2: ("delivered", f"y2-{campaign_id}"),
    }
    _push(world, n1, f"y1-{campaign_id}", sent)  # its final report now finds it by id
    assert _statuses(world, campaign_id)[n1] == ("delivered", f"y1-{campaign_id}")
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.DONE
    assert len(world.requests) == 1


def test_recipients_no_report_ever_places_are_unplaced_with_evidence_after_the_horizon(
    world: World,
) -> None:
    campaign_id, batch_id, (n1, n2) = _campaign(world, plain_mobiles(2))
    _send(world, batch_id, None)
    sent = _sent_at(world, batch_id)
    _push(world, n1, f"z1-{campaign_id}", sent, status="ACCEPTD")  # never a final one
    assert _reconcile(world, batch_id) is reconcile.Step.WAITING
    assert batch_row(world.deps, batch_id)["state"] == "unknown"  # n2 may still be reported

    world.clock.set(datetime.now(UTC) + HORIZON + timedelta(minutes=5))
    assert _reconcile(world, batch_id) is reconcile.Step.UNPLACED

    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["reconcile_state"]) == ("unknown", "unplaced")
    last = batch["evidence"][-1]
    assert (last["event"], last["left"]) == ("not-found", 1)
    assert "report horizon" in last["reason"]
    assert _statuses(world, campaign_id) == {
        n1: ("expired", f"z1-{campaign_id}"),  # placed, no final report by the horizon
        n2: ("unknown", None),
    }
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.NEEDS_ATTENTION
    assert len(world.requests) == 1


def test_a_look_before_the_horizon_that_places_nobody_waits_and_logs_nothing(
    world: World,
) -> None:
    _, batch_id, _ = _campaign(world, plain_mobiles(1))
    _send(world, batch_id, None)

    assert _reconcile(world, batch_id) is reconcile.Step.WAITING
    batch = batch_row(world.deps, batch_id)
    assert [e["event"] for e in batch["evidence"]] == ["unknown"]
    assert batch["reconcile_state"] == "pending"


def test_a_report_two_unknown_sends_to_one_number_could_own_is_never_guessed(
    world: World,
) -> None:
    (number,) = plain_mobiles(1)
    first, first_batch, _ = _campaign(world, [number])
    second, second_batch, _ = _campaign(world, [number])
    _send(world, first_batch, f"1715|{number}|")
    _send(world, second_batch, f"1715|{number}|")
    _push(world, number, "only-one", _sent_at(world, second_batch))

    steps = reconcile.reconcile_due(world.deps).steps
    assert (steps[first_batch], steps[second_batch]) == (
        reconcile.Step.WAITING,
        reconcile.Step.WAITING,
    )
    assert _statuses(world, first)[number] == ("unknown", None)
    assert _statuses(world, second)[number] == ("unknown", None)
    assert _stored(world) == 1  # kept: an operator can read it


def test_two_reported_messages_for_one_recipient_place_neither(world: World) -> None:
    campaign_id, batch_id, (number,) = _campaign(world, plain_mobiles(1))
    _send(world, batch_id, None)
    sent = _sent_at(world, batch_id)
    _push(world, number, "first", sent)
    _push(world, number, "second", sent + timedelta(seconds=1))

    assert _reconcile(world, batch_id) is reconcile.Step.WAITING
    assert _statuses(world, campaign_id)[number] == ("unknown", None)


def test_a_report_submitted_outside_the_send_window_places_nothing(world: World) -> None:
    campaign_id, batch_id, (number,) = _campaign(world, plain_mobiles(1))
    _send(world, batch_id, None)
    _push(world, number, "earlier", _sent_at(world, batch_id) - timedelta(minutes=10))

    assert _reconcile(world, batch_id) is reconcile.Step.WAITING
    assert _statuses(world, campaign_id)[number] == ("unknown", None)


def test_without_dlr_nothing_can_place_a_1715_so_it_is_unsupported(database: Database) -> None:
    world = make_world(database, provider="bulkgw", timezone="UTC")
    campaign_id, batch_id, (number,) = _campaign(world, plain_mobiles(1))
    _send(world, batch_id, f"1715|{number}|")

    assert _reconcile(world, batch_id) is reconcile.Step.UNSUPPORTED
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.NEEDS_ATTENTION
