"""Push reports: sMsmode's notification_url callbacks reach the HTTP service, authenticated
by the secret in the URL, and are applied once."""

from __future__ import annotations

import httpx
import pytest
from sqlalchemy import text

from dispatcher.domain.statuses import RecipientStatus
from dispatcher.local.stack import LocalStack
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue
from tests.integration.conftest import CALLBACK_SECRET, PUSH_TOKEN
from tests.integration.helpers import (
    add_fault,
    batches_of,
    fault_on_send,
    mobiles,
    plain_mobiles,
    recipient_rows,
    submissions,
    wait_settled,
)
from tests.support.waiting import wait_until

# A day in the past: the sandbox's own callbacks, dated now, never fall on it.
OUR_DAY = "2026-01-15"

pytestmark = pytest.mark.integration


def _events(deps: Deps, campaign_id: int, source: str, *, final: bool = False) -> int:
    finals = "AND status IN ('delivered', 'failed', 'expired')" if final else ""
    with deps.db.transaction() as conn:
        return int(
            conn.execute(
                text(
                    "SELECT count(*) FROM delivery_events WHERE campaign_id = :c AND source = :s "
                    + finals
                ),
                {"c": campaign_id, "s": source},
            ).scalar_one()
        )


def test_the_sandbox_calls_back_and_the_service_applies_the_reports(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    # Polls are refused: every report must come by callback.
    add_fault(
        sandbox,
        {
            "endpoint": "report",
            "match": {"token": PUSH_TOKEN},
            "action": {"type": "code", "code": "31"},
            "times": None,
        },
    )
    numbers = [*plain_mobiles(20), *mobiles(5, suffix="99")]
    campaign_id = enqueue(
        deps, CampaignRequest(account="sandbox-push", text=f"Push {marker}", recipients=numbers)
    )

    progress = wait_settled(deps, campaign_id)

    assert progress.by_status == {RecipientStatus.DELIVERED: 20, RecipientStatus.FAILED: 5}
    # Each final status came by callback (a "13" arriving after its final one changes nothing).
    assert _events(deps, campaign_id, "callback", final=True) == 25
    assert _events(deps, campaign_id, "poll") == 0
    (accepted,) = submissions(sandbox, marker)
    assert accepted["notification_url"].endswith(
        f"/callbacks/smsmode/sandbox-push/{CALLBACK_SECRET}"
    )


def _callback_url(stack: LocalStack, secret: str = CALLBACK_SECRET) -> str:
    return f"{stack.api_url}/callbacks/smsmode/sandbox-push/{secret}"


def test_a_callback_with_a_wrong_secret_is_refused(stack: LocalStack) -> None:
    answer = httpx.get(
        _callback_url(stack, "guess"),
        params={"numero": "33600000000", "statut": "11", "smsID": "x"},
    )
    assert answer.status_code == 403


def test_a_malformed_callback_is_a_bad_request(stack: LocalStack) -> None:
    answer = httpx.get(_callback_url(stack), params={"numero": "33600000000"})
    assert answer.status_code == 400


def test_the_same_report_twice_changes_nothing_the_second_time(
    deps: Deps, stack: LocalStack, sandbox: httpx.Client, marker: str
) -> None:
    numbers = mobiles(2, suffix="95")  # the sandbox never finalises these
    campaign_id = enqueue(
        deps,
        CampaignRequest(account="sandbox-push", text=f"Twice {marker}", recipients=numbers),
    )
    ref = wait_until(lambda: _provider_ref(deps, campaign_id), what="provider ref")
    report = {
        "numero": numbers[0],
        "statut": "11",
        "smsID": ref,
        "date_reception": f"{OUR_DAY} 10:00:00",
        "refClient": "ignored",
    }
    late = {**report, "statut": "13", "date_reception": f"{OUR_DAY} 10:05:00"}
    answers = [httpx.get(_callback_url(stack), params=p) for p in (report, report, late)]
    assert [(a.status_code, a.text) for a in answers] == [(200, "OK")] * 3

    wait_until(lambda: not _inbox_rows(deps), what="the inbox drained")
    rows = {r["msisdn"]: r for r in recipient_rows(deps, campaign_id)}
    assert (rows[numbers[0]]["status"], rows[numbers[0]]["provider_code"]) == ("delivered", "11")
    # The sandbox pushes its own 13 too, at a time of its own: only our reports' events count.
    assert _events_of(deps, rows[numbers[0]]["id"], on=OUR_DAY) == [("delivered", "11")]


def _provider_ref(deps: Deps, campaign_id: int) -> str | None:
    found = batches_of(deps, campaign_id)
    return found[0]["provider_ref"] if found else None


def _inbox_rows(deps: Deps) -> int:
    with deps.db.transaction() as conn:
        return int(conn.execute(text("SELECT count(*) FROM callback_inbox")).scalar_one())


def _events_of(deps: Deps, recipient_id: int, *, on: str) -> list[tuple[str, str]]:
    """A recipient's callback events that happened on the day ``on`` (UTC)."""
    with deps.db.transaction() as conn:
        rows = conn.execute(
            text(
                "SELECT status, raw_code FROM delivery_events WHERE recipient_id = :r AND "
                "source = 'callback' AND "
                "(occurred_at AT TIME ZONE 'UTC')::date = CAST(:on AS date) ORDER BY id"
            ),
            {"r": recipient_id, "on": on},
        )
        return [(r.status, r.raw_code) for r in rows]


def test_an_unknown_batch_is_reconciled_from_the_providers_callbacks(
    deps: Deps, sandbox: httpx.Client, marker: str
) -> None:
    fault_on_send(sandbox, marker, {"type": "accept_then_timeout", "delay": 3})
    campaign_id = enqueue(
        deps,
        CampaignRequest(
            account="sandbox-push-slow", text=f"Lost {marker}", recipients=plain_mobiles(10)
        ),
    )

    progress = wait_settled(deps, campaign_id)

    assert progress.by_status == {RecipientStatus.DELIVERED: 10}
    (batch,) = batches_of(deps, campaign_id)
    assert batch["state"] == "done"
    assert batch["provider_ref"] == submissions(sandbox, marker)[0]["id"]
    assert len(submissions(sandbox, marker)) == 1
