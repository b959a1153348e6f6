"""The three authentication forms ("Authentification", solutions 1 to 3), multi-account
logins and ``accept_any_token``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from .test_envoyer_support import (
    FORM,
    Clients,
    basic,
    error_of,
    only_submission,
    parse,
    remaining,
    send,
    sent_id,
)

TWO_ACCOUNTS: dict[str, Any] = {
    "accounts": [
        {"login": "33611111111", "password": "pw", "account_id": 496, "balance": 155},
        {"login": "33611111111", "password": "pw", "account_id": "504", "balance": 5973},
        {"login": "other", "password": "pw2", "account_id": 536, "balance": 7},
    ]
}
QUERY = "text=Hi&recipients=33612345678&sendername=Societe"

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def test_basic_login_password(client: TestClient) -> None:
    sent_id(client.get(f"/api/message/send?{QUERY}", headers=basic("sandbox", "sandbox-token")))


def test_basic_login_password_accountid(client: TestClient) -> None:
    headers = basic("sandbox", "sandbox-token:1")
    sent_id(client.get(f"/api/message/send?{QUERY}", headers=headers))


def test_basic_password_may_contain_a_colon(make: Clients) -> None:
    client = make({"accounts": [{"login": "me", "password": "a:b", "account_id": 7}]})
    sent_id(client.get(f"/api/message/send?{QUERY}", headers=basic("me", "a:b")))
    sent_id(client.get(f"/api/message/send?{QUERY}", headers=basic("me", "a:b:7")))


def test_post_parameters(client: TestClient) -> None:
    body = f"{QUERY}&login=sandbox&password=sandbox-token&accountid=1".encode()
    sent_id(client.post("/api/message/send", content=body, headers=FORM))


def test_get_parameters(client: TestClient) -> None:
    sent_id(client.get(f"/api/message/send?{QUERY}&login=sandbox&password=sandbox-token"))


@pytest.mark.parametrize(
    "headers_or_query",
    [
        ({"authorization": "Basic " + "c2FuZGJveDp3cm9uZw=="}, ""),  # sandbox:wrong
        ({}, "&login=sandbox&password=wrong"),
        ({}, "&login=nobody&password=sandbox-token"),
        ({}, "&login=sandbox&password=sandbox-token&accountid=2"),
        ({}, ""),
        ({"authorization": "Bearer abc"}, ""),
        ({"authorization": "Basic not-base64!"}, ""),
    ],
    ids=["basic", "get", "unknown-login", "other-account", "none", "bearer", "bad-base64"],
)
def test_failed_authentication_answers_401_error_1(
    client: TestClient, headers_or_query: tuple[dict[str, str], str]
) -> None:
    headers, query = headers_or_query
    response = client.get(f"/api/message/send?{QUERY}{query}", headers=headers)
    assert error_of(response) == (401, 1, "Authentication failed")


def test_failed_authentication_on_post_parameters(client: TestClient) -> None:
    body = f"{QUERY}&login=sandbox&password=wrong".encode()
    response = client.post("/api/message/send", content=body, headers=FORM)
    assert error_of(response) == (401, 1, "Authentication failed")


def test_every_function_needs_authentication(client: TestClient) -> None:
    for path in ("message/stats?messageid=1", "account/status", "stopsms/check"):
        assert error_of(client.get(f"/api/{path}"))[:2] == (401, 1)


def test_basic_authentication_wins_over_parameters(client: TestClient) -> None:
    headers = basic("sandbox", "sandbox-token")
    sent_id(client.get(f"/api/message/send?{QUERY}&login=x&password=y", headers=headers))


def test_a_login_with_several_accounts_needs_the_accountid(make: Clients) -> None:
    client = make(TWO_ACCOUNTS)
    response = client.get(f"/api/message/send?{QUERY}", headers=basic("33611111111", "pw"))
    assert error_of(response)[:2] == (401, 1)


def test_the_accountid_chooses_the_account(make: Clients) -> None:
    client = make(TWO_ACCOUNTS)
    sent_id(client.get(f"/api/message/send?{QUERY}", headers=basic("33611111111", "pw:504")))
    assert remaining(client, ("33611111111", "pw:504")) == 5972
    assert remaining(client, ("33611111111", "pw:496")) == 155
    assert only_submission(client)["token"] == "envoyer:33611111111:504"


def test_the_accountid_of_another_login_is_refused(make: Clients) -> None:
    client = make(TWO_ACCOUNTS)
    response = client.get("/api/account/status?login=other&password=pw2&accountid=496")
    assert error_of(response)[:2] == (401, 1)


def test_a_single_account_login_may_omit_the_accountid(make: Clients) -> None:
    client = make(TWO_ACCOUNTS)
    assert remaining(client, ("other", "pw2")) == 7


def test_accept_any_token_accepts_unknown_logins(make: Clients) -> None:
    client = make(accept_any_token=True, any_token_balance=50)
    answer = parse(send(client, auth=("anyone", "anything")))
    assert answer.get("message/sms_remaing") == "49"
    assert only_submission(client)["token"] == "envoyer:anyone:1"


def test_accept_any_token_uses_the_given_accountid(make: Clients) -> None:
    client = make(accept_any_token=True, any_token_balance=50)
    sent_id(send(client, auth=("anyone", "x:42")))
    assert remaining(client, ("anyone", "x:7")) == 50
    assert only_submission(client)["token"] == "envoyer:anyone:42"


def test_accept_any_token_uses_the_configured_request_limit(make: Clients) -> None:
    client = make({"any_token_api_request_limit": 5000}, accept_any_token=True)
    status = parse(client.get("/api/account/status", headers=basic("anyone", "x")))
    assert status.get("account/api_request_limit") == "5000"


def test_accept_any_token_still_checks_configured_passwords(make: Clients) -> None:
    client = make(accept_any_token=True)
    response = send(client, auth=("sandbox", "wrong"))
    assert error_of(response)[:2] == (401, 1)


def test_without_accept_any_token_unknown_logins_fail(client: TestClient) -> None:
    assert error_of(send(client, auth=("anyone", "anything")))[:2] == (401, 1)


def test_without_a_section_the_default_account_exists(client: TestClient) -> None:
    status = parse(client.get("/api/account/status", headers=basic("sandbox", "sandbox-token")))
    assert status.get("account/sms_remaining") == "1000000000"
    assert status.get("account/api_request_limit") == "100"
