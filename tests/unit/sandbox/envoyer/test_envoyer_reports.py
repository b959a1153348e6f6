"""``/api/message/stats`` ("FONCTION STATISTIQUES DES MESSAGES") and ``/api/message/cancel``
("FONCTION ANNULATION D'ENVOI DE MESSAGE PROGRAMME"), with the shared timeline."""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import TYPE_CHECKING

from dispatcher.sandbox.config import SandboxConfig
from dispatcher.sandbox.timeline import TimelineConfig
from tests.unit.sandbox.conftest import PARIS, FakeClock

from .test_envoyer_support import (
    ALL_FINAL,
    AUTH,
    GATEWAY,
    Answer,
    Clients,
    call,
    error_of,
    only_submission,
    parse,
    remaining,
    send,
    sent_id,
)

TWO = {
    "accounts": [
        {"login": "a", "password": "p", "account_id": 1},
        {"login": "b", "password": "p", "account_id": 2},
    ]
}

if TYPE_CHECKING:
    from starlette.testclient import TestClient


def stats(client: TestClient, message_id: str, auth: tuple[str, str] = AUTH) -> Answer:
    return parse(call(client, "message/stats", auth=auth, messageid=message_id))


def statuses(answer: Answer) -> list[tuple[str, str]]:
    return [
        (r.findtext("mobile_number") or "", r.findtext("status_id") or "")
        for r in answer.root.iterfind("stats/recipient")
    ]


def counts(answer: Answer) -> list[int]:
    return [int(answer.get(f"stats/number_status_{i}")) for i in range(1, 6)]


def test_recipients_are_in_progress_at_once(client: TestClient) -> None:
    message_id = sent_id(send(client, recipients="33612345678,352000000077"))
    answer = stats(client, message_id)
    assert statuses(answer) == [("33612345678", "4"), ("352000000077", "4")]
    assert counts(answer) == [0, 0, 0, 2, 0]


def test_recipients_are_delivered_to_the_operator_after_the_gateway_delay(
    client: TestClient, clock: FakeClock
) -> None:
    message_id = sent_id(send(client))
    clock.advance(GATEWAY)
    assert statuses(stats(client, message_id)) == [("33612345678", "3")]


def test_recipients_end_delivered_with_their_delivery_date(
    client: TestClient, clock: FakeClock
) -> None:
    sent_at = clock.now
    message_id = sent_id(send(client))
    clock.advance(ALL_FINAL)
    answer = stats(client, message_id)
    assert statuses(answer) == [("33612345678", "1")]
    # Final after 5 s plus the per-number spread: 3 s x (crc32 mod 1000) / 1000.
    offset = 3.0 * (zlib.crc32(b"33612345678") % 1000) / 1000
    expected = datetime.fromtimestamp(sent_at + 5.0 + offset, PARIS)
    assert answer.get("stats/recipient/delivered_date") == expected.strftime("%Y-%m-%d %H:%M:%S")


def test_the_answer_has_the_documented_layout(client: TestClient, clock: FakeClock) -> None:
    message_id = sent_id(send(client, recipients="33612345699"))
    clock.advance(ALL_FINAL)
    assert call(client, "message/stats", messageid=message_id).text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<envoyersmspro>\n"
        "  <status>success</status>\n"
        "  <stats>\n"
        "    <number_status_1>0</number_status_1>\n"
        "    <number_status_2>1</number_status_2>\n"
        "    <number_status_3>0</number_status_3>\n"
        "    <number_status_4>0</number_status_4>\n"
        "    <number_status_5>0</number_status_5>\n"
        "    <recipient>\n"
        "      <mobile_number>33612345699</mobile_number>\n"
        "      <delivered_date></delivered_date>\n"
        "      <status_id>2</status_id>\n"
        "    </recipient>\n"
        "  </stats>\n"
        "</envoyersmspro>\n"
    )


def test_final_states_follow_the_number_suffix_rules(client: TestClient, clock: FakeClock) -> None:
    recipients = "33612345699,33612345698,33612345697,33612345696,33612345695,33612345600"
    message_id = sent_id(send(client, recipients=recipients))
    clock.advance(ALL_FINAL)
    answer = stats(client, message_id)
    assert [s for _, s in statuses(answer)] == ["2", "2", "2", "2", "3", "1"]
    assert counts(answer) == [1, 4, 1, 0, 0]


def test_blacklisted_recipients_report_stop_sms(make: Clients, clock: FakeClock) -> None:
    client = make(timeline=_rules({"suffix": "94", "final": "blacklisted"}))
    message_id = sent_id(send(client, recipients="33612345694"))
    clock.advance(ALL_FINAL)
    assert statuses(stats(client, message_id)) == [("33612345694", "5")]


def _rules(*rules: dict[str, str]) -> TimelineConfig:
    return SandboxConfig.from_dict({"timeline": {"rules": list(rules)}}).timeline


def test_wrong_numbers_allowed_are_not_delivered(client: TestClient, clock: FakeClock) -> None:
    message_id = sent_id(send(client, recipients="abc,33612345678", allnumberallowed="1"))
    clock.advance(GATEWAY)
    assert statuses(stats(client, message_id)) == [("abc", "2"), ("33612345678", "3")]


