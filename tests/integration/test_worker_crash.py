"""A worker killed (SIGKILL, as a crash or the OOM killer would) while its request is in
flight: the batch was possibly sent, so the reaper marks it unknown and nothing re-sends it."""

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


def test_a_batch_whose_worker_died_while_sending_becomes_unknown_and_is_not_resent(
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
    stack.start_worker(f"worker-after-crash-{marker}")

    wait_until(lambda: batch_states(deps, campaign_id) == ["unknown"], timeout=40, what="reaper")
    time.sleep(3)  # several sweeps: none may send the batch again

    (batch,) = batches_of(deps, campaign_id)
    assert (batch["state"], batch["attempts"], batch["last_message"]) == (
        "unknown",
        1,
        "worker lost while sending",
    )
    assert {r["status"] for r in recipient_rows(deps, campaign_id)} == {"unknown"}
    assert len(submissions(sandbox, marker)) == 1
