"""The bulk HTTP gateway through real workers and the sandbox: GET batches kept under the URL
limit, per-destination answers, 1709 retried, 1715 never re-sent, reports pushed to the HTTP
service."""

from __future__ import annotations

import time

import httpx
import pytest

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.services.campaigns import campaign_status
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.helpers import (
    batch_states,
    batches_of,
    fault_on_send,
    mobiles,
    plain_mobiles,
    recipient_rows,
    submissions,
    wait_settled,
)
from tests.support.waiting import wait_until

pytestmark = pytest.mark.integration

PROVIDER = "bulkgw"


def _campaign(deps: Deps, marker: str, numbers: list[str], account: str = "sandbox-bulkgw") -> int:
    return enqueue(
        deps,
        CampaignRequest(account=account, text=f"Hello {marker}", recipients=numbers, sender="SHOP"),
    )


def test_a_campaign_completes_with_pushed_reports_and_urls_under_the_limit(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    delivered, expired = plain_mobiles(400), mobiles(10, suffix="96")
    campaign_id = _campaign(deps, marker, delivered + expired)

    wait_settled(deps, campaign_id)
    final = wait_until(lambda: _all_final(deps, campaign_id), what="pushed reports")

    assert campaign_status(deps, campaign_id).state == "done"
    assert final == {RecipientStatus.DELIVERED: 400, RecipientStatus.EXPIRED: 10}
    accepted = submissions(sandbox, marker, PROVIDER)
    assert sum(len(s["numbers"]) for s in accepted) == 410
    assert max(len(s["numbers"]) for s in accepted) <= deps.adapters("sandbox-bulkgw").batch_size()
    ids = {r["provider_message_id"] for r in recipient_rows(deps, campaign_id)}
    assert None not in ids
    assert len(ids) == 410


def test_1709_is_retried_and_then_accepted(deps: Deps, sandbox: httpx.Client, marker: str) -> None:
    fault_on_send(sandbox, marker, {"type": "code", "code": "1709"}, provider=PROVIDER, times=1)
    campaign_id = _campaign(deps, marker, plain_mobiles(6))
    wait_until(lambda: _all_final(deps, campaign_id), what="reports")
    (batch,) = batches_of(deps, campaign_id)
    assert (batch["attempts"], batch["retries"]) == (1, 1)  # a transient answer is no attempt
    assert len(submissions(sandbox, marker, PROVIDER)) == 1


def test_1715_is_unknown_and_never_resubmitted(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "code", "code": "1715"}, provider=PROVIDER)
    campaign_id = _campaign(deps, marker, plain_mobiles(4))
    wait_until(lambda: batch_states(deps, campaign_id) == ["unknown"], what="batch unknown")
    time.sleep(3)
    rows = recipient_rows(deps, campaign_id)
    assert {(r["status"], r["provider_code"]) for r in rows} == {("unknown", "1715")}
    assert batches_of(deps, campaign_id)[0]["attempts"] == 1


def test_any_other_code_is_permanent_and_never_retried(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "code", "code": "1725"}, provider=PROVIDER)
    campaign_id = _campaign(deps, marker, plain_mobiles(4))
    assert wait_settled(deps, campaign_id).by_status == {RecipientStatus.FAILED: 4}
    assert batches_of(deps, campaign_id)[0]["attempts"] == 1


def test_a_timeout_after_accepting_is_unknown_and_sent_once(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "accept_then_timeout", "delay": 4}, provider=PROVIDER)
    campaign_id = _campaign(deps, marker, plain_mobiles(5), account="sandbox-bulkgw-slow")
    wait_until(lambda: batch_states(deps, campaign_id) == ["unknown"], what="batch unknown")
    time.sleep(5)
    assert len(submissions(sandbox, marker, PROVIDER)) == 1


def _all_final(deps: Deps, campaign_id: int) -> dict[RecipientStatus, int] | None:
    progress = campaign_status(deps, campaign_id)
    return dict(progress.by_status) if progress.final == progress.total else None
