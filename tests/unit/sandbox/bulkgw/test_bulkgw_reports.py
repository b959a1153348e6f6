"""Delivery reports pushed to ``dlr_url`` for ``dlr=1`` (the sandbox's documented format).

The fake clock starts at 2024-03-01 11:00:00 UTC; the callback dispatcher is driven with
``drain()``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pytest

from dispatcher.sandbox.config import CallbackConfig
from tests.unit.sandbox.conftest import FakeClock, RecordingSender

from .test_bulkgw_support import (
    ALL_FINAL,
    DLR_URL,
    PASSWORD,
    USER,
    Factory,
    balance,
    drain,
    items,
    query,
    submissions,
    submit,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient

SECTION = {"dlr_url": DLR_URL}


@pytest.fixture
def client(make: Factory) -> TestClient:
    return make(SECTION)


def reports(sender: RecordingSender) -> list[dict[str, str]]:
    return [query(r.url) for r in sender.requests]


def statuses(sender: RecordingSender) -> list[tuple[str, str, str]]:
    return [(q["destination"], q["status"], q["err"]) for q in reports(sender)]


def test_a_report_is_one_get_with_the_documented_query(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    ((_, _, msg_id),) = items(submit(client, dlr="1", source="My Shop"))
    clock.advance(2.0)
    drain(client)
    (request,) = sender.requests
    assert (request.method, request.provider, request.body) == ("GET", "bulkgw", None)
    assert request.url == (
        f"{DLR_URL}?msgid={msg_id}&destination=33612345678&source=My%20Shop&status=ACCEPTD"
        "&err=000&submitdate=2024-03-01%2011%3A00%3A00&donedate=2024-03-01%2011%3A00%3A02"
    )


def test_an_accepted_report_then_a_delivered_one(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    submit(client, dlr="1")
    clock.advance(ALL_FINAL)
    drain(client)
    assert [(q["status"], q["err"]) for q in reports(sender)] == [
        ("ACCEPTD", "000"),
        ("DELIVRD", "000"),
    ]


def test_final_statuses_follow_the_timeline_suffix_rules(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    numbers = ["33612345699", "33612345698", "33612345697", "33612345696", "33612345695"]
    submit(client, dlr="1", destination=",".join(numbers))
    clock.advance(ALL_FINAL)
    drain(client)
    finals = {d: (s, e) for d, s, e in statuses(sender) if s != "ACCEPTD"}
    assert finals == {
        "33612345699": ("UNDELIV", "001"),
        "33612345698": ("UNDELIV", "002"),
        "33612345697": ("REJECTD", "004"),
        "33612345696": ("EXPIRED", "003"),
    }


def test_a_number_without_a_final_state_only_gets_accepted(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    submit(client, dlr="1", destination="33612345695")
    clock.advance(30 * 86400)
    drain(client)
    assert statuses(sender) == [("33612345695", "ACCEPTD", "000")]


def test_an_undeliverable_number_gets_a_single_rejected_report(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    submit(client, dlr="1", destination="33123456789")
    clock.advance(ALL_FINAL)
    drain(client)
    assert statuses(sender) == [("33123456789", "REJECTD", "004")]


def test_dates_are_utc_and_reports_arrive_in_time_order(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    submit(client, dlr="1", destination=",".join(f"336{i:08d}" for i in range(20)))
    clock.advance(ALL_FINAL)
    drain(client)
    dates = [q["donedate"] for q in reports(sender)]
    assert (len(dates), dates, dates[0]) == (40, sorted(dates), "2024-03-01 11:00:02")


def test_message_ids_match_the_answer_even_for_a_repeated_number(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    answer = submit(client, dlr="1", destination="33612345678,bad,33612345678")
    clock.advance(2.0)
    drain(client)
    answered = sorted(m for c, _, m in items(answer) if c == "1701")
    assert sorted(q["msgid"] for q in reports(sender)) == answered


def test_dlr_0_sends_no_report(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    submit(client, dlr="0")
    clock.advance(ALL_FINAL)
    drain(client)
    assert (sender.requests, submissions(client)[0]["notification_url"]) == ([], None)


def test_an_account_without_dlr_url_gets_no_report(
    make: Factory, clock: FakeClock, sender: RecordingSender
) -> None:
    client = make()
    submit(client, dlr="1")
    clock.advance(ALL_FINAL)
    drain(client)
    assert sender.requests == []


def test_an_accounts_own_dlr_url_wins(
    make: Factory, clock: FakeClock, sender: RecordingSender
) -> None:
    account = {"username": USER, "password": PASSWORD, "dlr_url": "http://h/own?key=k"}
    client = make({"accounts": [account], "dlr_url": DLR_URL})
    submit(client, dlr="1")
    clock.advance(2.0)
    drain(client)
    assert sender.requests[0].url.startswith("http://h/own?key=k&msgid=")
    assert submissions(client)[0]["notification_url"] == "http://h/own?key=k"


def test_any_token_accounts_use_the_sections_dlr_url(
    make: Factory, clock: FakeClock, sender: RecordingSender
) -> None:
    client = make(SECTION, accept_any_token=True)
    submit(client, dlr="1", username="bench", password="bench")
    clock.advance(2.0)
    drain(client)
    assert sender.requests[0].url.startswith(DLR_URL + "?msgid=")


def test_intermediate_reports_can_be_switched_off(
    make: Factory, clock: FakeClock, sender: RecordingSender
) -> None:
    client = make({**SECTION, "intermediate_reports": False})
    submit(client, dlr="1", destination="33612345678,33612345699,33612345695")
    clock.advance(ALL_FINAL)
    drain(client)
    assert sorted(statuses(sender)) == [
        ("33612345678", "DELIVRD", "000"),
        ("33612345699", "UNDELIV", "001"),
    ]


def test_a_utf8_source_is_percent_encoded_in_utf8(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    submit(client, dlr="1", source="+33612345678")
    clock.advance(2.0)
    drain(client)
    assert "&source=%2B33612345678&" in sender.requests[0].url


def test_failed_reports_are_retried_and_counted(
    make: Factory, clock: FakeClock, sender: RecordingSender
) -> None:
    sender.fail_first = 3  # both first attempts and one retry fail
    client = make(SECTION, callbacks=CallbackConfig(retries=1))
    submit(client, dlr="1", destination="33612345678,33612345679")
    clock.advance(2.0)
    drain(client)
    stats: dict[str, Any] = client.get("/_sandbox/stats").json()["requests"]
    assert (stats["bulkgw.callbacks_sent"], stats["bulkgw.callbacks_failed"]) == (1, 1)


def test_reset_keeps_configured_accounts_and_restores_balances(make: Factory) -> None:
    client = make({"accounts": [{"username": "acme", "password": "pw", "balance": 5}]})
    submit(client, username="acme", password="pw", destination="33612345678,33612345679")
    client.post("/_sandbox/reset")
    assert (balance(client, "acme"), submissions(client)) == (5, [])
    assert items(submit(client, username="acme", password="pw"))[0][0] == "1701"


def test_reset_drops_pending_reports(
    client: TestClient, clock: FakeClock, sender: RecordingSender
) -> None:
    submit(client, dlr="1")
    client.post("/_sandbox/reset")
    clock.advance(ALL_FINAL)
    drain(client)
    assert sender.requests == []