def test_numbers_with_markup_or_control_characters_stay_well_formed(client: TestClient) -> None:
    message_id = sent_id(send(client, recipients="a<b&c,x\x01y", allnumberallowed="1"))
    assert statuses(stats(client, message_id)) == [("a<b&c", "4"), ("x\ufffdy", "4")]


def test_duplicates_are_reported_once_per_occurrence(client: TestClient) -> None:
    message_id = sent_id(send(client, recipients="33612345678,33612345678"))
    assert len(statuses(stats(client, message_id))) == 2


def test_unknown_messageid_answers_error_7(client: TestClient) -> None:
    assert stats(client, "999999").error == (400, 7, "Unknown messageid")
    assert stats(client, "abc").error == (400, 7, "Unknown messageid")


def test_missing_messageid_answers_error_2(client: TestClient) -> None:
    assert error_of(call(client, "message/stats")) == (
        400,
        2,
        "Missing parameters - Messageid is missing",
    )


def test_leading_zeros_in_messageid_are_accepted(client: TestClient) -> None:
    message_id = sent_id(send(client))
    assert stats(client, f"00{message_id}").get("status") == "success"


def test_another_accounts_message_is_unknown(make: Clients) -> None:
    client = make(TWO)
    message_id = sent_id(send(client, auth=("a", "p")))
    assert stats(client, message_id, ("b", "p")).error[:2] == (400, 7)


def test_a_scheduled_message_is_pending_until_its_time(
    client: TestClient, clock: FakeClock
) -> None:
    message_id = sent_id(send(client, senddate="20240301", sendtime="1230"))
    assert stats(client, message_id).error == (403, 8, "Message is pending")
    clock.advance(30 * 60)
    assert statuses(stats(client, message_id)) == [("33612345678", "4")]


def test_cancelling_a_scheduled_message_recredits_its_sms(client: TestClient) -> None:
    message_id = sent_id(
        send(
            client,
            recipients="33612345678,33698765432",
            text="x" * 200,
            longmessageallowed="1",
            senddate="20240302",
            sendtime="0900",
        )
    )
    assert remaining(client) == 1_000_000_000 - 4
    response = call(client, "message/cancel", messageid=message_id)
    assert response.text == (
        '<?xml version="1.0" encoding="UTF-8"?>\n'
        "<envoyersmspro>\n"
        "  <status>success</status>\n"
        "  <message>\n"
        f"    <message_id>{message_id}</message_id>\n"
        "    <recredited_sms>4</recredited_sms>\n"
        "    <sms_remaing>1000000000</sms_remaing>\n"
        "  </message>\n"
        "</envoyersmspro>\n"
    )
    sub = only_submission(client)
    assert (sub["deleted"], sub["cancelled"]) == (True, True)


def test_cancelling_twice_answers_error_11(client: TestClient) -> None:
    message_id = sent_id(send(client, senddate="20240302", sendtime="0900"))
    call(client, "message/cancel", messageid=message_id)
    response = call(client, "message/cancel", messageid=message_id)
    assert error_of(response) == (403, 11, "Message is already cancelled")


def test_stats_of_a_cancelled_message_answer_error_11(client: TestClient) -> None:
    message_id = sent_id(send(client, senddate="20240302", sendtime="0900"))
    call(client, "message/cancel", messageid=message_id)
    assert stats(client, message_id).error[:2] == (403, 11)


def test_cancelling_a_message_being_sent_answers_error_9(client: TestClient) -> None:
    message_id = sent_id(send(client))
    response = call(client, "message/cancel", messageid=message_id)
    assert error_of(response) == (403, 9, "Message is being sent")


def test_cancelling_a_sent_message_answers_error_10(client: TestClient, clock: FakeClock) -> None:
    message_id = sent_id(send(client))
    clock.advance(GATEWAY)
    response = call(client, "message/cancel", messageid=message_id)
    assert error_of(response) == (403, 10, "Message has been sent")


def test_a_scheduled_message_cannot_be_cancelled_once_its_time_passed(
    client: TestClient, clock: FakeClock
) -> None:
    message_id = sent_id(send(client, senddate="20240301", sendtime="1230"))
    clock.advance(30 * 60 + GATEWAY)
    assert error_of(call(client, "message/cancel", messageid=message_id))[1] == 10
    assert remaining(client) == 1_000_000_000 - 1


def test_cancelling_an_unknown_message_answers_error_7(client: TestClient) -> None:
    assert error_of(call(client, "message/cancel", messageid="424242"))[:2] == (400, 7)


def test_cancelling_another_accounts_message_answers_error_7(make: Clients) -> None:
    client = make(TWO)
    message_id = sent_id(send(client, auth=("a", "p"), senddate="20240302", sendtime="0900"))
    response = call(client, "message/cancel", auth=("b", "p"), messageid=message_id)
    assert error_of(response)[:2] == (400, 7)


def test_a_cancelled_message_leaves_the_duplicate_counts(client: TestClient) -> None:
    message_id = sent_id(send(client, text="Same", senddate="20240302", sendtime="0900"))
    sent_id(send(client, text="Same"))
    call(client, "message/cancel", messageid=message_id)
    assert client.get("/_sandbox/stats").json()["duplicate_recipients"] == 0
