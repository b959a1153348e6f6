"""An operator finds, understands and resolves a stuck batch from the command line alone:
``dispatcher campaigns``, ``batches``, ``batch show``, ``batch resolve``, ``batch resend``
(and the older ``resend-batch``). The real ``dispatcher`` entry point runs in a subprocess on
the module's own database, where the World's services made the campaigns (no workers touch
them, so what each command reads is what the test made)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text

from dispatcher.local.servers import ServerUrls
from dispatcher.persistence import audit, campaigns, reconcile
from dispatcher.services import campaigns as operate
from dispatcher.services import plan, submit
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import plain_mobiles
from tests.integration.world import World

pytestmark = pytest.mark.integration

ENTRY_POINT = Path(sys.executable).with_name("dispatcher")


def _cli(
    servers: ServerUrls, world: World, cwd: Path, *args: str
) -> subprocess.CompletedProcess[str]:
    """``dispatcher ...`` as an operator runs it, on the test's database."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DISPATCHER_")}
    env |= {
        "DISPATCHER_DATABASE_URL": world.deps.db.url,
        "DISPATCHER_BROKER_URL": servers.redis_url,
    }
    return subprocess.run(
        [str(ENTRY_POINT), *args],
        env=env, cwd=cwd, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip


def _json(done: subprocess.CompletedProcess[str]) -> Any:
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _campaign(world: World, count: int = 3) -> tuple[int, int]:
    campaign_id = enqueue(
        world.deps, CampaignRequest(account="mock", text="Hi", recipients=plain_mobiles(count))
    )
    (batch_id,) = plan.plan_campaign(world.deps, campaign_id)
    return campaign_id, batch_id


def _unknown_batch(world: World) -> tuple[int, int]:
    """A campaign whose one batch is unknown (a 500 after the request left) and which
    reconciliation could not place: it waits for an operator."""
    campaign_id, batch_id = _campaign(world)
    world.answer("internal", status=500)
    assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.UNKNOWN
    with world.deps.db.transaction() as conn:
        reconcile.settle(conn, batch_id, "unplaced", {"event": "not-found", "reads": 2})
        campaigns.finish_if_settled(conn, campaign_id)
    return campaign_id, batch_id


def _held_batch(world: World) -> tuple[int, int]:
    """As if the account's batch size had been lowered since planning: held, nothing sent."""
    campaign_id, batch_id = _campaign(world)
    with world.deps.db.transaction() as conn:
        conn.execute(text("UPDATE campaigns SET method = 'GET' WHERE id = :c"), {"c": campaign_id})
    world.deps.settings.accounts["mock"].batch_size = 2
    try:
        assert submit.submit_batch(world.deps, batch_id) is submit.SubmitStep.HELD
    finally:
        world.deps.settings.accounts["mock"].batch_size = None
    return campaign_id, batch_id


def test_campaigns_lists_newest_first_with_each_ones_counts(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    older, _ = _unknown_batch(world)
    newer, _ = _campaign(world, 5)

    listed = _json(_cli(servers, world, tmp_path, "campaigns", "--json", "--limit", "2"))

    assert [c["id"] for c in listed] == [newer, older]
    assert (listed[0]["state"], listed[0]["size"], listed[0]["counts"]["queued"]) == (
        "running",
        5,
        5,
    )
    assert (listed[1]["state"], listed[1]["counts"]["unknown"]) == ("needs_attention", 3)


def test_campaigns_filters_by_state(world: World, servers: ServerUrls, tmp_path: Path) -> None:
    stuck, _ = _unknown_batch(world)
    waiting, _ = _campaign(world)

    listed = _json(
        _cli(servers, world, tmp_path, "campaigns", "--json", "--state", "needs_attention")
    )

    ids = [c["id"] for c in listed]
    assert stuck in ids
    assert waiting not in ids
    assert {c["state"] for c in listed} == {"needs_attention"}


def test_campaigns_prints_a_table_with_one_row_per_campaign(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    campaign_id, _ = _unknown_batch(world)

    done = _cli(servers, world, tmp_path, "campaigns", "--limit", "1")

    assert done.returncode == 0, done.stderr
    header, row = done.stdout.splitlines()[:2]
    assert header.split()[:3] == ["id", "state", "account"]
    assert row.split()[:3] == [str(campaign_id), "needs_attention", "mock"]


def test_batches_lists_those_waiting_for_an_operator_by_default(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    _, unknown = _unknown_batch(world)
    _, held = _held_batch(world)
    _, pending = _campaign(world)

    listed = _json(_cli(servers, world, tmp_path, "batches", "--json"))

    states = {b["id"]: b["state"] for b in listed}
    assert (states.get(unknown), states.get(held)) == ("unknown", "held")
    assert pending not in states


def test_batches_filters_by_state_and_campaign(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    campaign_id, batch_id = _campaign(world)
    _unknown_batch(world)

    listed = _json(
        _cli(servers, world, tmp_path, "batches", "--json", "--state", "pending",
             "--campaign", str(campaign_id))
    )  # fmt: skip

    assert [(b["id"], b["state"], b["campaign_id"]) for b in listed] == [
        (batch_id, "pending", campaign_id)
    ]


def test_batch_show_gives_the_answer_evidence_and_next_step(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    campaign_id, batch_id = _unknown_batch(world)

    shown = _cli(servers, world, tmp_path, "batch", "show", str(batch_id))
    report = _json(_cli(servers, world, tmp_path, "batch", "show", str(batch_id), "--json"))

    assert shown.returncode == 0, shown.stderr
    assert f"batch {batch_id}: unknown" in shown.stdout
    assert '"event": "not-found"' in shown.stdout
    assert f"dispatcher batch resolve {batch_id}" in shown.stdout
    assert (report["campaign_id"], report["recipients"]) == (campaign_id, {"unknown": 3})
    assert report["provider_answer"]["outcome"] == "unknown"
    assert report["reconciliation"]["state"] == "unplaced"
    assert [e["event"] for e in report["reconciliation"]["evidence"]] == ["unknown", "not-found"]


def test_batch_resolve_records_the_decision_and_show_then_lists_it(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    campaign_id, batch_id = _unknown_batch(world)

    resolved = _cli(
        servers, world, tmp_path, "batch", "resolve", str(batch_id), "--sent",
        "--reason", "seen in the provider console",
    )  # fmt: skip
    report = _json(_cli(servers, world, tmp_path, "batch", "show", str(batch_id), "--json"))

    assert resolved.returncode == 0, resolved.stderr
    assert f"campaign {campaign_id} is done" in resolved.stdout
    assert (report["state"], report["recipients"]) == ("done", {"expired": 3})
    (entry,) = report["audit"]
    assert entry["action"] == "resolved_sent"
    assert entry["actor"].startswith("os:")
    assert entry["detail"]["reason"] == "seen in the provider console"


def test_batch_resolve_refuses_a_held_batch_as_sent_in_the_products_error_style(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    _, batch_id = _held_batch(world)

    refused = _cli(servers, world, tmp_path, "batch", "resolve", str(batch_id), "--sent")

    assert refused.returncode == 2
    assert refused.stderr.startswith(f"error: batch {batch_id} is held")
    assert "--failed" in refused.stderr
    assert "Traceback" not in refused.stderr


def test_batch_resolve_without_a_decision_is_a_usage_error(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    refused = _cli(servers, world, tmp_path, "batch", "resolve", "1")

    assert refused.returncode == 2
    assert "--sent or --failed" in refused.stderr


def test_batch_show_of_an_unknown_id_says_so(
    world: World, servers: ServerUrls, tmp_path: Path
) -> None:
    refused = _cli(servers, world, tmp_path, "batch", "show", "987654")

    assert refused.returncode == 2
    assert refused.stderr.strip() == "error: no batch 987654"


@pytest.mark.parametrize("spelling", [["batch", "resend"], ["resend-batch"]])
def test_both_spellings_of_resend_queue_the_unplaced_recipients_and_are_audited(
    world: World, servers: ServerUrls, tmp_path: Path, spelling: list[str]
) -> None:
    campaign_id, batch_id = _unknown_batch(world)

    done = _cli(servers, world, tmp_path, *spelling, str(batch_id), "--i-accept-duplicates")

    assert done.returncode == 0, done.stderr
    assert "reconciliation unplaced" in done.stdout
    progress = operate.campaign_status(world.deps, campaign_id)
    assert progress.by_status == {"queued": 3}
    with world.deps.db.transaction() as conn:
        assert [e.action for e in audit.for_batch(conn, batch_id)] == ["resent"]
