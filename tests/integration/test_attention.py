"""A campaign is ``done`` only when every recipient is final; a held or unknown batch, or an
unknown recipient, leaves it ``needs_attention`` with counts, and a batch that comes back to
life takes it back to ``running`` (docs/design-rules.md 1.10). Service layer on real
PostgreSQL, with the World's clock and MockTransport provider."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy import event, text

from dispatcher.domain.statuses import CampaignState
from dispatcher.errors import IllegalTransitionError
from dispatcher.persistence import campaigns, reconcile
from dispatcher.persistence.database import Database
from dispatcher.services import callbacks, plan, submit, track
from dispatcher.services import campaigns as operate
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World, make_world
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

NOTHING = {"held_batches": 0, "unknown_batches": 0, "unknown_recipients": 0}


def _campaign(world: World, count: int = 4) -> tuple[int, list[int]]:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(count))
    )
    return campaign_id, plan.plan_campaign(world.deps, campaign_id)


def _state(world: World, campaign_id: int) -> CampaignState:
    return operate.campaign_status(world.deps, campaign_id).state


def _numbers(world: World, campaign_id: int, seq: int | None = None) -> list[str]:
    sql = "SELECT msisdn FROM recipients WHERE campaign_id = :c"
    if seq is not None:
        sql += " AND batch_seq = :s"
    with world.deps.db.transaction() as conn:
        found = conn.execute(text(sql + " ORDER BY row_no"), {"c": campaign_id, "s": seq})
        return list(found.scalars())


def _seq(world: World, batch_id: int) -> int:
    with world.deps.db.transaction() as conn:
        return int(
            conn.execute(
                text("SELECT seq FROM batches WHERE id = :b"), {"b": batch_id}
            ).scalar_one()
        )


def _send_and_deliver(world: World, campaign_id: int, batch_id: int) -> None:
    """Accepted, then one poll whose reports are all final (sMsmode 11, delivered)."""
    numbers = _numbers(world, campaign_id, _seq(world, batch_id))
    world.answer(f"0 | Accepted | ok{batch_id}")
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    world.answer(" | ".join(f"{n} 11" for n in numbers))
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.FINISHED


def _hold_over_the_limit(world: World, campaign_id: int, batch_id: int) -> None:
    """As if the account's batch size had been lowered since planning: held, nothing sent."""
    with world.deps.db.transaction() as conn:
        conn.execute(text("UPDATE campaigns SET method = 'GET' WHERE id = :c"), {"c": campaign_id})
    world.deps.settings.accounts["mock"].batch_size = 2
    try:
        assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.HELD
    finally:
        world.deps.settings.accounts["mock"].batch_size = None


def _unplaced(world: World, batch_id: int) -> None:
    """An unknown batch keeps its campaign running while reconciliation looks for it at the
    provider (services/reconcile.py); this ends the look as two absent reads would."""
    with world.deps.db.transaction() as conn:
        reconcile.settle(conn, batch_id, "unplaced", {"event": "not-found"})
        campaign_id = conn.execute(
            text("SELECT campaign_id FROM batches WHERE id = :b"), {"b": batch_id}
        ).scalar_one()
        campaigns.finish_if_settled(conn, campaign_id)


@pytest.fixture
def small_batches(database: Database) -> World:
    """Batches of two recipients, so that a campaign of a few has several."""
    return make_world(database, batch_size=2)


def test_a_campaign_whose_every_recipient_is_final_is_done(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world)

    _send_and_deliver(world, campaign_id, batch_id)

    progress = operate.campaign_status(world.deps, campaign_id)
    assert (progress.state, progress.attention) == (CampaignState.DONE, NOTHING)


def test_a_held_batch_leaves_its_campaign_needing_attention_with_counts(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world, 5)

    _hold_over_the_limit(world, campaign_id, batch_id)

    progress = operate.campaign_status(world.deps, campaign_id)
    assert progress.state is CampaignState.NEEDS_ATTENTION
    assert progress.as_dict()["attention"] == {**NOTHING, "held_batches": 1}


