"""``dispatcher status`` through the real entry point, against a real database: words by
default, today's JSON plus ``waiting`` with ``--json``, ``--watch`` following a small real
campaign of the session stack to its end, and a lost send that reconciliation cannot place
shown as ``needs_attention`` (never ``done``) with the commands that resolve it."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

import httpx
import pytest
from sqlalchemy import text

from dispatcher.local.servers import ServerUrls
from dispatcher.local.stack import LocalStack
from dispatcher.persistence.database import Database
from dispatcher.services import campaigns as operate
from dispatcher.services import plan, reconcile, submit, track
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World

pytestmark = pytest.mark.integration

JSON_KEYS = {"id", "state", "account", "recipients", "final", "attention", "by_status",
             "batches", "dropped", "waiting"}  # fmt: skip


@pytest.fixture(autouse=True)
def _only_this_tests_batches(database: Database) -> None:
    """The module's database is shared: reconciliation must take only this test's batch."""
    with database.transaction() as conn:
        conn.execute(text("UPDATE batches SET reconcile_state = 'unplaced' "
                          "WHERE reconcile_state = 'pending'"))  # fmt: skip


def _run(
    env: Mapping[str, str], *args: str, timeout: float = 60
) -> subprocess.CompletedProcess[str]:
    """``dispatcher ...`` as an operator runs it, with only the given settings."""
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    return subprocess.run(
        [str(Path(sys.executable).with_name("dispatcher")), *args],
        env=clean | dict(env), capture_output=True, text=True, timeout=timeout, check=False,
    )  # fmt: skip


def _on_world(servers: ServerUrls, world: World) -> dict[str, str]:
    return {
        "DISPATCHER_DATABASE_URL": world.deps.db.url,
        "DISPATCHER_BROKER_URL": servers.redis_url,
    }


def _campaign(world: World, count: int) -> tuple[int, int]:
    campaign_id = enqueue(
        world.deps,
        CampaignRequest(account="mock", text="Hi there", recipients=plain_mobiles(count)),
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    return campaign_id, batch_id


def _delivered(world: World, count: int) -> int:
    """A campaign sent and delivered whole: done."""
    campaign_id, batch_id = _campaign(world, count)
    world.answer(f"0 | Accepted | ok{batch_id}")
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.ACCEPTED
    with world.deps.db.transaction() as conn:
        numbers = conn.execute(
            text("SELECT msisdn FROM recipients WHERE campaign_id = :c"), {"c": campaign_id}
        ).scalars()
        world.answer(" | ".join(f"{n} 11" for n in numbers))
    assert track.poll_batch(world.deps, batch_id) is track.PollStep.FINISHED
    return campaign_id


def _lost_and_unplaced(world: World, count: int) -> int:
    """A send that timed out after the request left (unknown), then absent from two reads of
    the provider's list far enough apart: reconciliation cannot place it."""
    campaign_id, batch_id = _campaign(world, count)

    def timeout(request: httpx.Request) -> httpx.Response:
        raise httpx.ReadTimeout("answer lost", request=request)

    world.answers.append(timeout)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.UNKNOWN
    for _ in range(2):
        world.answer("")  # the account's whole list, without the batch
        reconcile.reconcile_due(world.deps)
        world.clock.advance(seconds=world.deps.settings.timings.reconcile_confirm_seconds + 1)
    return campaign_id


def test_status_names_the_state_and_the_counts_in_words(world: World, servers: ServerUrls) -> None:
    campaign_id = _delivered(world, 4)

    shown = _run(_on_world(servers, world), "status", str(campaign_id))

    assert shown.returncode == 0, shown.stderr
    assert f"campaign {campaign_id}: done" in shown.stdout
    assert "4 recipients" in shown.stdout
    assert "delivered" in shown.stdout
    assert "100.0 %" in shown.stdout
    assert "batches: 1 done" in shown.stdout


