"""SMSFactor through real workers and the sandbox: the XML API, reports by gsmsmsid, its
do-not-retry codes, hostile answers and inbound SMS."""

from __future__ import annotations

import time

import httpx
import pytest

from dispatcher.domain.statuses import RecipientStatus
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

PROVIDER = "smsfactor"

BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<response><status>1</status><message>&lol3;</message><ticket>1</ticket></response>"""


def _campaign(
    deps: Deps, marker: str, numbers: list[str], account: str = "sandbox-smsfactor"
) -> int:
    return enqueue(
        deps,
        CampaignRequest(
            account=account, text=f"Bonjour {marker}", recipients=numbers, sender="SHOP"
        ),
    )


def test_a_campaign_completes_with_reports_matched_by_gsmsmsid(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    delivered, failed, invalid = (
        plain_mobiles(1200),
        mobiles(20, suffix="99"),
        mobiles(10, suffix="97"),
    )
    campaign_id = _campaign(deps, marker, delivered + failed + invalid)

    progress = wait_settled(deps, campaign_id)

    assert progress.by_status == {RecipientStatus.DELIVERED: 1200, RecipientStatus.FAILED: 30}
    codes = {r["msisdn"]: r["provider_code"] for r in recipient_rows(deps, campaign_id)}
    assert {codes[n] for n in delivered} == {"DELIVERED"}
    assert {codes[n] for n in failed} == {"NOT_DELIVERED"}
    assert {codes[n] for n in invalid} == {"INVALID_DESTINATION_ADDRESS"}
    accepted = submissions(sandbox, marker, PROVIDER)
    assert sorted(len(s["numbers"]) for s in accepted) == [230, 1000]
    ids = {r["msisdn"]: str(r["id"]) for r in recipient_rows(deps, campaign_id)}
    for submission in accepted:  # every number went with its own recipient id
        assert [ids[n] for n in submission["numbers"]] == submission["gsmsmsids"]


def test_a_do_not_retry_status_fails_the_batch_after_one_attempt(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "code", "code": "-3"}, provider=PROVIDER)
    campaign_id = _campaign(deps, marker, plain_mobiles(12))
    assert wait_settled(deps, campaign_id).by_status == {RecipientStatus.FAILED: 12}
    (batch,) = batches_of(deps, campaign_id)
    assert (batch["state"], batch["attempts"], batch["last_code"]) == ("failed", 1, "-3")
    assert submissions(sandbox, marker, PROVIDER) == []


def test_a_hostile_xml_answer_is_unknown_resolves_nothing_and_is_not_resent(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "garbage", "body": BILLION_LAUGHS}, provider=PROVIDER)
    campaign_id = _campaign(deps, marker, plain_mobiles(5))
    wait_until(lambda: batch_states(deps, campaign_id) == ["unknown"], what="batch unknown")
    time.sleep(2)
    (batch,) = batches_of(deps, campaign_id)
    assert (batch["attempts"], batch["provider_ref"]) == (1, None)
    assert "lollol" not in (batch["last_message"] or "")  # the entities were never expanded


def test_a_timeout_after_accepting_is_unknown_and_sent_once(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "accept_then_timeout", "delay": 4}, provider=PROVIDER)
    campaign_id = _campaign(deps, marker, plain_mobiles(8), account="sandbox-smsfactor-slow")
    wait_until(lambda: batch_states(deps, campaign_id) == ["unknown"], what="batch unknown")
    time.sleep(5)
    assert batches_of(deps, campaign_id)[0]["attempts"] == 1
    assert len(submissions(sandbox, marker, PROVIDER)) == 1


def test_an_inbound_stop_reaches_the_opt_out_list(deps: Deps, sandbox: httpx.Client) -> None:
    (sender,) = plain_mobiles(1)
    pushed = sandbox.post(
        "/_sandbox/replies",
        json={
            "provider": PROVIDER,
            "from": sender,
            "message": "STOP",
            "username": "sandbox@example.com",
        },
    )
    assert pushed.status_code == 200, pushed.text

    def listed() -> bool:
        from sqlalchemy import text

        with deps.db.transaction() as conn:
            return bool(
                conn.execute(
                    text("SELECT 1 FROM opt_outs WHERE msisdn = :m"), {"m": sender}
                ).first()
            )

    wait_until(listed, what="the sender on the opt-out list")
