"""An operator's decision on an unknown or held batch, recorded without sending anything
(services/resolve.py): ``--sent`` expires the unknown recipients, ``--failed`` fails the
unknown and queued ones; the batch ends, the audit trail names who and why, and the campaign
settles. Service layer on real PostgreSQL (the World's clock and MockTransport provider)."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from dispatcher.domain.statuses import BatchState, CampaignState
from dispatcher.errors import IllegalTransitionError, NotFoundError
from dispatcher.persistence import audit, campaigns, reconcile
from dispatcher.persistence.database import Database
from dispatcher.services import campaigns as operate
from dispatcher.services import plan, submit
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.services.resolve import Decision, resolve_batch
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration


def _campaign(world: World, count: int = 3) -> tuple[int, list[int]]:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(count))
    )
    return campaign_id, plan.plan_campaign(world.deps, campaign_id)


def _unknown(world: World, batch_id: int, *, looked: bool = True) -> None:
    """A 500 after the request left: unknown. ``looked``: reconciliation ended unplaced."""
    world.answer("internal", status=500)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.UNKNOWN
    if looked:
        with world.deps.db.transaction() as conn:
            reconcile.settle(conn, batch_id, "unplaced", {"event": "not-found"})
            campaign_id = conn.execute(
                text("SELECT campaign_id FROM batches WHERE id = :b"), {"b": batch_id}
            ).scalar_one()
            campaigns.finish_if_settled(conn, campaign_id)


def _held(world: World, campaign_id: int, batch_id: int) -> None:
    """As if the account's batch size had been lowered since planning: held, nothing sent."""
    with world.deps.db.transaction() as conn:
        conn.execute(text("UPDATE campaigns SET method = 'GET' WHERE id = :c"), {"c": campaign_id})
    world.deps.settings.accounts["mock"].batch_size = 2
    try:
        assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.HELD
    finally:
        world.deps.settings.accounts["mock"].batch_size = None


def _recipients(world: World, campaign_id: int) -> set[tuple[str, str | None, str | None]]:
    with world.deps.db.transaction() as conn:
        rows = conn.execute(
            text(
                "SELECT status, provider_code, provider_text FROM recipients WHERE campaign_id = :c"
            ),
            {"c": campaign_id},
        )
        return {(r.status, r.provider_code, r.provider_text) for r in rows}


def _operator_events(world: World, campaign_id: int) -> list[str]:
    with world.deps.db.transaction() as conn:
        return list(
            conn.execute(
                text(
                    "SELECT status FROM delivery_events WHERE campaign_id = :c "
                    "AND source = 'operator'"
                ),
                {"c": campaign_id},
            ).scalars()
        )


def _batch(world: World, batch_id: int) -> tuple[str, str | None, object]:
    with world.deps.db.transaction() as conn:
        row = conn.execute(
            text("SELECT state, reconcile_state, reconcile_after FROM batches WHERE id = :b"),
            {"b": batch_id},
        ).one()
        return row.state, row.reconcile_state, row.reconcile_after


def test_resolving_an_unknown_batch_as_sent_expires_its_recipients_and_ends_the_campaign(
    world: World,
) -> None:
    campaign_id, (batch_id,) = _campaign(world)
    _unknown(world, batch_id)

    done = resolve_batch(
        world.deps, batch_id, Decision.SENT, reason="seen in the console", actor="os:alice"
    )

    assert (done.recipients, done.batch_state, done.campaign_state) == (
        3,
        BatchState.DONE,
        CampaignState.DONE,
    )
    assert _recipients(world, campaign_id) == {("expired", "operator", "seen in the console")}
    assert _operator_events(world, campaign_id) == ["expired"] * 3
    assert _batch(world, batch_id)[0] == "done"


