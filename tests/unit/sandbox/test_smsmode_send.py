"""sendSMS.do (document section 3, and 16 for classe_msg=9) over HTTP, in process."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from dispatcher.sandbox.config import AccountConfig

from .conftest import (
    TOKEN,
    FakeClock,
    accepted_id,
    get,
    post_form,
    send,
    submissions,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def only_submission(client: TestClient) -> dict[str, object]:
    found = submissions(client)
    assert len(found) == 1
    return found[0]


def test_post_is_accepted_with_an_opaque_alphanumeric_id(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Hello", numero="33612345678"))
    assert len(sms_id) == 12
    assert sms_id.isalnum()


def test_get_is_accepted(client: TestClient) -> None:
    answer = get(client, "sendSMS.do", accessToken=TOKEN, message="Hi", numero="33612345678")
    accepted_id(answer)
    assert only_submission(client)["method"] == "GET"


def test_post_parameters_may_come_in_the_query_string(client: TestClient) -> None:
    query = urlencode({"accessToken": TOKEN, "numero": "33612345678"})
    response = client.post(
        f"/http/1.6/sendSMS.do?{query}",
        content=b"message=Hi",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    accepted_id(response.text)


def test_first_occurrence_of_a_parameter_wins(client: TestClient) -> None:
    query = "accessToken=sandbox-token&message=first&numero=33612345678"
    response = client.post(
        f"/http/1.6/sendSMS.do?{query}",
        content=b"message=second",
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    accepted_id(response.text)
    assert only_submission(client)["text"] == "first"


def test_national_french_numbers_become_international(client: TestClient) -> None:
    accepted_id(send(client, message="Hi", numero="0612345678, 0712345678,33698765432"))
    assert only_submission(client)["numbers"] == ["33612345678", "33712345678", "33698765432"]


def test_missing_token_answers_35(client: TestClient) -> None:
    assert send(client, accessToken="", message="Hi", numero="33612345678") == (
        "35 | Missing mandatory parameter"
    )


def test_unknown_token_answers_32(client: TestClient) -> None:
    answer = send(client, accessToken="nope", message="Hi", numero="33612345678")
    assert answer == "32 | Authentication error"


def test_any_token_is_accepted_when_configured(make_client: Callable[..., TestClient]) -> None:
    client = make_client(accept_any_token=True)
    accepted_id(send(client, accessToken="whatever", message="Hi", numero="33612345678"))


@pytest.mark.parametrize(
    "params",
    [
        {"numero": "33612345678"},
        {"message": "Hi"},
        {"message": "Hi", "numero": " , "},
        {"message": "Hi", "groupe": "customers"},
        {"message": "Hi", "numero": "33612345678", "classe_msg": "3"},
        {"message": "Hi", "numero": "33612345678", "stop": "3"},
        {"message": "Hi", "numero": "33612345678", "nbr_msg": "0"},
        {"message": "Hi", "numero": "33612345678", "date_envoi": "2024-03-01 12:00"},
        {"message": "Hi", "numero": "33612345678", "date_envoi": "31022024-10:00"},
        {"message": "Hi", "numero": "33612345678", "notification_url": "ftp://x"},
    ],
    ids=[
        "no-message",
        "no-numero",
        "empty-numero",
        "groupe",
        "classe",
        "stop",
        "nbr_msg",
        "date-format",
        "date-invalid",
        "url",
    ],
)
def test_missing_or_invalid_parameters_answer_35(
    client: TestClient, params: dict[str, str]
) -> None:
    assert send(client, **params) == "35 | Missing mandatory parameter"
    assert submissions(client) == []


@pytest.mark.parametrize(
    "sender",
    ["TWELVECHARSX", "MY SHOP", "Café", "33612345678", "+33612345678"],
    ids=["too-long", "blank", "accent", "msisdn", "plus-msisdn"],
)
def test_invalid_sender_answers_35(client: TestClient, sender: str) -> None:
    assert send(client, message="Hi", numero="33612345678", emetteur=sender).startswith("35 |")


def test_valid_sender_is_recorded(client: TestClient) -> None:
    accepted_id(send(client, message="Hi", numero="33612345678", emetteur="MyShop-2024"))
    assert only_submission(client)["sender"] == "MyShop-2024"


def test_sender_is_refused_with_classe_msg_4(client: TestClient) -> None:
    answer = send(client, message="Hi", numero="33612345678", emetteur="SHOP", classe_msg="4")
    assert answer.startswith("35 |")


def test_get_with_300_recipients_is_accepted(client: TestClient) -> None:
    numbers = ",".join(f"336{i:08d}" for i in range(300))
    accepted_id(get(client, "sendSMS.do", accessToken=TOKEN, message="Hi", numero=numbers))


def test_get_with_301_recipients_answers_35(client: TestClient) -> None:
    numbers = ",".join(f"336{i:08d}" for i in range(301))
    answer = get(client, "sendSMS.do", accessToken=TOKEN, message="Hi", numero=numbers)
    assert answer == "35 | Missing mandatory parameter"


def test_post_accepts_more_than_300_recipients(client: TestClient) -> None:
    accepted_id(send(client, message="Hi", numero=",".join(f"336{i:08d}" for i in range(1000))))
    assert len(only_submission(client)["numbers"]) == 1000  # type: ignore[arg-type]


def test_iso_8859_15_text_round_trips(client: TestClient) -> None:
    accepted_id(send(client, message="Prix: 5€ à régler", numero="33612345678"))
    assert only_submission(client)["text"] == "Prix: 5€ à régler"


def test_utf8_sent_without_classe_9_is_misread_as_iso_8859_15(client: TestClient) -> None:
    body = urlencode({"accessToken": TOKEN, "message": "é", "numero": "33612345678"})
    response = client.post(
        "/http/1.6/sendSMS.do",
        content=body.encode(),
        headers={"content-type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    accepted_id(response.text)
    # UTF-8 "é" is C3 A9: "Ã" is not in the section 3 table, A9 is "©", not either.
    assert only_submission(client)["text"] == "??"


def test_unicode_class_round_trips_utf8(client: TestClient) -> None:
    accepted_id(send(client, message="☺ é€", numero="33612345678", classe_msg="9"))
    sub = only_submission(client)
    assert (sub["text"], sub["classe_msg"]) == ("☺ é€", 9)


def test_unicode_class_over_get(client: TestClient) -> None:
    answer = get(
        client,
        "sendSMS.do",
        "utf-8",
        accessToken=TOKEN,
        message="☺",
        numero="33612345678",
        classe_msg="9",
    )
    accepted_id(answer)
    assert only_submission(client)["text"] == "☺"


def test_unsupported_characters_are_recorded_as_question_marks(client: TestClient) -> None:
    accepted_id(send(client, message="Leçon", numero="33612345678"))
    assert only_submission(client)["text"] == "Le?on"


def test_ref_client_and_notification_url_are_recorded(client: TestClient) -> None:
    accepted_id(
        send(
            client,
            message="Hi",
            numero="33612345678",
            refClient="batch-42",
            notification_url="http://127.0.0.1:9/dlr?x=1",
        )
    )
    sub = only_submission(client)
    assert (sub["ref_client"], sub["notification_url"]) == (
        "batch-42",
        "http://127.0.0.1:9/dlr?x=1",
    )


def test_stop_1_mention_is_added_to_a_short_text(client: TestClient) -> None:
    accepted_id(send(client, message="Promo", numero="33612345678", stop="1"))
    assert only_submission(client)["text"] == "Promo STOP 36304"


def test_stop_2_on_a_long_text_costs_two_parts(client: TestClient) -> None:
    accepted_id(send(client, message="x" * 150, numero="33612345678", stop="2"))
    sub = only_submission(client)
    assert (sub["parts"], sub["cost"]) == (2, 2.0)


def test_nbr_msg_truncates_the_recorded_text(client: TestClient) -> None:
    accepted_id(send(client, message="y" * 400, numero="33612345678", nbr_msg="2"))
    sub = only_submission(client)
    assert (sub["text"], sub["parts"]) == ("y" * 306, 2)


def test_cost_is_parts_times_recipients_and_is_debited(client: TestClient) -> None:
    accepted_id(send(client, message="z" * 200, numero="33612345678,33612345679,33612345670"))
    assert only_submission(client)["cost"] == 6.0
    assert get(client, "credit.do", accessToken=TOKEN) == "999999994"


def test_insufficient_balance_answers_33_and_accepts_nothing(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(accounts=(AccountConfig(TOKEN, balance=2),))
    assert send(client, message="Hi", numero="33612345678,33612345679,33612345670") == (
        "33 | Insufficient account balance"
    )
    assert submissions(client) == []
    assert get(client, "credit.do", accessToken=TOKEN) == "2"


def test_postpaid_account_goes_negative(make_client: Callable[..., TestClient]) -> None:
    client = make_client(accounts=(AccountConfig(TOKEN, balance=1, postpaid=True),))
    accepted_id(send(client, message="Hi", numero="33612345678,33612345679"))
    assert get(client, "credit.do", accessToken=TOKEN) == "-1"


def test_credit_shows_fractional_balances_like_the_document(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(accounts=(AccountConfig(TOKEN, balance=212.5),))
    assert post_form(client, "credit.do", accessToken=TOKEN) == "212.5"


def test_credit_with_unknown_token_answers_32(client: TestClient) -> None:
    assert get(client, "credit.do", accessToken="nope") == "32 | Authentication error"


def test_credit_without_token_answers_35(client: TestClient) -> None:
    assert get(client, "credit.do") == "35 | Invalid parameters"


def test_future_date_envoi_schedules_the_sms(client: TestClient) -> None:
    # The fake clock is 2024-03-01 12:00 in Paris; 14:30 Paris is 13:30 UTC.
    accepted_id(send(client, message="Hi", numero="33612345678", date_envoi="01032024-14:30"))
    assert only_submission(client)["scheduled_for"] == "2024-03-01T13:30:00+00:00"


def test_past_date_envoi_sends_at_once(client: TestClient) -> None:
    accepted_id(send(client, message="Hi", numero="33612345678", date_envoi="01032024-11:59"))
    assert only_submission(client)["scheduled_for"] is None


def test_date_envoi_uses_the_configured_timezone(
    make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    from dispatcher.sandbox.config import SmsmodeConfig

    client = make_client(smsmode=SmsmodeConfig(timezone="UTC"))
    accepted_id(send(client, message="Hi", numero="33612345678", date_envoi="01032024-14:30"))
    assert only_submission(client)["scheduled_for"] == "2024-03-01T14:30:00+00:00"
