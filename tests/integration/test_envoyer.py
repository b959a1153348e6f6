"""Envoyer SMS Pro through real workers and the sandbox: batch limits by method, stats
polling, its do-not-retry errors, its request-rate limit shared by two workers, and its
STOP SMS list feeding ours."""

from __future__ import annotations

import itertools
import time
from datetime import datetime

import httpx
import pytest
from sqlalchemy import text

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.local.stack import LocalStack
from dispatcher.services import opt_outs
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

PROVIDER = "envoyer"


def _campaign(deps: Deps, marker: str, numbers: list[str], account: str = "sandbox-envoyer") -> int:
    return enqueue(
        deps,
        CampaignRequest(
            account=account, text=f"Bonjour {marker}", recipients=numbers, sender="SHOP"
        ),
    )


def test_a_campaign_completes_with_stats_by_recipient(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    delivered, failed = plain_mobiles(1400), mobiles(25, suffix="99")
    campaign_id = _campaign(deps, marker, delivered + failed)

    progress = wait_settled(deps, campaign_id)

    assert progress.by_status == {RecipientStatus.DELIVERED: 1400, RecipientStatus.FAILED: 25}
    codes = {r["msisdn"]: r["provider_code"] for r in recipient_rows(deps, campaign_id)}
    assert {codes[n] for n in delivered} == {"1"}
    assert {codes[n] for n in failed} == {"2"}
    accepted = submissions(sandbox, marker, PROVIDER)
    assert sorted(len(s["numbers"]) for s in accepted) == [425, 1000]
    assert {s["method"] for s in accepted} == {"POST"}


def test_get_batches_hold_at_most_100_recipients(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    campaign_id = _campaign(deps, marker, plain_mobiles(250), account="sandbox-envoyer-get")
    wait_settled(deps, campaign_id)
    accepted = submissions(sandbox, marker, PROVIDER)
    assert sorted(len(s["numbers"]) for s in accepted) == [50, 100, 100]
    assert {s["method"] for s in accepted} == {"GET"}


def test_not_enough_sms_fails_the_batch_without_a_retry(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "code", "code": "5"}, provider=PROVIDER)
    campaign_id = _campaign(deps, marker, plain_mobiles(9))
    assert wait_settled(deps, campaign_id).by_status == {RecipientStatus.FAILED: 9}
    (batch,) = batches_of(deps, campaign_id)
    assert (batch["attempts"], batch["last_code"]) == (1, "5")
    assert submissions(sandbox, marker, PROVIDER) == []


def test_a_timeout_after_accepting_is_unknown_and_sent_once(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "accept_then_timeout", "delay": 4}, provider=PROVIDER)
    campaign_id = _campaign(deps, marker, plain_mobiles(6), account="sandbox-envoyer-slow")
    wait_until(lambda: batch_states(deps, campaign_id) == ["unknown"], what="batch unknown")
    time.sleep(5)
    assert batches_of(deps, campaign_id)[0]["attempts"] == 1
    assert len(submissions(sandbox, marker, PROVIDER)) == 1


def test_the_request_limit_holds_across_two_workers(
    deps: Deps, stack: LocalStack, sandbox: httpx.Client, marker: str
) -> None:
    second = stack.start_worker(f"worker-envoyer-{marker}", concurrency=3)
    try:
        campaign_id = _campaign(deps, marker, plain_mobiles(500), account="sandbox-envoyer-limited")
        progress = wait_settled(deps, campaign_id, timeout=120)
    finally:
        second.stop()
    assert progress.by_status == {RecipientStatus.DELIVERED: 500}
    batches = batches_of(deps, campaign_id)
    # The provider never refused a send for its limit: each batch went once, first time.
    assert [b["attempts"] for b in batches] == [1] * 5
    assert not any("limit" in (b["last_message"] or "") for b in batches)
    times = sorted(
        datetime.fromisoformat(s["accepted_at"]) for s in submissions(sandbox, marker, PROVIDER)
    )
    for window in itertools.combinations(times, 4):  # never 4 sends within 5 seconds
        assert (window[-1] - window[0]).total_seconds() >= 5 - 0.05


def test_its_stop_list_and_ours_feed_each_other(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    numbers = plain_mobiles(3)
    stopped = numbers[0]
    wait_settled(deps, _campaign(deps, marker, numbers))  # the account has sent to them
    assert opt_outs.push_to_provider(deps, "sandbox-envoyer", [stopped]) == 1
    assert opt_outs.check_with_provider(deps, "sandbox-envoyer", stopped) is True
    with deps.db.transaction() as conn:  # forget it on our side: the provider must tell us again
        conn.execute(text("DELETE FROM opt_outs WHERE msisdn = :m"), {"m": stopped})

    campaign_id = _campaign(deps, marker + "again", numbers)
    wait_settled(deps, campaign_id)

    rows = {
        r["msisdn"]: (r["status"], r["provider_code"]) for r in recipient_rows(deps, campaign_id)
    }
    assert rows[stopped] == ("failed", "5")
    with deps.db.transaction() as conn:
        source = conn.execute(
            text("SELECT source FROM opt_outs WHERE msisdn = :m"), {"m": stopped}
        ).scalar()
    assert source == "provider:envoyer"
