"""Campaigns over time: scheduled starts, pause and resume, cancel, provider-side scheduling,
and batches that wait out a provider's transient answers."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.services import campaigns as operate
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import (
    batch_states,
    batches_of,
    fault_on_send,
    plain_mobiles,
    recipient_rows,
    submissions,
    wait_settled,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration


def _enqueue(deps: Deps, marker: str, count: int, **kw: Any) -> int:
    request = CampaignRequest(
        account="sandbox-smsmode", text=f"Life {marker}", recipients=plain_mobiles(count), **kw
    )
    return enqueue(deps, request)


def test_a_scheduled_campaign_sends_nothing_before_its_time_then_everything(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    send_at = datetime.now(UTC) + timedelta(seconds=3)
    campaign_id = _enqueue(deps, marker, 12, send_at=send_at)

    time.sleep(1.5)  # several sweeps before its time
    assert batches_of(deps, campaign_id) == []
    assert submissions(sandbox, marker) == []

    assert wait_settled(deps, campaign_id).by_status == {RecipientStatus.DELIVERED: 12}
    (accepted,) = submissions(sandbox, marker)
    assert datetime.fromisoformat(accepted["accepted_at"]) >= send_at


def test_a_paused_campaign_sends_no_new_batch_until_resumed(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    campaign_id = _enqueue(deps, marker, 3000, send_at=datetime.now(UTC) + timedelta(seconds=2))
    operate.pause_campaign(deps, campaign_id)
    time.sleep(3)  # past its time, with sweeps
    assert submissions(sandbox, marker) == []

    operate.resume_campaign(deps, campaign_id)

    assert wait_settled(deps, campaign_id).by_status == {RecipientStatus.DELIVERED: 3000}
    assert len(submissions(sandbox, marker)) == 3


def test_cancelling_a_scheduled_campaign_cancels_every_recipient(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    campaign_id = _enqueue(deps, marker, 7, send_at=datetime.now(UTC) + timedelta(hours=1))
    assert operate.cancel_campaign(deps, campaign_id) == 7
    assert {r["status"] for r in recipient_rows(deps, campaign_id)} == {"cancelled"}
    assert operate.campaign_status(deps, campaign_id).state == "cancelled"


def test_provider_scheduling_hands_the_send_time_to_smsmode_and_cancel_deletes_it_there(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    send_at = datetime(2030, 6, 1, 8, 30, tzinfo=UTC)  # 10:30 in Paris (summer time)
    campaign_id = _enqueue(deps, marker, 5, send_at=send_at, options={"provider_scheduling": True})
    wait_until(
        lambda: batch_states(deps, campaign_id) == ["submitted"],
        what="batch handed to the provider",
    )
    (accepted,) = submissions(sandbox, marker)
    assert datetime.fromisoformat(accepted["scheduled_for"]) == send_at

    assert operate.cancel_campaign(deps, campaign_id) == 5

    assert submissions(sandbox, marker)[0]["deleted"] is True
    assert {r["status"] for r in recipient_rows(deps, campaign_id)} == {"cancelled"}
    assert batch_states(deps, campaign_id) == ["cancelled"]


def test_a_batch_that_keeps_failing_transiently_keeps_waiting_and_is_sent_once_it_can_be(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault = fault_on_send(sandbox, marker, {"type": "code", "code": "31"})
    campaign_id = _enqueue(deps, marker, 4)
    # More transient answers than the six that used to hold a batch for an operator.
    wait_until(
        lambda: any(b["retries"] >= 7 for b in batches_of(deps, campaign_id)),
        what="seven transient answers",
    )
    (batch,) = batches_of(deps, campaign_id)
    assert batch["state"] in ("pending", "claimed", "sending")
    assert {r["status"] for r in recipient_rows(deps, campaign_id)} == {"queued"}
    assert operate.campaign_status(deps, campaign_id).state == "running"

    sandbox.delete(f"/_sandbox/faults/{fault}")

    assert wait_settled(deps, campaign_id).by_status == {RecipientStatus.DELIVERED: 4}
    assert len(submissions(sandbox, marker)) == 1
    (batch,) = batches_of(deps, campaign_id)
    assert batch["attempts"] == 1
