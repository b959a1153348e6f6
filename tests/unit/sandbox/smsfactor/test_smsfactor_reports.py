"""getDr.php (document section 2): report answers and how the statuses evolve.

Default timeline: gateway after 2 s, final after 5 s plus up to 3 s of per-number spread;
SMSFactor reports are refreshed every second from acceptance (``refresh_period``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING
from urllib.parse import urlencode

import pytest

from dispatcher.sandbox.timeline import OutcomeRule, State, TimelineConfig
from tests.unit.sandbox.conftest import FakeClock

from .test_smsfactor_support import (
    REPORT,
    USER,
    Clients,
    post,
    report,
    report_xml,
    send,
    statuses,
    ticket_of,
)

if TYPE_CHECKING:
    from starlette.testclient import TestClient

ALL_FINAL = 8.0


def test_no_status_before_the_first_refresh(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf))
    clock.advance(0.9)
    answer = report(sf, ticket)
    assert (answer.status, answer.message, answer.tags) == (
        "1",
        "Message envoyé",
        ["status", "message"],
    )


def test_not_sent_at_the_first_refresh(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf))
    clock.advance(1.0)
    assert report(sf, ticket).gsm == [("33612345678", "", "NOT_SENT")]


def test_sent_once_the_operator_has_it(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf))
    clock.advance(2.0)
    assert statuses(report(sf, ticket)) == ["SENT"]


def test_delivered_in_the_end(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf))
    clock.advance(ALL_FINAL)
    assert statuses(report(sf, ticket)) == ["DELIVERED"]


def test_plain_http_path_and_form_transport_answer_too(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf))
    clock.advance(ALL_FINAL)
    body = urlencode({"XML": report_xml(ticket).decode()}).encode()
    answer = post(sf, "/getDr.php", body, "application/x-www-form-urlencoded")
    assert statuses(answer) == ["DELIVERED"]


def test_final_statuses_follow_the_last_two_digits(sf: TestClient, clock: FakeClock) -> None:
    gsm = ["33612345699", "33612345698", "33612345697", "33612345696", "33612345695"]
    ticket = ticket_of(send(sf, gsm=gsm))
    clock.advance(20 * 86400)
    assert statuses(report(sf, ticket)) == [
        "NOT_DELIVERED",
        "NOT_DELIVERED",
        "INVALID_DESTINATION_ADDRESS",
        "NOT_DELIVERED",
        "SENT",
    ]


def test_blacklisted_numbers_are_not_allowed(clients: Clients, clock: FakeClock) -> None:
    timeline = TimelineConfig(rules=(OutcomeRule("94", State.BLACKLISTED),))
    client = clients(timeline=timeline)
    ticket = ticket_of(send(client, gsm=["33612345694"]))
    clock.advance(ALL_FINAL)
    assert statuses(report(client, ticket)) == ["NOT_ALLOWED"]


def test_impossible_numbers_are_invalid_destination_addresses(
    sf: TestClient, clock: FakeClock
) -> None:
    ticket = ticket_of(send(sf, gsm=["33145678901", "33612"]))
    clock.advance(2.0)
    assert statuses(report(sf, ticket)) == ["INVALID_DESTINATION_ADDRESS"] * 2


def test_delayed_sms_is_not_sent_until_its_time(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf, delay="2024-03-01T13:00:00"))
    clock.advance(3600 - 1)
    assert statuses(report(sf, ticket)) == ["NOT_SENT"]


def test_delayed_sms_timeline_starts_at_its_time(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf, delay="2024-03-01T13:00:00"))
    clock.advance(3600 + ALL_FINAL)
    assert statuses(report(sf, ticket)) == ["DELIVERED"]


def test_reports_show_the_state_of_the_last_refresh(clients: Clients, clock: FakeClock) -> None:
    client = clients({"refresh_period": 60})
    ticket = ticket_of(send(client))
    clock.advance(59)
    first = report(client, ticket).gsm
    clock.advance(1)
    assert (first, statuses(report(client, ticket))) == ([], ["DELIVERED"])


def test_refresh_period_zero_reports_live(clients: Clients, clock: FakeClock) -> None:
    client = clients({"refresh_period": 0})
    ticket = ticket_of(send(client))
    assert statuses(report(client, ticket)) == ["NOT_SENT"]


def test_every_recipient_has_its_own_gsm_element(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf, gsm=[("33612345678", "a-1"), "33612345679", ("33612345699", "c")]))
    clock.advance(ALL_FINAL)
    assert report(sf, ticket).gsm == [
        ("33612345678", "a-1", "DELIVERED"),
        ("33612345679", "", "DELIVERED"),
        ("33612345699", "c", "NOT_DELIVERED"),
    ]


def test_gsmsmsid_filter_keeps_matching_recipients(sf: TestClient, clock: FakeClock) -> None:
    gsm = [("33612345678", "x"), ("33612345679", "y"), ("33612345699", "x")]
    ticket = ticket_of(send(sf, gsm=gsm))
    clock.advance(ALL_FINAL)
    assert report(sf, ticket, gsmsmsid="x").gsm == [
        ("33612345678", "x", "DELIVERED"),
        ("33612345699", "x", "NOT_DELIVERED"),
    ]


def test_gsmsmsid_filter_without_match_gives_no_gsm(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf, gsm=[("33612345678", "x")]))
    clock.advance(ALL_FINAL)
    answer = report(sf, ticket, gsmsmsid="nope")
    assert (answer.status, answer.gsm) == ("1", [])


def test_blank_gsmsmsid_filter_is_no_filter(sf: TestClient, clock: FakeClock) -> None:
    ticket = ticket_of(send(sf, gsm=[("33612345678", "x"), "33612345679"]))
    clock.advance(ALL_FINAL)
    assert len(report(sf, ticket, gsmsmsid=" ").gsm) == 2


def test_gsmsmsid_with_markup_characters_round_trips(sf: TestClient, clock: FakeClock) -> None:
    ref = "<a & \"b\", 'c'>"
    ticket = ticket_of(send(sf, gsm=[("33612345678", ref)]))
    clock.advance(ALL_FINAL)
    assert report(sf, ticket, gsmsmsid=ref).gsm == [("33612345678", ref, "DELIVERED")]


def test_wrong_password_answers_minus_1(sf: TestClient) -> None:
    ticket = ticket_of(send(sf))
    answer = report(sf, ticket, password="wrong")
    assert (answer.status, answer.message) == (
        "-1",
        "Le login et le mot de passe ne correspondent pas.",
    )


@pytest.mark.parametrize(
    "body",
    [
        b"<deliveryreport>",
        b"<deliveryreport><message><ticket>1</ticket></message></deliveryreport>",
        report_xml("1").replace(b"<ticket>1</ticket>", b""),
        report_xml(""),
        b"<!DOCTYPE d>" + report_xml("1"),
        report_xml("1").replace(b"deliveryreport", b"deliveryReport"),
    ],
    ids=["malformed", "no-authentication", "no-ticket", "empty-ticket", "doctype", "root"],
)
def test_xml_errors_answer_minus_2(sf: TestClient, body: bytes) -> None:
    answer = post(sf, REPORT, body)
    assert (answer.status, answer.message[:10]) == ("-2", "Erreur XML")


def test_unknown_ticket_answers_minus_2(sf: TestClient) -> None:
    answer = report(sf, "123456789")
    assert (answer.status, answer.message) == ("-2", "Erreur XML : ticket inconnu")


def test_another_accounts_ticket_is_unknown(clients: Clients) -> None:
    accounts = [
        {"username": USER, "password": "p"},
        {"username": "other@example.com", "password": "q"},
    ]
    client = clients({"accounts": accounts})
    ticket = ticket_of(send(client, password="p"))
    answer = report(client, ticket, username="other@example.com", password="q")
    assert answer.message == "Erreur XML : ticket inconnu"


def test_get_is_not_allowed(sf: TestClient) -> None:
    assert sf.get(REPORT).status_code == 405


def test_reports_are_counted(sf: TestClient) -> None:
    report(sf, "1")
    assert sf.get("/_sandbox/stats").json()["requests"]["smsfactor.report"] == 1
