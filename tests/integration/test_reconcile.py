"""Reconciliation of unknown outcomes from the provider's own records (docs/design-rules.md 1.11):
a send whose answer was lost is found in sMsmode's smsList.do and goes on to be tracked; a send
that never reached the provider is proved absent by two reads and waits for its operator; a
provider with no such record is 'unsupported'. Service layer on real PostgreSQL, with the
World's clock and MockTransport provider."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import httpx
import pytest
from sqlalchemy import text

from dispatcher.domain.statuses import CampaignState
from dispatcher.errors import IllegalTransitionError
from dispatcher.persistence import reconcile as rows
from dispatcher.persistence.database import Database
from dispatcher.services import campaigns as operate
from dispatcher.services import plan, reconcile, submit, track
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import (
    batch_row,
    plain_mobiles,
    recipient_numbers,
    recipient_statuses,
)
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration

PARIS = ZoneInfo("Europe/Paris")
MINUTE = timedelta(minutes=1)


@pytest.fixture(autouse=True)
def _only_this_tests_batches(database: Database) -> None:
    """The module's database is shared: an earlier test's batch still under reconciliation
    would take this test's answers."""
    with database.transaction() as conn:
        conn.execute(text("UPDATE batches SET reconcile_state = 'unplaced' "
                          "WHERE reconcile_state = 'pending'"))  # fmt: skip


def _lost_send(world: World, count: int = 3) -> tuple[int, int]:
    """A campaign of one batch whose send times out after the request left: unknown."""
    campaign_id = enqueue(
        world.deps,
        CampaignRequest(
            account="mock", text="Hi there", sender="Shop", recipients=plain_mobiles(count)
        ),
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("answer lost", request=request)

    world.answers.append(timeout)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.UNKNOWN
    return campaign_id, batch_id


def _listed(world: World, campaign_id: int, batch_id: int, sms_id: str) -> str:
    """smsList.do's line for the batch's request, as sMsmode would write it (section 10)."""
    sent: datetime = batch_row(world.deps, batch_id)["sending_at"]
    numbers = recipient_numbers(world.deps, campaign_id)
    date = sent.astimezone(PARIS).strftime("%d%m%Y-%H:%M")
    return f"{sms_id} | {date} | Hi there | {numbers[0]} | {len(numbers)} | {len(numbers)} |"


def _reconcile(world: World, batch_id: int) -> reconcile.Step:
    return reconcile.reconcile_due(world.deps).steps[batch_id]


def _sends(world: World) -> int:
    return sum(1 for r in world.requests if r.url.path.endswith("/sendSMS.do"))


def test_an_unknown_batch_is_due_for_reconciliation_and_keeps_its_campaign_running(
    world: World,
) -> None:
    campaign_id, batch_id = _lost_send(world)

    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["reconcile_state"]) == ("unknown", "pending")
    assert batch["evidence"][0]["event"] == "unknown"
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.RUNNING


def test_a_lost_answer_found_in_the_sent_list_is_submitted_then_tracked_to_the_end(
    world: World,
) -> None:
    campaign_id, batch_id = _lost_send(world)
    world.answer(_listed(world, campaign_id, batch_id, "SMS42"))

    assert _reconcile(world, batch_id) is reconcile.Step.PLACED
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["provider_ref"], batch["reconcile_state"]) == (
        "submitted",
        "SMS42",
        "placed",
    )
    world.answer(" | ".join(f"{n} 11" for n in recipient_numbers(world.deps, campaign_id)))
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.FINISHED
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.DONE
    assert recipient_statuses(world.deps, campaign_id) == {"delivered"}
    assert _sends(world) == 1


def test_recipients_placed_by_reconciliation_are_logged_from_source_reconcile(
    world: World,
) -> None:
    campaign_id, batch_id = _lost_send(world)
    world.answer(_listed(world, campaign_id, batch_id, "SMS43"))

    _reconcile(world, batch_id)

    with world.deps.db.transaction() as conn:
        sources = conn.execute(
            text(
                "SELECT count(*) FROM delivery_events WHERE campaign_id = :c "
                "AND source = 'reconcile' AND status = 'submitted'"
            ),
            {"c": campaign_id},
        ).scalar_one()
    assert sources == 3


def test_a_send_absent_from_two_reads_far_enough_apart_is_unplaced_and_needs_attention(
    world: World,
) -> None:
    campaign_id, batch_id = _lost_send(world)
    world.answer("")  # the account's whole list, without the batch
    assert _reconcile(world, batch_id) is reconcile.Step.WAITING
    world.clock.advance(seconds=world.deps.settings.timings.reconcile_confirm_seconds + 1)
    world.answer("")

    assert _reconcile(world, batch_id) is reconcile.Step.UNPLACED
    batch = batch_row(world.deps, batch_id)
    assert (batch["state"], batch["reconcile_state"]) == ("unknown", "unplaced")
    assert [e["event"] for e in batch["evidence"]] == ["unknown", "absent", "not-found"]
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.NEEDS_ATTENTION
    assert recipient_statuses(world.deps, campaign_id) == {"unknown"}


def test_a_single_absent_read_proves_nothing_yet(world: World) -> None:
    _, batch_id = _lost_send(world)
    world.answer("")

    reconcile.reconcile_due(world.deps)

    assert batch_row(world.deps, batch_id)["reconcile_state"] == "pending"


def test_an_operator_cannot_resend_a_batch_still_being_reconciled(world: World) -> None:
    _, batch_id = _lost_send(world)

    with pytest.raises(IllegalTransitionError, match="reconciliation; next check at"):
        operate.resend_batch(world.deps, batch_id)


def test_an_operator_resends_an_unplaced_batch_with_its_evidence(world: World) -> None:
    campaign_id, batch_id = _lost_send(world)
    with world.deps.db.transaction() as conn:
        rows.settle(conn, batch_id, "unplaced", {"event": "not-found"})

    found = operate.resend_batch(world.deps, batch_id)

    assert found is not None
    assert [e["event"] for e in found.evidence] == ["unknown", "not-found"]
    assert recipient_statuses(world.deps, campaign_id) == {"queued"}


def test_two_reconcilers_never_take_the_same_batch(world: World) -> None:
    _lost_send(world)
    with world.deps.db.transaction() as conn:
        first = rows.take_due(conn, world.deps.clock(), MINUTE, 50)
    with world.deps.db.transaction() as conn:
        second = rows.take_due(conn, world.deps.clock(), MINUTE, 50)
    assert (len(first), second) == (1, [])


def test_an_unreadable_list_is_undecided_and_read_again_later(world: World) -> None:
    _, batch_id = _lost_send(world)
    world.answer("31 | Internal error")

    assert _reconcile(world, batch_id) is reconcile.Step.WAITING
    batch = batch_row(world.deps, batch_id)
    assert (batch["reconcile_state"], batch["reconcile_tries"]) == ("pending", 1)
    assert batch["evidence"][-1]["event"] == "undecided"


@pytest.fixture
def smsfactor(database: Database) -> World:
    return make_world(database, provider="smsfactor")


def test_an_smsfactor_unknown_is_unsupported_and_needs_attention(smsfactor: World) -> None:
    campaign_id, batch_id = _lost_send(smsfactor)

    assert _reconcile(smsfactor, batch_id) is reconcile.Step.UNSUPPORTED
    assert batch_row(smsfactor.deps, batch_id)["reconcile_state"] == "unsupported"
    state = operate.campaign_status(smsfactor.deps, campaign_id).state
    assert state is CampaignState.NEEDS_ATTENTION
