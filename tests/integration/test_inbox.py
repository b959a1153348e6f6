"""Applying recorded callbacks: a page per transaction, keyset by id, stragglers caught."""

from __future__ import annotations

from urllib.parse import urlencode

import pytest
from sqlalchemy import text

from dispatcher.persistence.database import Database
from dispatcher.services import plan, submit
from dispatcher.services.callbacks import drain_inbox
from dispatcher.services.enqueue import CampaignRequest, enqueue
from dispatcher.settings import Timings
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World, make_world

pytestmark = pytest.mark.integration


@pytest.fixture
def world(database: Database) -> World:
    made = make_world(database)
    made.deps.settings.timings = Timings(callback_settle_seconds=0)
    with database.transaction() as conn:
        conn.execute(text("DELETE FROM callback_inbox"))
        conn.execute(text("UPDATE callback_cursor SET last_id = 0"))
    return made


def _submitted(world: World, count: int, ref: str) -> list[str]:
    numbers = plain_mobiles(count)
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=numbers)
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    world.answer(f"0 | Accepted | {ref}")
    submit.submit_batch(world.deps, batch_id)
    return numbers


def _record(world: World, rows: list[dict[str, str]], ids: list[int] | None = None) -> None:
    with world.deps.db.transaction() as conn:
        for n, params in enumerate(rows):
            if ids is None:
                conn.execute(
                    text("INSERT INTO callback_inbox (account, params) VALUES ('mock', :p)"),
                    {"p": urlencode(params)},
                )
            else:
                conn.execute(
                    text(
                        "INSERT INTO callback_inbox (id, account, params) "
                        "OVERRIDING SYSTEM VALUE VALUES (:i, 'mock', :p)"
                    ),
                    {"i": ids[n], "p": urlencode(params)},
                )


def _statuses(world: World, numbers: list[str]) -> list[str]:
    with world.deps.db.transaction() as conn:
        found = dict(
            conn.execute(
                text("SELECT msisdn, status FROM recipients WHERE msisdn = ANY(:n)"), {"n": numbers}
            ).all()
        )
    return [found[n] for n in numbers]


def _left(world: World) -> int:
    with world.deps.db.transaction() as conn:
        return int(conn.execute(text("SELECT count(*) FROM callback_inbox")).scalar_one())


def test_recorded_callbacks_are_applied_and_the_inbox_emptied(world: World) -> None:
    numbers = _submitted(world, 3, "inbox1")
    _record(world, [{"numero": n, "statut": "11", "smsID": "inbox1"} for n in numbers])
    report = drain_inbox(world.deps)
    assert (report.recorded, report.applied, report.malformed) == (3, 3, 0)
    assert _statuses(world, numbers) == ["delivered"] * 3
    assert _left(world) == 0


def test_pages_follow_the_cursor(world: World) -> None:
    numbers = _submitted(world, 5, "inbox2")
    _record(world, [{"numero": n, "statut": "13", "smsID": "inbox2"} for n in numbers])
    first = drain_inbox(world.deps, page=2, pages=1)
    rest = drain_inbox(world.deps, page=2)
    assert (first.recorded, rest.recorded) == (2, 3)
    assert _left(world) == 0


def test_a_row_committed_behind_the_cursor_is_still_applied(world: World) -> None:
    numbers = _submitted(world, 2, "inbox3")
    _record(world, [{"numero": numbers[0], "statut": "11", "smsID": "inbox3"}])
    drain_inbox(world.deps)  # the cursor passes the first row's id
    world.deps.cache.values.clear()  # the once-a-minute straggler pass is due again
    with world.deps.db.transaction() as conn:
        cursor = conn.execute(text("SELECT last_id FROM callback_cursor")).scalar_one()
    late = {"numero": numbers[1], "statut": "11", "smsID": "inbox3"}
    _record(world, [late], ids=[cursor])  # the id of the applied (deleted) row: behind the cursor
    drain_inbox(world.deps)
    assert _statuses(world, numbers) == ["delivered", "delivered"]


def test_rows_younger_than_the_settle_time_wait(world: World) -> None:
    world.deps.settings.timings = Timings(callback_settle_seconds=3600)
    numbers = _submitted(world, 1, "inbox4")
    _record(world, [{"numero": numbers[0], "statut": "11", "smsID": "inbox4"}])
    assert drain_inbox(world.deps).recorded == 0
    assert _left(world) == 1


def test_a_row_that_no_longer_parses_is_dropped_and_counted(world: World) -> None:
    _record(world, [{"numero": "33600000000"}])  # no statut: refused since it was received
    report = drain_inbox(world.deps)
    assert (report.recorded, report.malformed) == (1, 1)
    assert _left(world) == 0


def test_reports_of_one_message_in_any_order_keep_the_final_one(database: Database) -> None:
    world = make_world(database, provider="bulkgw", options={"dlr": True})
    world.deps.settings.timings = Timings(callback_settle_seconds=0)
    (number,) = plain_mobiles(1)
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=[number], sender="SHOP")
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    world.answer(f"1701|{number}|m-{campaign_id}")
    submit.submit_batch(world.deps, batch_id)
    final = {"msgid": f"m-{campaign_id}", "destination": number, "status": "DELIVRD", "err": "000"}
    _record(world, [final, {**final, "status": "ACCEPTD"}])  # the late "accepted" comes second

    drain_inbox(world.deps)

    assert _statuses(world, [number]) == ["delivered"]


def test_a_report_under_another_id_finds_its_batch_by_our_reference(world: World) -> None:
    numbers = _submitted(world, 2, "inbox5")
    with world.deps.db.transaction() as conn:
        batch_id = conn.execute(
            text("SELECT id FROM batches WHERE provider_ref = 'inbox5'")
        ).scalar_one()
    _record(
        world,
        [
            {
                "numero": numbers[1],
                "statut": "11",
                "smsID": "per-message-9",
                "refClient": f"b{batch_id}",
            }
        ],
    )
    drain_inbox(world.deps)
    assert _statuses(world, numbers) == ["submitted", "delivered"]