def test_resolving_as_sent_writes_an_audit_entry_with_the_actor_reason_and_counts(
    world: World,
) -> None:
    campaign_id, (batch_id,) = _campaign(world)
    _unknown(world, batch_id)

    resolve_batch(world.deps, batch_id, "sent", reason="seen in the console", actor="os:alice")

    with world.deps.db.transaction() as conn:
        (entry,) = audit.for_batch(conn, batch_id)
    assert (entry.actor, entry.action, entry.campaign_id) == (
        "os:alice",
        "resolved_sent",
        campaign_id,
    )
    assert entry.detail == {"was": "unknown", "recipients": 3, "reason": "seen in the console"}


def test_resolving_an_unknown_batch_as_failed_fails_its_recipients_with_the_reason(
    world: World,
) -> None:
    campaign_id, (batch_id,) = _campaign(world)
    _unknown(world, batch_id)

    done = resolve_batch(world.deps, batch_id, Decision.FAILED, reason="not in the console")

    assert done.batch_state is BatchState.FAILED
    assert _recipients(world, campaign_id) == {("failed", "operator", "not in the console")}
    assert _operator_events(world, campaign_id) == ["failed"] * 3


def test_resolving_a_held_batch_as_failed_fails_its_queued_recipients_and_settles_the_campaign(
    world: World,
) -> None:
    campaign_id, (batch_id,) = _campaign(world, 3)
    _held(world, campaign_id, batch_id)
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.NEEDS_ATTENTION

    done = resolve_batch(world.deps, batch_id, Decision.FAILED)

    assert (done.was, done.recipients) == (BatchState.HELD, 3)
    assert _recipients(world, campaign_id) == {
        ("failed", "operator", "resolved by an operator as failed")
    }
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.DONE


def test_a_held_batch_cannot_be_resolved_as_sent_and_is_left_untouched(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world, 3)
    _held(world, campaign_id, batch_id)

    with pytest.raises(IllegalTransitionError, match=r"never sent.*--failed.*batch resend"):
        resolve_batch(world.deps, batch_id, Decision.SENT)

    assert _batch(world, batch_id)[0] == "held"
    assert {r[0] for r in _recipients(world, campaign_id)} == {"queued"}
    with world.deps.db.transaction() as conn:
        assert audit.for_batch(conn, batch_id) == []


def test_an_unknown_batch_still_being_reconciled_is_not_resolved(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world)
    _unknown(world, batch_id, looked=False)

    with pytest.raises(IllegalTransitionError, match="still being looked for"):
        resolve_batch(world.deps, batch_id, Decision.FAILED)

    assert _batch(world, batch_id)[:2] == ("unknown", "pending")
    assert {r[0] for r in _recipients(world, campaign_id)} == {"unknown"}


def test_a_batch_that_is_not_unknown_or_held_is_not_resolved(world: World) -> None:
    _, (batch_id,) = _campaign(world)

    with pytest.raises(IllegalTransitionError, match="is pending; only unknown or held"):
        resolve_batch(world.deps, batch_id, Decision.FAILED)


def test_a_batch_of_a_cancelled_campaign_is_not_resolved(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world)
    _unknown(world, batch_id)
    operate.cancel_campaign(world.deps, campaign_id)

    with pytest.raises(IllegalTransitionError, match="cancelled"):
        resolve_batch(world.deps, batch_id, Decision.SENT)


def test_an_unknown_batch_id_is_not_found(world: World) -> None:
    with pytest.raises(NotFoundError, match="no batch 987654"):
        resolve_batch(world.deps, 987654, Decision.SENT)


@pytest.fixture
def small_batches(database: Database) -> World:
    """Batches of two recipients, so that a campaign of a few has several."""
    return make_world(database, batch_size=2)


def test_a_campaign_keeps_needing_attention_while_another_batch_is_stuck(
    small_batches: World,
) -> None:
    world = small_batches
    campaign_id, (first, second) = _campaign(world, 4)
    _unknown(world, first)
    _unknown(world, second)

    resolve_batch(world.deps, first, Decision.SENT)
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.NEEDS_ATTENTION

    resolve_batch(world.deps, second, Decision.FAILED)
    assert operate.campaign_status(world.deps, campaign_id).state is CampaignState.DONE