def test_status_json_is_the_api_json_with_the_waiting_reasons(
    world: World, servers: ServerUrls
) -> None:
    campaign_id, _ = _campaign(world, 3)

    shown = _run(_on_world(servers, world), "status", str(campaign_id), "--json")

    assert shown.returncode == 0, shown.stderr
    found = json.loads(shown.stdout)
    assert set(found) == JSON_KEYS
    assert (found["id"], found["state"], found["by_status"]) == (campaign_id, "running",
                                                                 {"queued": 3})  # fmt: skip
    assert found["waiting"] == []


def test_a_paused_campaign_shows_who_paused_it(world: World, servers: ServerUrls) -> None:
    campaign_id, _ = _campaign(world, 2)
    env = _on_world(servers, world)
    assert _run(env, "pause", str(campaign_id)).returncode == 0

    shown = _run(env, "status", str(campaign_id))

    assert shown.returncode == 0, shown.stderr
    assert f"campaign {campaign_id}: paused" in shown.stdout
    assert "paused by os:" in shown.stdout
    assert f"dispatcher resume {campaign_id}" in shown.stdout


def test_a_send_reconciliation_cannot_place_needs_attention_and_is_never_done(
    world: World, servers: ServerUrls
) -> None:
    campaign_id = _lost_and_unplaced(world, 5)
    env = _on_world(servers, world)

    shown = _run(env, "status", str(campaign_id))
    as_json = json.loads(_run(env, "status", str(campaign_id), "--json").stdout)

    assert as_json["state"] == "needs_attention"
    assert as_json["by_status"] == {"unknown": 5}
    assert f"campaign {campaign_id}: needs_attention" in shown.stdout
    assert "1 batch waits for an operator (1 unknown)" in shown.stdout
    assert f"dispatcher batches --state unknown --campaign {campaign_id}" in shown.stderr
    assert "dispatcher batch resolve" in shown.stderr


def test_watch_exits_1_at_once_for_a_campaign_needing_attention(
    world: World, servers: ServerUrls
) -> None:
    campaign_id = _lost_and_unplaced(world, 2)

    watched = _run(_on_world(servers, world), "status", str(campaign_id), "--watch")

    assert watched.returncode == 1, watched.stderr
    assert "needs_attention" in watched.stdout


def test_status_of_a_campaign_that_does_not_exist_is_one_error_line(
    world: World, servers: ServerUrls
) -> None:
    shown = _run(_on_world(servers, world), "status", "987654321")

    assert shown.returncode == 2
    assert shown.stderr.strip() == "error: no campaign 987654321"


def test_watch_follows_a_real_campaign_until_it_is_done_and_exits_0(
    stack: LocalStack, deps: Deps, marker: str
) -> None:
    """Paused before it starts, so the watch's first line is certainly a wait (its reason
    shown); resumed, the campaign runs on the session stack and the watch ends by itself."""
    campaign_id = enqueue(
        deps,
        CampaignRequest(account="sandbox-smsmode", text=f"Hi {marker}",
                        recipients=plain_mobiles(5)),
    )  # fmt: skip
    operate.pause_campaign(deps, campaign_id, actor="os:test")
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    argv = [str(Path(sys.executable).with_name("dispatcher")), "status", str(campaign_id),
            "--watch", "--interval", "0.5"]  # fmt: skip
    with subprocess.Popen(
        argv, env=clean | stack.env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    ) as watch:
        assert watch.stdout is not None
        first = watch.stdout.readline()
        operate.resume_campaign(deps, campaign_id, actor="os:test")
        rest, errors = watch.communicate(timeout=90)

    assert watch.returncode == 0, errors
    assert f"campaign {campaign_id} paused: submitted 0/5" in first
    assert "waiting: paused by os:test" in first
    last = rest.splitlines()[-1]
    assert f"campaign {campaign_id} done: submitted 5/5 delivered 5/5" in last
