"""The HTTP service's producer API, through the running service process."""

from __future__ import annotations

import httpx
import pytest

from dispatcher.local.stack import LocalStack
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
