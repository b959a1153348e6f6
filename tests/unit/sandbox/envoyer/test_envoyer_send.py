"""``/api/message/send`` ("FONCTION NOUVEAU MESSAGE") over HTTP, in process."""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from .test_envoyer_support import (
    AUTH,
    FORM,
    Clients,
    basic,
    error_of,
    numbers,
    only_submission,
    parse,
    remaining,
    send,
    send_params,
    sent_id,
    submissions,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def test_the_documented_example_answers_exactly_the_documented_document(
    client: TestClient,
) -> None:
    response = client.get(
        "/api/message/send?text=Ceci+est+un+test&recipients=33600000001,35200000077"
        "&sendername=Societe",
        headers=basic(*AUTH),
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml; charset=UTF-8"
    assert response.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<envoyersmspro>\n"
        "  <status>success</status>\n"
        "  <message>\n"
        "    <message_id>1000</message_id>\n"
        "    <sms_sent>2</sms_sent>\n"
        "    <sms_remaing>999999998</sms_remaing>\n"
        "  </message>\n"
        "</envoyersmspro>\n"
    )


def test_message_ids_are_increasing_integers(client: TestClient) -> None:
    first, second = sent_id(send(client)), sent_id(send(client))
    assert int(second) == int(first) + 1


def test_post_form_is_accepted_and_recorded(client: TestClient) -> None:
    sent_id(send(client, text="Bonjour", recipients="33612345678,33698765432"))
    sub = only_submission(client)
    assert (sub["method"], sub["text"], sub["sender"]) == ("POST", "Bonjour", "Societe")
    assert sub["numbers"] == ["33612345678", "33698765432"]


def test_post_reads_the_query_string_too(client: TestClient) -> None:
    query = urlencode({"recipients": "33612345678", "sendername": "Societe"})
    response = client.post(
        f"/api/message/send?{query}", content=b"text=Hi", headers={**basic(*AUTH), **FORM}
    )
    sent_id(response)


def test_post_body_wins_over_the_query_string(client: TestClient) -> None:
    query = urlencode({"text": "query", "recipients": "33612345678", "sendername": "Societe"})
    response = client.post(
        f"/api/message/send?{query}", content=b"text=body", headers={**basic(*AUTH), **FORM}
    )
    sent_id(response)
    assert only_submission(client)["text"] == "body"


def test_the_last_occurrence_of_a_parameter_wins(client: TestClient) -> None:
    response = client.get(
        "/api/message/send?text=first&text=last&recipients=33612345678&sendername=Societe",
        headers=basic(*AUTH),
    )
    sent_id(response)
    assert only_submission(client)["text"] == "last"


def test_balance_decreases_by_sms_per_recipient(client: TestClient) -> None:
    answer = parse(send(client, recipients=numbers(3)))
    assert answer.get("message/sms_sent") == "3"
    assert answer.get("message/sms_remaing") == str(1_000_000_000 - 3)
    assert remaining(client) == 1_000_000_000 - 3


def test_long_message_bills_two_sms_per_recipient(client: TestClient) -> None:
    answer = parse(send(client, text="x" * 200, recipients=numbers(3), longmessageallowed="1"))
    assert answer.get("message/sms_sent") == "6"
    sub = only_submission(client)
    assert (sub["parts"], sub["cost"], sub["long_message"]) == (2, 6.0, True)


@pytest.mark.parametrize(
    ("drop", "extra", "message"),
    [
        ("recipients", {}, "Missing parameters - Recipients are missing"),
        ("text", {}, "Missing parameters - Text is missing"),
        ("sendername", {}, "Missing parameters - Sendername is missing"),
        (None, {"sendtime": "1200"}, "Missing parameters - Senddate is missing"),
        (None, {"senddate": "20240302"}, "Missing parameters - Sendtime is missing"),
    ],
    ids=["recipients", "text", "sendername", "senddate", "sendtime"],
)
def test_missing_parameters_answer_error_2(
    client: TestClient, drop: str | None, extra: dict[str, str], message: str
) -> None:
    params = {"text": "Hi", "recipients": "33612345678", "sendername": "Societe", **extra}
    if drop:
        del params[drop]
    response = client.post(
        "/api/message/send", content=urlencode(params).encode(), headers={**basic(*AUTH), **FORM}
    )
    assert error_of(response) == (400, 2, message)
    assert submissions(client) == []


def test_missing_parameters_are_checked_in_the_documented_order(client: TestClient) -> None:
    response = client.get("/api/message/send?sendername=x", headers=basic(*AUTH))
    assert error_of(response) == (400, 2, "Missing parameters - Recipients are missing")


@pytest.mark.parametrize(
    ("params", "detail"),
    [
        ({"recipients": " , "}, "No number found"),
        ({"text": ""}, "No message found"),
        ({"text": "   "}, "No message found"),
        ({"sendername": ""}, "No sendername found"),
        ({"sendername": "AB"}, "Sendername must be longer than 2 characters"),
        ({"sendername": "TWELVECHARSX"}, "Sendername must be shorter than 12 characters"),
        ({"sendername": "MY SHOP"}, "Sendername cannot contain special characters"),
        ({"sendername": "Café"}, "Sendername cannot contain special characters"),
        ({"sendername": "Shop-1"}, "Sendername cannot contain special characters"),
        ({"sendername": "0612345678"}, "Sendername cannot be a number"),
        ({"senddate": "2024031", "sendtime": "1200"}, "Senddate must contains 8 digits"),
        ({"senddate": "2024-3-1", "sendtime": "1200"}, "Senddate must contains 8 digits"),
        ({"senddate": "20240230", "sendtime": "1200"}, "Unrecognized date"),
        ({"senddate": "20241301", "sendtime": "1200"}, "Unrecognized date"),
        ({"senddate": "20240302", "sendtime": "930"}, "Sendtime must contains 4 digits"),
        ({"senddate": "20240302", "sendtime": "09h3"}, "Sendtime must contains 4 digits"),
        ({"senddate": "20240302", "sendtime": "2400"}, "Bad hour value for sendtime"),
        ({"senddate": "20240302", "sendtime": "1260"}, "Bad minute value for sendtime"),
        ({"tag": ""}, "Tag cannot be empty"),
        ({"tag": "t" * 21}, "Tag must must be shorter than 21 characters."),
    ],
)
def test_bad_values_answer_error_3(client: TestClient, params: dict[str, str], detail: str) -> None:
    assert error_of(send_params(client, params)) == (400, 3, f"Bad value of parameters - {detail}")
    assert submissions(client) == []


def test_sendername_rules_are_checked_in_the_documented_order(client: TestClient) -> None:
    # Too short comes before special characters and "is a number".
    assert error_of(send(client, sendername="1!"))[2].endswith("longer than 2 characters")


def test_sendername_of_3_and_11_alphanumerics_is_accepted(client: TestClient) -> None:
    sent_id(send(client, sendername="Abc"))
    sent_id(send(client, sendername="Societe2024"))


def test_blanks_around_the_sendername_are_ignored(client: TestClient) -> None:
    sent_id(send(client, sendername=" Societe "))
    assert only_submission(client)["sender"] == "Societe"


def test_wrong_numbers_are_listed(client: TestClient) -> None:
    recipients = "33612345678,+33612345679,0612345678,3361234,abc"
    assert error_of(send(client, recipients=recipients)) == (
        400,
        3,
        "Bad value of parameters - Wrong numbers : +33612345679,0612345678,3361234,abc",
    )


def test_wrong_numbers_are_checked_before_the_other_bad_values(client: TestClient) -> None:
    response = send(client, recipients="abc", sendername="")
    assert "Wrong numbers : abc" in error_of(response)[2]


def test_allnumberallowed_accepts_and_bills_wrong_numbers(client: TestClient) -> None:
    answer = parse(send(client, recipients="33612345678,abc", allnumberallowed="1"))
    assert answer.get("message/sms_sent") == "2"
    sub = only_submission(client)
    assert (sub["numbers"], sub["wrong_numbers"]) == (["33612345678", "abc"], ["abc"])


def test_options_other_than_1_stay_inactive(client: TestClient) -> None:
    response = send(client, recipients="abc", allnumberallowed="true")
    assert error_of(response)[1] == 3


def test_blanks_and_empty_items_in_recipients_are_ignored(client: TestClient) -> None:
    sent_id(send(client, recipients=" 33612345678 ,,33698765432,"))
    assert only_submission(client)["numbers"] == ["33612345678", "33698765432"]


def test_get_accepts_100_recipients(client: TestClient) -> None:
    sent_id(send(client, "GET", recipients=numbers(100)))


def test_get_refuses_101_recipients(client: TestClient) -> None:
    response = send(client, "GET", recipients=numbers(101))
    assert error_of(response) == (400, 3, "Bad value of parameters - Too many recipients")


def test_post_accepts_1000_recipients(client: TestClient) -> None:
    sent_id(send(client, recipients=numbers(1000)))
    assert len(only_submission(client)["numbers"]) == 1000


def test_post_refuses_1001_recipients(client: TestClient) -> None:
    response = send(client, recipients=numbers(1001))
    assert error_of(response) == (400, 3, "Bad value of parameters - Too many recipients")


def test_dedupe_removes_duplicates_before_counting_and_billing(client: TestClient) -> None:
    recipients = numbers(100) + ",33600000000"
    answer = parse(send(client, "GET", recipients=recipients, dedupe="1"))
    assert answer.get("message/sms_sent") == "100"


def test_without_dedupe_duplicates_are_sent_and_billed(client: TestClient) -> None:
    answer = parse(send(client, recipients="33612345678,33612345678"))
    assert answer.get("message/sms_sent") == "2"
    assert only_submission(client)["numbers"] == ["33612345678", "33612345678"]


def test_too_long_message_answers_error_4(client: TestClient) -> None:
    assert error_of(send(client, text="x" * 161)) == (400, 4, "Message too long")
    assert submissions(client) == []


def test_line_breaks_count_double_towards_the_limit(client: TestClient) -> None:
    assert error_of(send(client, text="x" * 159 + "\n"))[1] == 4
    sent_id(send(client, text="x" * 158 + "\n"))
    sub = only_submission(client)
    assert (sub["text"], sub["length"]) == ("x" * 158 + "\n", 160)


def test_truncation_allowed_records_the_truncated_text(client: TestClient) -> None:
    sent_id(send(client, text="x" * 200, messagetruncationallowed="1"))
    sub = only_submission(client)
    assert (sub["text"], sub["truncated"], sub["parts"]) == ("x" * 160, True, 1)


def test_stopsms_appends_the_mention(client: TestClient) -> None:
    sent_id(send(client, text="Promo -20%", stopsms="1"))
    assert only_submission(client)["text"] == "Promo -20%\nSTOP SMS au 36111"


def test_stopsms_on_a_142_character_text_is_too_long(client: TestClient) -> None:
    assert error_of(send(client, text="x" * 142, stopsms="1"))[1] == 4


def test_not_enough_sms_answers_error_5_with_403_and_accepts_nothing(make: Clients) -> None:
    client = make({"accounts": [{"login": "sandbox", "password": "p", "balance": 2}]})
    response = send(client, auth=("sandbox", "p"), recipients=numbers(3))
    assert error_of(response) == (403, 5, "Not enough SMS")
    assert submissions(client) == []
    assert remaining(client, ("sandbox", "p")) == 2


def test_exactly_enough_sms_is_accepted(make: Clients) -> None:
    client = make({"accounts": [{"login": "sandbox", "password": "p", "balance": 3}]})
    answer = parse(send(client, auth=("sandbox", "p"), recipients=numbers(3)))
    assert answer.get("message/sms_remaing") == "0"


def test_future_senddate_schedules_in_french_time(client: TestClient) -> None:
    # The fake clock is 2024-03-01 12:00 in Paris; 14:30 Paris is 13:30 UTC.
    sent_id(send(client, senddate="20240301", sendtime="1430"))
    assert only_submission(client)["scheduled_for"] == "2024-03-01T13:30:00+00:00"


def test_past_senddate_sends_at_once(client: TestClient) -> None:
    sent_id(send(client, senddate="20240301", sendtime="1159"))
    assert only_submission(client)["scheduled_for"] is None


def test_empty_senddate_and_sendtime_send_at_once(client: TestClient) -> None:
    sent_id(send(client, senddate="", sendtime=""))
    assert only_submission(client)["scheduled_for"] is None


def test_senddate_uses_the_configured_timezone(make: Clients) -> None:
    client = make({"timezone": "UTC"})
    sent_id(send(client, senddate="20240301", sendtime="1430"))
    assert only_submission(client)["scheduled_for"] == "2024-03-01T14:30:00+00:00"


def test_tag_is_recorded_as_the_reference(client: TestClient) -> None:
    sent_id(send(client, tag="campagne-mars"))
    assert only_submission(client)["ref_client"] == "campagne-mars"


def test_responsestatusid_is_recorded(client: TestClient) -> None:
    sent_id(send(client, responsestatusid="1"))
    assert only_submission(client)["responses_allowed"] is True


def test_utf8_text_round_trips(client: TestClient) -> None:
    sent_id(send(client, text="Fête à 5€ — ça marche"))
    assert only_submission(client)["text"] == "Fête à 5€ — ça marche"


def test_invalid_utf8_shows_as_replacement_characters(client: TestClient) -> None:
    body = b"text=Caf%E9&recipients=33612345678&sendername=Societe"
    sent_id(client.post("/api/message/send", content=body, headers={**basic(*AUTH), **FORM}))
    assert only_submission(client)["text"] == "Caf\ufffd"


def test_other_content_types_are_not_read(client: TestClient) -> None:
    body = b"text=Hi&recipients=33612345678&sendername=Societe"
    headers = {**basic(*AUTH), "content-type": "text/plain"}
    response = client.post("/api/message/send", content=body, headers=headers)
    assert error_of(response)[1] == 2


def test_an_oversized_body_is_refused(client: TestClient) -> None:
    body = b"text=" + b"x" * (1 << 20)
    response = client.post("/api/message/send", content=body, headers={**basic(*AUTH), **FORM})
    assert error_of(response) == (400, 3, "Bad value of parameters")


def test_errors_echo_the_request_without_the_password(client: TestClient) -> None:
    response = client.get(
        "/api/message/send?text=test&sendername=Societe&login=sandbox&password=sandbox-token"
    )
    answer = parse(response)
    assert answer.get("error/request") == "/message/send?text=test&sendername=Societe&login=sandbox"
    assert "sandbox-token" not in response.text


def test_error_messages_are_written_between_spaces_like_the_example(client: TestClient) -> None:
    response = send(client, text="x" * 161)
    assert "<error_message> Message too long </error_message>" in response.text


def test_duplicates_across_messages_are_counted_in_the_admin_stats(client: TestClient) -> None:
    sent_id(send(client, text="Same", recipients="33612345678"))
    sent_id(send(client, text="Same", recipients="33612345678"))
    assert client.get("/_sandbox/stats").json()["duplicate_recipients"] == 1
