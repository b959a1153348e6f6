"""A worker killed (SIGKILL, as a crash or the OOM killer would) while its request is in
flight: the batch was possibly sent, so the reaper marks it unknown and nothing re-sends it;
reconciliation then finds it in sMsmode's list of sent messages, and it is tracked."""

from __future__ import annotations

import time

import httpx
import pytest

from dispatcher.local.stack import LocalStack
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import (
    batch_states,
    batches_of,
    fault_on_send,
    plain_mobiles,
    recipient_rows,
    submissions,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def test_a_batch_whose_worker_died_while_sending_is_never_resent_and_is_found_at_the_provider(
    deps: Deps, stack: LocalStack, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "accept_then_timeout", "delay": 30})
    campaign_id = enqueue(
        deps,
        CampaignRequest(
            account="sandbox-patient", text=f"Crash {marker}", recipients=plain_mobiles(20)
        ),
    )
    wait_until(
        lambda: batch_states(deps, campaign_id) == ["sending"], timeout=30, what="batch sending"
    )
    workers = [p for p in stack.processes if p.name.startswith("worker") and p.alive()]
    for worker in workers:
        worker.kill()
    killed = time.monotonic()
    stack.start_worker(f"worker-after-crash-{marker}")

    # The reaper makes it unknown (the evidence's first entry), then reconciliation places it.
    wait_until(
        lambda: [b["reconcile_state"] for b in batches_of(deps, campaign_id)] == ["placed"],
        timeout=60,
        what="reaper, then reconciliation",
    )
    print(f"\nworker killed while sending: batch placed {time.monotonic() - killed:.1f} s later")
    time.sleep(3)  # several sweeps: none may send the batch again

    (batch,) = batches_of(deps, campaign_id)
    (accepted,) = submissions(sandbox, marker)
    assert (batch["provider_ref"], batch["attempts"]) == (accepted["id"], 1)
    assert (batch["evidence"][0]["event"], batch["evidence"][0]["reason"]) == (
        "unknown",
        "worker lost while sending",
    )
    assert "unknown" not in {r["status"] for r in recipient_rows(deps, campaign_id)}