def test_an_unknown_batch_leaves_its_campaign_needing_attention_with_counts(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world, 3)
    world.answer("internal", status=500)

    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.UNKNOWN
    _unplaced(world, batch_id)

    progress = operate.campaign_status(world.deps, campaign_id)
    assert progress.state is CampaignState.NEEDS_ATTENTION
    assert progress.attention == {**NOTHING, "unknown_batches": 1, "unknown_recipients": 3}


def test_a_campaign_with_an_unknown_batch_is_not_done_when_its_other_batches_finish(
    small_batches: World,
) -> None:
    world = small_batches
    campaign_id, (first, second) = _campaign(world, 4)
    world.answer("internal", status=500)
    submit.submit_batch(world.deps, first)
    _unplaced(world, first)

    _send_and_deliver(world, campaign_id, second)

    assert _state(world, campaign_id) is CampaignState.NEEDS_ATTENTION


def test_an_unknown_batch_revived_by_a_callback_runs_again_and_is_done_once_final(
    world: World,
) -> None:
    campaign_id, (batch_id,) = _campaign(world, 2)
    first, second = _numbers(world, campaign_id)
    world.answer("internal", status=500)
    submit.submit_batch(world.deps, batch_id)

    # The provider did accept it: a report naming our reference (refClient) says so.
    callbacks.apply_callback(
        world.deps,
        "mock",
        {"numero": first, "statut": "13", "smsID": "found1", "refClient": f"b{batch_id}"},
    )
    assert _state(world, campaign_id) is CampaignState.RUNNING

    world.answer(f"{first} 11 | {second} 11")
    track.poll_batch(world.deps, batch_id)
    assert _state(world, campaign_id) is CampaignState.DONE


def test_an_operators_resend_of_a_held_batch_runs_the_campaign_again(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world, 3)
    _hold_over_the_limit(world, campaign_id, batch_id)

    operate.resend_batch(world.deps, batch_id)

    assert _state(world, campaign_id) is CampaignState.RUNNING
    assert world.publisher.submitted[-1] == batch_id


def test_an_unknown_recipient_left_in_a_finished_batch_keeps_its_campaign_from_done(
    world: World,
) -> None:
    campaign_id, (batch_id,) = _campaign(world, 3)
    with world.deps.db.transaction() as conn:  # as a horizon would leave a reconciled batch
        conn.execute(text("UPDATE batches SET state = 'done' WHERE id = :b"), {"b": batch_id})
        conn.execute(
            text(
                "UPDATE recipients SET status = CASE WHEN row_no = 1 THEN 'unknown' "
                "ELSE 'delivered' END WHERE campaign_id = :c"
            ),
            {"c": campaign_id},
        )
        moved = campaigns.finish_if_settled(conn, campaign_id)

    assert moved is CampaignState.NEEDS_ATTENTION
    assert operate.campaign_status(world.deps, campaign_id).attention == {
        **NOTHING,
        "unknown_recipients": 1,
    }


def test_a_campaign_needing_attention_can_be_cancelled(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world, 3)
    _hold_over_the_limit(world, campaign_id, batch_id)

    assert operate.cancel_campaign(world.deps, campaign_id) == 3

    assert _state(world, campaign_id) is CampaignState.CANCELLED


def test_a_batch_of_a_cancelled_campaign_is_not_resent(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world, 3)
    world.answer("internal", status=500)
    submit.submit_batch(world.deps, batch_id)
    operate.cancel_campaign(world.deps, campaign_id)

    with pytest.raises(IllegalTransitionError):
        operate.resend_batch(world.deps, batch_id)


def test_resuming_a_campaign_whose_batches_ended_while_paused_settles_it(world: World) -> None:
    campaign_id, (batch_id,) = _campaign(world, 2)
    world.answer("0 | Accepted | paused1")
    submit.submit_batch(world.deps, batch_id)
    operate.pause_campaign(world.deps, campaign_id)
    numbers = _numbers(world, campaign_id)
    world.answer(" | ".join(f"{n} 11" for n in numbers))
    track.poll_batch(world.deps, batch_id)  # reports still come while paused

    operate.resume_campaign(world.deps, campaign_id)

    assert _state(world, campaign_id) is CampaignState.DONE


