"""The request-rate limit ("Les limites du nombre de requête", "HTTP Status Codes" 400):
100 requests per 60 minutes per account by default, a fixed window opened by the first
request."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pytest

from tests.unit.sandbox.conftest import FakeClock

from .test_envoyer_support import (
    Clients,
    basic,
    call,
    error_of,
    parse,
    send,
    sent_id,
    submissions,
)

LIMITED = {
    "accounts": [
        {"login": "a", "password": "p", "account_id": 1, "api_request_limit": 3},
        {"login": "b", "password": "p", "account_id": 2, "api_request_limit": 3},
    ]
}
A, B = ("a", "p"), ("b", "p")
RATE_LIMITED = (400, 6, "API request limit exceeded")

if TYPE_CHECKING:
    from starlette.testclient import TestClient


@pytest.fixture
def client(make: Clients) -> TestClient:
    return make(LIMITED)


def status(client: TestClient, auth: tuple[str, str] = A) -> tuple[int, int, str] | None:
    """None when account/status succeeds, the error otherwise."""
    response = call(client, "account/status", auth=auth)
    return None if response.status_code == 200 else error_of(response)


def test_the_documented_default_is_100_requests(make: Clients) -> None:
    client = make()
    for _ in range(100):
        assert status(client, ("sandbox", "sandbox-token")) is None
    assert status(client, ("sandbox", "sandbox-token")) == RATE_LIMITED


def test_over_the_limit_answers_400_with_an_xml_error(client: TestClient) -> None:
    for _ in range(3):
        status(client)
    response = call(client, "account/status", auth=A)
    assert response.status_code == 400
    assert parse(response).get("error/request") == "/account/status"
    assert error_of(response) == RATE_LIMITED


def test_every_function_counts(client: TestClient) -> None:
    sent_id(send(client, auth=A))
    call(client, "message/stats", auth=A, messageid="1")
    call(client, "stopsms/check", auth=A, phonenumber="33612345678")
    assert error_of(send(client, auth=A)) == RATE_LIMITED


def test_a_rate_limited_send_accepts_nothing(client: TestClient) -> None:
    for _ in range(3):
        status(client)
    send(client, auth=A)
    assert submissions(client) == []


def test_failed_authentications_do_not_count(client: TestClient) -> None:
    for _ in range(5):
        call(client, "account/status", auth=("a", "wrong"))
    assert status(client) is None


def test_the_window_is_fixed_from_the_first_request(client: TestClient, clock: FakeClock) -> None:
    status(client)
    clock.advance(3599)
    status(client)
    status(client)
    assert status(client) == RATE_LIMITED
    clock.advance(1)  # 3600 s after the first request: a new window
    assert status(client) is None


def test_the_next_window_starts_at_the_first_request_after_the_end(
    client: TestClient, clock: FakeClock
) -> None:
    status(client)
    clock.advance(5000)  # first request after the end: opens a window until 5000 + 3600
    for _ in range(3):
        assert status(client) is None
    clock.advance(3599)
    assert status(client) == RATE_LIMITED
    clock.advance(1)
    assert status(client) is None


def test_accounts_have_separate_windows(client: TestClient) -> None:
    for _ in range(3):
        status(client, A)
    assert status(client, A) == RATE_LIMITED
    assert status(client, B) is None


def test_the_limit_is_returned_by_account_status(client: TestClient) -> None:
    answer = parse(call(client, "account/status", auth=A))
    assert answer.get("account/api_request_limit") == "3"


def test_window_seconds_shortens_the_window(make: Clients, clock: FakeClock) -> None:
    client = make({**LIMITED, "window_seconds": 10})
    for _ in range(3):
        status(client)
    assert status(client) == RATE_LIMITED
    clock.advance(10)
    assert status(client) is None


def test_reset_reopens_the_window(client: TestClient) -> None:
    for _ in range(3):
        status(client)
    client.post("/_sandbox/reset")
    assert status(client) is None


def test_basic_and_parameter_authentication_share_the_window(client: TestClient) -> None:
    status(client)
    client.get("/api/account/status?login=a&password=p")
    client.get("/api/account/status", headers=basic("a", "p:1"))
    assert status(client) == RATE_LIMITED
