"""``/api/account/status`` ("FONCTION SMS RESTANT"), ``/api/account/getallaccounts``
("FONCTION LISTE DES COMPTES"), the STOP SMS functions, and paths outside them."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from tests.unit.sandbox.conftest import FakeClock

from .test_envoyer_support import (
    ALL_FINAL,
    Clients,
    call,
    error_of,
    only_submission,
    parse,
    remaining,
    send,
    sent_id,
)

ACCOUNTS: dict[str, Any] = {
    "accounts": [
        {
            "login": "33611111111",
            "password": "pw",
            "account_id": 496,
            "account_name": "SOCIETE1",
            "balance": 155,
            "api_request_limit": 5000,
            "stop_list": ["33600000009"],
        },
        {
            "login": "33611111111",
            "password": "pw",
            "account_id": 504,
            "account_name": "SOCIETE2",
            "balance": 5973,
            "api_request_limit": 200,
        },
        {"login": "other", "password": "pw", "account_id": 536, "account_name": "OTHER"},
    ]
}
FIRST, SECOND = ("33611111111", "pw:496"), ("33611111111", "pw:504")

if TYPE_CHECKING:
    from starlette.testclient import TestClient


@pytest.fixture
def accounts(make: Clients) -> TestClient:
    return make(ACCOUNTS)


def test_account_status_has_the_documented_layout(client: TestClient) -> None:
    assert call(client, "account/status").text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<envoyersmspro>\n"
        "  <status>success</status>\n"
        "  <account>\n"
        "    <sms_remaining>1000000000</sms_remaining>\n"
        "    <api_request_limit>100</api_request_limit>\n"
        "  </account>\n"
        "</envoyersmspro>\n"
    )


def test_account_status_answers_post_too(client: TestClient) -> None:
    assert parse(call(client, "account/status", "POST")).get("status") == "success"


def test_account_status_shows_the_configured_limit(accounts: TestClient) -> None:
    answer = parse(call(accounts, "account/status", auth=SECOND))
    assert answer.get("account/api_request_limit") == "200"


def test_getallaccounts_lists_the_logins_accounts(accounts: TestClient) -> None:
    sent_id(send(accounts, auth=FIRST))
    answer = parse(call(accounts, "account/getallaccounts", auth=SECOND))
    names = ("account_id", "account_name", "sms_remaining", "api_request_limit")
    rows = [[a.findtext(n) for n in names] for a in answer.root.iterfind("accounts/account")]
    assert rows == [["496", "SOCIETE1", "154", "5000"], ["504", "SOCIETE2", "5973", "200"]]


def test_stop_check_is_0_for_a_number_not_on_the_list(client: TestClient) -> None:
    answer = parse(call(client, "stopsms/check", phonenumber="33612345678"))
    assert (answer.get("stopsms/phone_number"), answer.get("stopsms/stop_sms_status_id")) == (
        "33612345678",
        "0",
    )


def test_stop_activate_then_check_then_deactivate(client: TestClient) -> None:
    sent_id(send(client, recipients="33612345678"))
    activated = call(client, "stopsms/activate", phonenumber="33612345678")
    assert activated.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<envoyersmspro>\n"
        "  <status>success</status>\n"
        "  <stopsms>\n"
        "    <phone_number>33612345678</phone_number>\n"
        "  </stopsms>\n"
        "</envoyersmspro>\n"
    )
    check = parse(call(client, "stopsms/check", phonenumber="33612345678"))
    assert check.get("stopsms/stop_sms_status_id") == "1"
    deactivated = parse(call(client, "stopsms/deactivate", phonenumber="33612345678"))
    assert deactivated.get("stopsms/phone_number") == "33612345678"
    check = parse(call(client, "stopsms/check", phonenumber="33612345678"))
    assert check.get("stopsms/stop_sms_status_id") == "0"


def test_stop_activate_accepts_the_examples_phonenum(client: TestClient) -> None:
    sent_id(send(client, recipients="33612345678"))
    assert parse(call(client, "stopsms/activate", phonenum="33612345678")).status == 200


@pytest.mark.parametrize("path", ["stopsms/deactivate", "stopsms/check"])
def test_other_stop_functions_only_read_phonenumber(client: TestClient, path: str) -> None:
    response = call(client, path, phonenum="33612345678")
    assert error_of(response) == (400, 3, "Bad value of parameters - Phonenumber is missing")


@pytest.mark.parametrize("path", ["stopsms/activate", "stopsms/deactivate", "stopsms/check"])
def test_an_empty_phonenumber_cannot_be_null(client: TestClient, path: str) -> None:
    response = call(client, path, phonenumber=" ")
    assert error_of(response) == (400, 3, "Bad value of parameters - Phonenumber cannot be null")


@pytest.mark.parametrize("number", ["0612345678", "+33612345678", "336"])
def test_a_number_not_in_international_format_is_wrong(client: TestClient, number: str) -> None:
    response = call(client, "stopsms/check", phonenumber=number)
    assert error_of(response) == (400, 3, f"Bad value of parameters - Wrong numbers : {number}")


def test_activating_a_number_never_sent_to_is_refused(client: TestClient) -> None:
    response = call(client, "stopsms/activate", phonenumber="33612345678")
    assert error_of(response) == (
        400,
        3,
        "Bad value of parameters - You do not send SMS to the 33612345678",
    )


def test_stop_listed_numbers_are_not_sent_nor_billed(
    accounts: TestClient, clock: FakeClock
) -> None:
    answer = parse(send(accounts, auth=FIRST, recipients="33600000009,33612345678"))
    assert answer.get("message/sms_sent") == "1"
    assert remaining(accounts, FIRST) == 154
    assert only_submission(accounts)["stop_listed"] == ["33600000009"]
    message_id = answer.get("message/message_id")
    stats = parse(call(accounts, "message/stats", auth=FIRST, messageid=message_id))
    assert [r.findtext("status_id") for r in stats.root.iterfind("stats/recipient")] == ["5", "4"]
    clock.advance(ALL_FINAL)
    stats = parse(call(accounts, "message/stats", auth=FIRST, messageid=message_id))
    assert stats.get("stats/number_status_5") == "1"


def test_stop_lists_are_per_account(accounts: TestClient) -> None:
    check = parse(call(accounts, "stopsms/check", auth=SECOND, phonenumber="33600000009"))
    assert check.get("stopsms/stop_sms_status_id") == "0"


def test_reset_restores_the_configured_stop_list(accounts: TestClient) -> None:
    call(accounts, "stopsms/deactivate", auth=FIRST, phonenumber="33600000009")
    accounts.post("/_sandbox/reset")
    check = parse(call(accounts, "stopsms/check", auth=FIRST, phonenumber="33600000009"))
    assert check.get("stopsms/stop_sms_status_id") == "1"


def test_unknown_paths_under_api_are_404(client: TestClient) -> None:
    assert client.get("/api/message/unknown").status_code == 404
    assert client.get("/api/response/get?messageid=1").status_code == 404
    assert client.put("/api/message/send").status_code == 404
