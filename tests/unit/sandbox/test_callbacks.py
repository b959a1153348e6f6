"""Delivery-report callbacks (section 12) and reply notifications (section 13).

The dispatcher is driven with ``drain()`` and a fake clock: no background task, no sleep.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import TYPE_CHECKING
from urllib.parse import parse_qsl, urlsplit

from dispatcher.sandbox.config import CallbackConfig

from .conftest import FakeClock, RecordingSender, accepted_id, context, get, send

if TYPE_CHECKING:
    from starlette.testclient import TestClient

URL = "http://127.0.0.1:9/dlr"
ALL_FINAL = 8.0


def drain(client: TestClient) -> None:
    asyncio.run(context(client).callbacks.drain())


def query(url: str, charset: str = "iso8859_15") -> dict[str, str]:
    return dict(parse_qsl(urlsplit(url).query, encoding=charset))


def test_no_callback_before_the_gateway_delay(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    send(client, message="Hi", numero="33612345678", notification_url=URL)
    clock.advance(1.9)
    drain(client)
    assert sender.requests == []


def test_one_callback_per_status_change(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678", notification_url=URL))
    clock.advance(ALL_FINAL)
    drain(client)
    statuses = [(query(r.url)["smsID"], query(r.url)["statut"]) for r in sender.requests]
    assert statuses == [(sms_id, "13"), (sms_id, "11")]


def test_callback_carries_the_documented_parameters(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    sms_id = accepted_id(
        send(client, message="Hi", numero="0612345678", notification_url=URL, refClient="r-1")
    )
    clock.advance(2.0)
    drain(client)
    (request,) = sender.requests
    assert request.url.startswith(URL + "?")
    params = query(request.url)
    assert set(params) == {
        "numero",
        "date_reception",
        "statut",
        "smsID",
        "refClient",
        "cost",
        "mcc_mnc",
    }
    assert (
        params["numero"],
        params["statut"],
        params["smsID"],
        params["refClient"],
        params["cost"],
    ) == (
        "33612345678",
        "13",
        sms_id,
        "r-1",
        "1",
    )


def test_callback_date_is_local_time_in_the_documented_format(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    send(client, message="Hi", numero="33612345678", notification_url=URL)
    clock.advance(2.0)
    drain(client)
    # Accepted at 12:00:00 Paris time; the gateway status is dated 2 s later.
    assert query(sender.requests[0].url)["date_reception"] == "2024-03-01 12:00:02"


def test_callback_without_ref_client_omits_it(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    send(client, message="Hi", numero="33612345678", notification_url=URL)
    clock.advance(2.0)
    drain(client)
    assert "refClient" not in query(sender.requests[0].url)


def test_callback_url_with_a_query_string_is_extended(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    send(client, message="Hi", numero="33612345678", notification_url=URL + "?key=abc")
    clock.advance(2.0)
    drain(client)
    assert query(sender.requests[0].url)["key"] == "abc"


def test_ref_client_is_encoded_in_the_request_charset(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    send(client, message="Hi", numero="33612345678", notification_url=URL, refClient="é")
    clock.advance(2.0)
    drain(client)
    assert "refClient=%E9" in sender.requests[0].url


def test_unicode_sms_callbacks_are_encoded_in_utf8(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    send(
        client,
        message="☺",
        numero="33612345678",
        classe_msg="9",
        notification_url=URL,
        refClient="☺",
    )
    clock.advance(2.0)
    drain(client)
    assert "refClient=%E2%98%BA" in sender.requests[0].url


def test_invalid_number_gets_a_single_3998_callback(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    send(client, message="Hi", numero="0145678901", notification_url=URL)
    clock.advance(ALL_FINAL)
    drain(client)
    assert [query(r.url)["statut"] for r in sender.requests] == ["3998"]


def test_callbacks_arrive_in_time_order_across_recipients(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    numbers = ",".join(f"336{i:08d}" for i in range(20))
    send(client, message="Hi", numero=numbers, notification_url=URL)
    clock.advance(ALL_FINAL)
    drain(client)
    dates = [query(r.url)["date_reception"] for r in sender.requests]
    assert (len(dates), dates) == (40, sorted(dates))


def test_deleted_sms_sends_no_further_callbacks(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678", notification_url=URL))
    get(client, "deleteSMS.do", accessToken="sandbox-token", smsID=sms_id)
    clock.advance(ALL_FINAL)
    drain(client)
    assert sender.requests == []


def test_scheduled_sms_callbacks_start_at_its_time(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    send(
        client,
        message="Hi",
        numero="33612345678",
        notification_url=URL,
        date_envoi="01032024-13:00",
    )
    clock.advance(3600 + 1.9)
    drain(client)
    before = len(sender.requests)
    clock.advance(0.1)
    drain(client)
    assert (before, len(sender.requests)) == (0, 1)


def test_failed_callbacks_are_retried(
    make_client: Callable[..., TestClient], clock: FakeClock, sender: RecordingSender
) -> None:
    sender.fail_first = 2
    client = make_client(callbacks=CallbackConfig(retries=3))
    send(client, message="Hi", numero="33612345678", notification_url=URL)
    clock.advance(2.0)
    drain(client)
    stats = client.get("/_sandbox/stats").json()["requests"]
    assert (
        len(sender.requests),
        stats["smsmode.callbacks_sent"],
        stats["smsmode.callbacks_failed"],
    ) == (1, 1, 0)


def test_callbacks_are_abandoned_after_the_retries(
    make_client: Callable[..., TestClient], clock: FakeClock, sender: RecordingSender
) -> None:
    sender.fail_first = 100
    client = make_client(callbacks=CallbackConfig(retries=2))
    send(client, message="Hi", numero="33612345678", notification_url=URL)
    clock.advance(2.0)
    drain(client)
    stats = client.get("/_sandbox/stats").json()["requests"]
    assert (sender.attempts, stats["smsmode.callbacks_failed"]) == (3, 1)


def test_reply_notifies_notification_url_reponse(
    client: TestClient, sender: RecordingSender
) -> None:
    sms_id = accepted_id(
        send(
            client,
            message="Hi",
            numero="0612345678",
            classe_msg="4",
            refClient="r-9",
            notification_url_reponse="http://127.0.0.1:9/mo",
        )
    )
    answer = client.post(
        "/_sandbox/replies", json={"sms_id": sms_id, "numero": "0612345678", "message": "STOP"}
    ).json()
    drain(client)
    params = query(sender.requests[0].url)
    assert params == {
        "numero": "36034",
        "message": "STOP",
        "emetteur": "33612345678",
        "date_reception": "01032024-120000",
        "smsID": sms_id,
        "refClient": "r-9",
        "responseID": answer["response_id"],
    }


def test_reply_needs_a_notification_url_reponse(client: TestClient) -> None:
    sms_id = accepted_id(send(client, message="Hi", numero="33612345678"))
    response = client.post("/_sandbox/replies", json={"sms_id": sms_id, "numero": "33612345678"})
    assert response.status_code == 409


def test_reply_must_come_from_a_recipient(client: TestClient) -> None:
    sms_id = accepted_id(
        send(client, message="Hi", numero="33612345678", notification_url_reponse="http://h/mo")
    )
    response = client.post("/_sandbox/replies", json={"sms_id": sms_id, "numero": "33600000000"})
    assert response.status_code == 400