def test_the_last_two_batches_finishing_together_leave_the_campaign_done(
    small_batches: World,
) -> None:
    world = small_batches
    campaign_id, (first, second) = _campaign(world, 4)
    finish = text("UPDATE batches SET state = 'done' WHERE id = :b")
    outcome: list[CampaignState | None] = []

    def finish_second() -> None:
        with world.deps.db.transaction() as conn:
            conn.execute(finish, {"b": second})
            outcome.append(campaigns.finish_if_settled(conn, campaign_id))

    with world.deps.db.transaction() as conn:
        conn.execute(finish, {"b": first})
        campaigns.finish_if_settled(conn, campaign_id)  # sees the second still pending
        other = threading.Thread(target=finish_second)
        other.start()
        # Commit only once the other settle has run, or waits for this one (the race).
        wait_until(lambda: outcome or _waiting_on_a_lock(world), timeout=10, what="other settle")
    other.join(timeout=10)

    assert _state(world, campaign_id) is CampaignState.DONE


def _waiting_on_a_lock(world: World) -> bool:
    with world.deps.db.engine.connect() as conn:
        waiting = conn.execute(
            text(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted "
                "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())"
            )
        ).scalar_one()
    return bool(waiting)


@contextmanager
def _statements(world: World) -> Iterator[list[tuple[str, Any]]]:
    seen: list[tuple[str, Any]] = []

    def record(*args: Any) -> None:
        seen.append((args[2], args[3]))  # (conn, cursor, statement, parameters, ...)

    event.listen(world.deps.db.engine, "before_cursor_execute", record)
    try:
        yield seen
    finally:
        event.remove(world.deps.db.engine, "before_cursor_execute", record)


def _scans(plan: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(node type, relation or index) of every scan in an EXPLAIN (FORMAT JSON) plan."""
    if "Relation Name" in plan or "Index Name" in plan:
        yield plan["Node Type"], plan.get("Index Name", plan.get("Relation Name", ""))
    for child in plan.get("Plans", []):
        yield from _scans(child)


def test_settling_reads_the_campaigns_own_recipients_only(world: World) -> None:
    campaign_id, _ = _campaign(world, 10_000)
    # Earlier campaigns, in partitions of their own (migration 0021), some of whose recipients
    # are unknown: the statement must not read them.
    with world.deps.db.transaction() as conn:
        for earlier in (900_001, 900_002, 900_003):
            conn.execute(
                text(
                    f"CREATE TABLE recipients_c{earlier} PARTITION OF recipients "
                    f"FOR VALUES IN ({earlier})"
                )
            )
        conn.execute(
            text(
                "INSERT INTO recipients (campaign_id, batch_seq, row_no, msisdn, status) "
                "SELECT 900001 + g % 3, g / 1000, g, '336' || g, "
                "CASE WHEN g % 50 = 0 THEN 'unknown' ELSE 'delivered' END "
                "FROM generate_series(1, 30000) g"
            )
        )
        conn.execute(
            text("UPDATE batches SET state = 'done' WHERE campaign_id = :c"), {"c": campaign_id}
        )
    with world.deps.db.engine.connect() as conn:
        conn.execute(text("ANALYZE recipients"))
        conn.execute(text("ANALYZE batches"))
        conn.commit()

    with _statements(world) as seen, world.deps.db.transaction() as conn:
        campaigns.finish_if_settled(conn, campaign_id)
    statement, parameters = next((s, p) for s, p in seen if s.startswith("WITH target"))
    with world.deps.db.transaction() as conn:
        explained = conn.exec_driver_sql("EXPLAIN (FORMAT JSON) " + statement, parameters)
        (plan,) = explained.scalar_one()

    own = f"recipients_c{campaign_id}"
    read = {name for _, name in _scans(plan["Plan"]) if name.startswith("recipients")}
    assert read, plan
    assert {n for n in read if n != own and not n.startswith(own + "_")} == set(), plan
