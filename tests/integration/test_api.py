"""The HTTP service's producer API, through the running service process."""

from __future__ import annotations

import httpx
import pytest

from dispatcher.local.stack import LocalStack
from tests.integration.conftest import CALLBACK_SECRET
from tests.integration.helpers import plain_mobiles

pytestmark = pytest.mark.integration

TOKEN = {"Authorization": "Bearer producer-token-for-tests"}


def _api(stack: LocalStack) -> httpx.Client:
    assert stack.api_url is not None
    return httpx.Client(base_url=stack.api_url, timeout=30)


def test_creating_a_campaign_needs_a_producer_token(stack: LocalStack) -> None:
    with _api(stack) as api:
        answer = api.post(
            "/campaigns",
            json={"account": "sandbox-smsmode", "text": "x", "recipients": ["0612345678"]},
        )
    assert answer.status_code == 401


def test_a_campaign_is_created_once_per_idempotency_key_and_can_be_read(
    stack: LocalStack, marker: str
) -> None:
    body = {
        "account": "sandbox-smsmode",
        "text": f"API {marker}",
        "recipients": plain_mobiles(3),
        "send_at": "2031-01-01T09:00:00+01:00",
    }
    with _api(stack) as api:
        first = api.post("/campaigns", json=body, headers={**TOKEN, "Idempotency-Key": marker})
        again = api.post("/campaigns", json=body, headers={**TOKEN, "Idempotency-Key": marker})
        shown = api.get(f"/campaigns/{first.json()['id']}", headers=TOKEN)
    assert first.status_code == 201
    assert again.json() == first.json()
    assert shown.json()["by_status"] == {"queued": 3}
    assert shown.json()["state"] == "scheduled"


def test_an_idempotency_key_reused_with_another_list_is_a_409_naming_the_recipients(
    stack: LocalStack, marker: str
) -> None:
    body = {
        "account": "sandbox-smsmode",
        "text": f"API {marker}",
        "recipients": plain_mobiles(3),
        "send_at": "2031-01-01T09:00:00+01:00",
    }
    other = {**body, "recipients": plain_mobiles(3)}
    with _api(stack) as api:
        api.post("/campaigns", json=body, headers={**TOKEN, "Idempotency-Key": marker})
        again = api.post("/campaigns", json=other, headers={**TOKEN, "Idempotency-Key": marker})
    assert (again.status_code, "other recipients" in again.json()["error"]) == (409, True)


def test_a_bad_campaign_is_refused_with_every_problem_of_its_settings_named(
    stack: LocalStack,
) -> None:
    body = {
        "account": "sandbox-smsmode",
        "text": "",
        "sender": "BAD SENDER!!",
        "recipients": ["0612345678"],
    }
    with _api(stack) as api:
        answer = api.post("/campaigns", json=body, headers=TOKEN)
    assert answer.status_code == 422
    assert answer.json()["problems"] == [
        "text: is empty",
        "sender: at most 11 characters ('BAD SENDER!!')",
        "sender: ASCII letters and digits only, no blank or accent ('BAD SENDER!!')",
    ]


def test_bad_numbers_are_listed_with_their_rows(stack: LocalStack) -> None:
    body = {"account": "sandbox-smsmode", "text": "Hi", "recipients": ["0612345678", "garbage"]}
    with _api(stack) as api:
        answer = api.post("/campaigns", json=body, headers=TOKEN)
    assert answer.status_code == 422
    assert answer.json()["problems"] == ["row 2: recipients: unparsable ('garbage')"]


def test_an_unknown_campaign_is_not_found(stack: LocalStack) -> None:
    with _api(stack) as api:
        assert api.get("/campaigns/999999999", headers=TOKEN).status_code == 404


def _scheduled(api: httpx.Client, marker: str, count: int = 3) -> int:
    """A campaign due in 2031: the actions and the export find it whole and nothing is sent."""
    body = {
        "account": "sandbox-smsmode",
        "text": f"API {marker}",
        "recipients": plain_mobiles(count),
        "send_at": "2031-01-01T09:00:00+01:00",
    }
    created = api.post("/campaigns", json=body, headers=TOKEN)
    assert created.status_code == 201
    return int(created.json()["id"])


def test_health_answers_without_a_token(stack: LocalStack) -> None:
    with _api(stack) as api:
        answer = api.get("/health")
    assert (answer.status_code, answer.json()) == (200, {"ok": True})


