"""apiV2.php (document section 1): transports, acceptance, credits and each status code."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

import pytest

from tests.unit.sandbox.conftest import T0, FakeClock

from .test_smsfactor_support import (
    SEND,
    USER,
    Clients,
    numbers,
    post,
    send,
    sms_xml,
    submissions,
    ticket_of,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient

BALANCE = 1_000_000_000


def only(client: TestClient) -> dict[str, Any]:
    (found,) = submissions(client)
    return found


def test_accepted_answer_has_status_message_ticket_and_credits(sf: TestClient) -> None:
    answer = send(sf)
    assert answer.tags == ["status", "message", "ticket", "credits"]
    assert (answer.status, answer.message, answer.credits) == (
        "1",
        "Message envoyé",
        str(BALANCE - 1),
    )


def test_ticket_is_a_nine_digit_number(sf: TestClient) -> None:
    ticket = ticket_of(send(sf))
    assert (len(ticket), ticket.isdigit(), ticket[0] != "0") == (9, True, True)


def test_plain_http_path_is_the_same_endpoint(sf: TestClient) -> None:
    ticket = ticket_of(send(sf, path="/apiV2.php"))
    assert only(sf)["id"] == ticket


def test_get_is_not_allowed(sf: TestClient) -> None:
    assert sf.get(SEND).status_code == 405


def test_raw_body_transport_is_recorded(sf: TestClient) -> None:
    ticket_of(send(sf))
    assert only(sf)["transport"] == "body"


def test_form_field_named_xml_is_accepted(sf: TestClient) -> None:
    body = urlencode({"XML": sms_xml().decode()}).encode()
    ticket_of(post(sf, SEND, body, "application/x-www-form-urlencoded"))
    assert only(sf)["transport"] == "form"


def test_multipart_field_named_xml_is_accepted(sf: TestClient) -> None:
    response = sf.post(SEND, files={"XML": (None, sms_xml())})
    assert response.status_code == 200
    assert "<status>1</status>" in response.text
    assert only(sf)["transport"] == "multipart"


def test_form_typed_raw_document_is_read_as_the_document(sf: TestClient) -> None:
    ticket_of(post(sf, SEND, sms_xml(), "application/x-www-form-urlencoded"))
    assert only(sf)["transport"] == "body"


def test_form_without_an_xml_field_is_an_xml_error(sf: TestClient) -> None:
    body = urlencode({"xml": sms_xml().decode()}).encode()
    answer = post(sf, SEND, body, "application/x-www-form-urlencoded")
    assert (answer.status, answer.tags) == ("-2", ["status", "message"])


def test_submission_records_the_documented_elements(sf: TestClient) -> None:
    ticket_of(
        send(
            sf,
            sender="Shop42",
            text="Visit us",
            is_flash="1",
            type_="bookmark",
            bookmark="www.example.com",
            gsm=[("33612345678", "ref-1"), "33612345679"],
        )
    )
    found = only(sf)
    assert {k: found[k] for k in ("sender", "text", "is_flash", "type", "bookmark")} == {
        "sender": "Shop42",
        "text": "Visit us",
        "is_flash": True,
        "type": "bookmark",
        "bookmark": "www.example.com",
    }
    assert (found["numbers"], found["gsmsmsids"]) == (
        ["33612345678", "33612345679"],
        ["ref-1", ""],
    )


def test_defaults_are_not_flash_long_sms_and_no_references(sf: TestClient) -> None:
    ticket_of(send(sf))
    found = only(sf)
    assert (found["is_flash"], found["type"], found["gsmsmsids"]) == (False, "longSMS", None)


def test_empty_optional_elements_count_as_absent(sf: TestClient) -> None:
    ticket_of(send(sf, is_flash="", type_="", bookmark="", delay=""))
    assert (only(sf)["type"], only(sf)["scheduled_for"]) == ("longSMS", None)


def test_text_outside_gsm7_is_recorded_converted(sf: TestClient) -> None:
    ticket_of(send(sf, text="Noël à l'hôtel 😀"))
    assert only(sf)["text"] == "Noel à l'hotel ?"


@pytest.mark.parametrize(
    ("text", "credits_used"),
    [("a" * 160, 1), ("a" * 161, 2), ("a" * 306, 2), ("a" * 307, 3), ("€" * 80, 1)],
    ids=["160", "161", "306", "307", "extension-counts-double"],
)
def test_credits_per_recipient_follow_160_then_153(
    sf: TestClient, text: str, credits_used: int
) -> None:
    answer = send(sf, text=text)
    assert answer.credits == str(BALANCE - credits_used)


def test_credits_are_charged_per_recipient(sf: TestClient) -> None:
    answer = send(sf, text="a" * 200, gsm=numbers(3))
    assert (answer.credits, only(sf)["cost"], only(sf)["parts"]) == (
        str(BALANCE - 6),
        6.0,
        2,
    )


def test_text_of_1120_characters_is_accepted(sf: TestClient) -> None:
    ticket_of(send(sf, text="a" * 1120))
    assert only(sf)["parts"] == 8


def test_text_limit_counts_characters_as_received(sf: TestClient) -> None:
    assert send(sf, text="ë" * 1121).status == "-2"


def test_future_delay_schedules_the_sms_in_paris_time(sf: TestClient) -> None:
    ticket_of(send(sf, delay="2024-03-01T13:30:00"))
    assert only(sf)["scheduled_for"] == "2024-03-01T12:30:00+00:00"


def test_past_delay_sends_now(sf: TestClient) -> None:
    ticket_of(send(sf, delay="2024-03-01T11:00:00"))
    assert only(sf)["scheduled_for"] is None


@pytest.mark.parametrize(
    "delay",
    ["2024-03-01 13:30:00", "01/03/2024 13:30", "2024-02-30T10:00:00", "2024-03-01T13:30"],
    ids=["space", "french-order", "no-such-day", "no-seconds"],
)
def test_wrong_delay_answers_minus_4(sf: TestClient, delay: str) -> None:
    answer = send(sf, delay=delay)
    assert (answer.status, answer.message) == ("-4", "La date différée n'est pas correcte")
    assert submissions(sf) == []


@pytest.mark.parametrize(
    "number",
    ["+33612345678", "0612345678", "0033612345678", "33 612345678", "3361234567890123", "abc"],
    ids=["plus", "national", "00-prefix", "blank", "over-15-digits", "letters"],
)
def test_recipient_error_answers_minus_5(sf: TestClient, number: str) -> None:
    answer = send(sf, gsm=["33612345678", number])
    assert (answer.status, answer.message) == (
        "-5",
        "La liste des destinataires contient une erreur.",
    )
    assert submissions(sf) == []


def test_empty_gsm_answers_minus_5(sf: TestClient) -> None:
    assert send(sf, gsm=[""]).status == "-5"


def test_uncovered_country_code_answers_minus_5(clients: Clients) -> None:
    client = clients({"covered_prefixes": ["33", "32"]})
    assert send(client, gsm=["32470123456"]).status == "1"
    assert send(client, gsm=["447700900123"]).status == "-5"


def test_plausible_but_impossible_numbers_are_accepted(sf: TestClient) -> None:
    ticket_of(send(sf, gsm=["33145678901", "33612"]))


@pytest.mark.parametrize(
    ("username", "password"),
    [(USER, "wrong"), ("nobody@example.com", "sandbox-password"), ("", "")],
    ids=["wrong-password", "unknown-login", "empty"],
)
def test_bad_credentials_answer_minus_1(sf: TestClient, username: str, password: str) -> None:
    answer = send(sf, username=username, password=password)
    assert (answer.status, answer.message, answer.tags) == (
        "-1",
        "Le login et le mot de passe ne correspondent pas.",
        ["status", "message"],
    )


def test_accept_any_token_accepts_any_login(clients: Clients) -> None:
    client = clients(accept_any_token=True, any_token_balance=50)
    answer = send(client, username="bench@example.com", password="x")
    assert answer.credits == "49"


def test_accept_any_token_still_checks_configured_passwords(clients: Clients) -> None:
    client = clients(accept_any_token=True)
    assert send(client, password="wrong").status == "-1"


def test_insufficient_credits_answers_minus_3(clients: Clients) -> None:
    client = clients({"accounts": [{"username": USER, "password": "p", "balance": 2}]})
    answer = send(client, password="p", gsm=numbers(3))
    assert (answer.status, answer.message) == ("-3", "Le nombre de crédits n'est pas suffisant")
    assert send(client, password="p", gsm=numbers(2)).credits == "0"


def test_postpaid_account_may_go_negative(clients: Clients) -> None:
    account = {"username": USER, "password": "p", "balance": 1, "postpaid": True}
    client = clients({"accounts": [account]})
    assert send(client, password="p", gsm=numbers(3)).credits == "-2"


def test_credentials_are_checked_before_delay_and_recipients(sf: TestClient) -> None:
    assert send(sf, password="wrong", delay="bad", gsm=["+33"]).status == "-1"


def test_delay_is_checked_before_recipients(sf: TestClient) -> None:
    assert send(sf, delay="bad", gsm=["+33"]).status == "-4"


def test_recipients_are_checked_before_credits(clients: Clients) -> None:
    client = clients({"accounts": [{"username": USER, "password": "p", "balance": 0}]})
    assert send(client, password="p", gsm=["+33612345678"]).status == "-5"


def test_xml_errors_come_before_credentials(sf: TestClient) -> None:
    assert send(sf, password="wrong", sender=None).status == "-2"


def test_acceptance_time_is_the_clock(sf: TestClient, clock: FakeClock) -> None:
    clock.advance(60)
    ticket_of(send(sf))
    assert only(sf)["accepted_at"] == "2024-03-01T11:01:00+00:00"
    assert clock.now == T0 + 60


def test_identical_sends_are_counted_as_duplicates(sf: TestClient) -> None:
    send(sf)
    send(sf)
    assert sf.get("/_sandbox/stats").json()["duplicate_recipients"] == 1


def test_sends_are_counted_per_endpoint(sf: TestClient) -> None:
    send(sf)
    send(sf, password="wrong")
    assert sf.get("/_sandbox/stats").json()["requests"]["smsfactor.send"] == 2
