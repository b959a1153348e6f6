"""compteRendu.do (section 4), smsStatus.do (section 11) and deleteSMS.do (section 9)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import pytest

from dispatcher.sandbox.config import AccountConfig

from .conftest import TOKEN, FakeClock, accepted_id, get, send, submissions

if TYPE_CHECKING:
    from starlette.testclient import TestClient

# Default timeline: gateway after 2 s, final after 5 s + up to 3 s of per-number spread.
ALL_FINAL = 8.0


def report(client: TestClient, sms_id: str, token: str = TOKEN) -> str:
    return get(client, "compteRendu.do", accessToken=token, smsID=sms_id)


def status(client: TestClient, sms_id: str, token: str = TOKEN) -> str:
    return get(client, "smsStatus.do", accessToken=token, smsID=sms_id)


def delete(client: TestClient, **params: str) -> str:
    params.setdefault("accessToken", TOKEN)
    return get(client, "deleteSMS.do", **params)


def test_report_is_sent_status_at_once(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678,0698765432"))
    assert report(client, sms_id) == "33612345678 0 | 33698765432 0"


def test_report_reaches_gateway_delivered_after_the_gateway_delay(
    client: TestClient, clock: FakeClock
) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    clock.advance(2.0)
    assert report(client, sms_id) == "33612345678 13"


def test_report_ends_received(client: TestClient, clock: FakeClock) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    clock.advance(ALL_FINAL)
    assert report(client, sms_id) == "33612345678 11"


def test_final_codes_follow_the_last_two_digits(client: TestClient, clock: FakeClock) -> None:
    numbers = "33612345699,33612345698,33612345697,33612345696,33612345695"
    sms_id = accepted_id(send(client, message="Hi", numero=numbers))
    clock.advance(ALL_FINAL)
    assert report(client, sms_id) == (
        "33612345699 35 | 33612345698 34 | 33612345697 3998 | 33612345696 37 | 33612345695 13"
    )


def test_gateway_status_stays_forever_for_numbers_ending_95(
    client: TestClient, clock: FakeClock
) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345695"))
    clock.advance(20 * 86400)
    assert report(client, sms_id) == "33612345695 13"


def test_implausible_numbers_are_invalid_recipients(client: TestClient, clock: FakeClock) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="0145678901,+33612345678,12ab"))
    clock.advance(2.0)
    assert report(client, sms_id) == "0145678901 3998 | +33612345678 3998 | 12ab 3998"


def test_final_state_arrives_within_the_spread(client: TestClient, clock: FakeClock) -> None:
    numbers = ",".join(f"336{i:08d}" for i in range(50))
    sms_id = accepted_id(send(client, message="Hi", numero=numbers))
    clock.advance(5.0 + 1.5)
    codes = {pair.split(" ")[1] for pair in report(client, sms_id).split(" | ")}
    assert codes == {"11", "13"}


def test_scheduled_sms_reports_programmed_until_its_time(
    client: TestClient, clock: FakeClock
) -> None:
    sms_id = accepted_id(
        send(client, message="Hi", numero="33612345678", date_envoi="01032024-13:00")
    )
    clock.advance(3000)
    assert (report(client, sms_id), status(client, sms_id)) == ("33612345678 10", "10 | Scheduled")


def test_scheduled_sms_timeline_starts_at_its_time(client: TestClient, clock: FakeClock) -> None:
    sms_id = accepted_id(
        send(client, message="Hi", numero="33612345678", date_envoi="01032024-13:00")
    )
    clock.advance(3600 + 2.0)
    assert report(client, sms_id) == "33612345678 13"


def test_report_without_sms_id_answers_35(client: TestClient) -> None:
    assert get(client, "compteRendu.do", accessToken=TOKEN) == "35 | Missing mandatory parameter"


def test_report_with_unknown_token_answers_32(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    assert report(client, sms_id, token="nope") == "32 | Authentication error"


def test_report_of_unknown_sms_answers_61(client: TestClient) -> None:
    assert report(client, "doesnotexist") == "61 | SMS not found"


def test_report_of_another_accounts_sms_answers_61(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(accounts=(AccountConfig(TOKEN), AccountConfig("other")))
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    assert report(client, sms_id, token="other") == "61 | SMS not found"


def test_reports_are_searchable_for_30_days_only(client: TestClient, clock: FakeClock) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    clock.advance(30 * 86400 + 1)
    assert report(client, sms_id) == "61 | SMS not found"


def test_status_is_sent_at_once(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    assert status(client, sms_id) == "0 | Sent"


def test_status_is_delivered_when_all_reached_the_gateway(
    client: TestClient, clock: FakeClock
) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678,33612345695"))
    clock.advance(ALL_FINAL)
    assert status(client, sms_id) == "13 | Delivered"


def test_status_is_received_when_all_received(client: TestClient, clock: FakeClock) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678,33612345679"))
    clock.advance(ALL_FINAL)
    assert status(client, sms_id) == "11 | Received"


def test_status_is_partially_received_when_some_failed(
    client: TestClient, clock: FakeClock
) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678,33612345699"))
    clock.advance(ALL_FINAL)
    assert status(client, sms_id) == "15 | Partially received"


def test_status_is_partially_delivered_when_some_failed_and_some_wait(
    client: TestClient, clock: FakeClock
) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345695,33612345699"))
    clock.advance(ALL_FINAL)
    assert status(client, sms_id) == "12 | Partially delivered"


def test_status_of_a_failed_single_recipient_is_delivery_error(
    client: TestClient, clock: FakeClock
) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345699"))
    clock.advance(ALL_FINAL)
    assert status(client, sms_id) == "39 | Delivery error"


def test_status_of_an_invalid_number_is_3998(client: TestClient, clock: FakeClock) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="0145678901"))
    clock.advance(ALL_FINAL)
    assert status(client, sms_id) == "3998 | Invalid number"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"accessToken": TOKEN}, "35 | Invalid parameters"),
        ({"accessToken": "nope", "smsID": "x"}, "32 | Authentication error"),
        ({"accessToken": TOKEN, "smsID": "doesnotexist"}, "61 | Invalid smsID"),
    ],
    ids=["missing-sms-id", "unknown-token", "unknown-sms"],
)
def test_status_error_answers(client: TestClient, params: dict[str, str], expected: str) -> None:
    assert get(client, "smsStatus.do", **params) == expected


def test_delete_by_sms_id_answers_0_then_61(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    assert delete(client, smsID=sms_id) == "0 | SMS message deleted"
    assert delete(client, smsID=sms_id) == "61 | SMS message not found"


def test_deleted_sms_is_no_longer_found(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    delete(client, smsID=sms_id)
    assert (report(client, sms_id), submissions(client)[0]["deleted"]) == (
        "61 | SMS not found",
        True,
    )


def test_delete_by_numero_deletes_the_latest_sms_to_that_number(client: TestClient) -> None:
    older = accepted_id(send(client, message="one", numero="33612345678"))
    newer = accepted_id(send(client, message="two", numero="33611111111,0612345678"))
    assert delete(client, numero="0612345678") == "0 | SMS message deleted"
    assert {s["id"]: s["deleted"] for s in submissions(client)} == {older: False, newer: True}


def test_deleted_scheduled_sms_is_refunded(client: TestClient) -> None:
    sms_id = accepted_id(
        send(client, message="Hi", numero="33612345678,33612345679", date_envoi="01032024-13:00")
    )
    assert get(client, "credit.do", accessToken=TOKEN) == "999999998"
    delete(client, smsID=sms_id)
    assert get(client, "credit.do", accessToken=TOKEN) == "1000000000"


def test_deleting_a_sent_sms_refunds_nothing(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    delete(client, smsID=sms_id)
    assert get(client, "credit.do", accessToken=TOKEN) == "999999999"


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({}, "35 | Invalid parameters"),
        ({"accessToken": "nope", "smsID": "x"}, "32 | Authentication error"),
        ({"numero": "33600000000"}, "61 | SMS message not found"),
    ],
    ids=["neither-sms-id-nor-numero", "unknown-token", "no-sms-to-that-number"],
)
def test_delete_error_answers(client: TestClient, params: dict[str, str], expected: str) -> None:
    assert delete(client, **params) == expected