@pytest.mark.parametrize(
    ("method", "path"),
    [
        ("GET", "/campaigns/1"),
        ("GET", "/campaigns/1/recipients.csv"),
        ("POST", "/campaigns/1/pause"),
    ],
)
def test_every_producer_route_needs_a_token(stack: LocalStack, method: str, path: str) -> None:
    with _api(stack) as api:
        answer = api.request(method, path, headers={"Authorization": "Bearer wrong"})
    assert (answer.status_code, answer.json()) == (401, {"error": "missing or wrong bearer token"})


def test_a_body_that_is_not_a_campaign_is_refused_as_invalid(stack: LocalStack) -> None:
    with _api(stack) as api:
        answer = api.post("/campaigns", json={"account": "sandbox-smsmode"}, headers=TOKEN)
    assert answer.status_code == 422
    assert answer.json()["error"] == "invalid body"


def test_a_dry_run_answers_the_estimate_and_enqueues_nothing(
    stack: LocalStack, marker: str
) -> None:
    body = {
        "account": "sandbox-smsmode",
        "text": "Hi",
        "recipients": plain_mobiles(2),
        "send_at": "2031-01-01T09:00:00+01:00",
    }
    key = {**TOKEN, "Idempotency-Key": marker}
    with _api(stack) as api:
        estimated = api.post("/campaigns?dry_run=1", json=body, headers=key)
        # Had the dry run kept a campaign under the key, another text would be a conflict (409).
        created = api.post("/campaigns", json={**body, "text": "Hello"}, headers=key)
    assert estimated.status_code == 200
    assert (estimated.json()["recipients"], estimated.json()["parts"]) == (2, 2)
    assert created.status_code == 201


def test_a_campaign_is_paused_resumed_and_cancelled_by_its_actions(
    stack: LocalStack, marker: str
) -> None:
    with _api(stack) as api:
        campaign_id = _scheduled(api, marker)
        states = []
        for action in ("pause", "resume", "cancel"):
            done = api.post(f"/campaigns/{campaign_id}/{action}", headers=TOKEN)
            assert done.json() == {"id": campaign_id, "done": action}
            states.append(api.get(f"/campaigns/{campaign_id}", headers=TOKEN).json()["state"])
    assert states == ["paused", "scheduled", "cancelled"]


def test_an_action_not_allowed_from_the_state_is_a_conflict(stack: LocalStack, marker: str) -> None:
    with _api(stack) as api:
        campaign_id = _scheduled(api, marker)
        api.post(f"/campaigns/{campaign_id}/cancel", headers=TOKEN)
        answer = api.post(f"/campaigns/{campaign_id}/resume", headers=TOKEN)
    assert answer.status_code == 409


def test_an_unknown_action_is_not_found(stack: LocalStack) -> None:
    with _api(stack) as api:
        answer = api.post("/campaigns/1/archive", headers=TOKEN)
    assert (answer.status_code, answer.json()) == (
        404,
        {"error": "actions are pause, resume and cancel"},
    )


def test_the_recipients_are_exported_as_csv(stack: LocalStack, marker: str) -> None:
    with _api(stack) as api:
        campaign_id = _scheduled(api, marker, count=3)
        answer = api.get(f"/campaigns/{campaign_id}/recipients.csv", headers=TOKEN)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/csv")
    assert len(answer.text.splitlines()) == 1 + 3  # a header, then a row per recipient


def test_the_export_of_an_unknown_campaign_is_not_found(stack: LocalStack) -> None:
    with _api(stack) as api:
        answer = api.get("/campaigns/999999999/recipients.csv", headers=TOKEN)
    assert answer.status_code == 404


@pytest.mark.parametrize(
    ("path", "provider"),
    [
        ("/callbacks/smsfactor/sandbox-smsfactor", "smsfactor"),  # polled, never pushed
        ("/inbound/bulkgw/sandbox-bulkgw", "bulkgw"),  # forwards no SMS
    ],
)
def test_a_push_a_provider_never_makes_is_not_found(
    stack: LocalStack, path: str, provider: str
) -> None:
    with _api(stack) as api:
        answer = api.post(f"{path}/{CALLBACK_SECRET}", data={"x": "1"})
    assert (answer.status_code, provider in answer.text) == (404, True)
