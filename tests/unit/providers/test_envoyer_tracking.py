"""Envoyer SMS Pro polling ("FONCTION STATISTIQUES DES MESSAGES", "Les statuts de réception
des SMS"): one report per recipient, and nothing applied from an answer we cannot read."""

from __future__ import annotations

from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain.models import Report
from dispatcher.domain.statuses import Outcome, RecipientStatus

from ._envoyer import (
    HOSTILE,
    LOGIN,
    PASSWORD,
    STATS_ANSWER,
    UTF16_DOCTYPE,
    basic_auth,
    error,
    form,
    params_auth,
    provider,
    stats,
)
from ._http import answering, raising, response

PARIS = ZoneInfo("Europe/Paris")


def test_poll_request_is_the_documented_example() -> None:
    # http(s)://www.envoyersmspro.com/api/message/stats?messageid=879
    request = provider().build_poll_request("879")
    assert (request.method, request.url.path) == ("GET", "/api/message/stats")
    assert form(request) == {"messageid": "879"}
    assert basic_auth(request) == (LOGIN, PASSWORD)


def test_poll_with_parameter_authentication_posts_the_credentials() -> None:
    request = provider(**params_auth(account_id="496")).build_poll_request("879")
    assert (request.method, str(request.url)) == (
        "POST",
        "https://www.envoyersmspro.com/api/message/stats",
    )
    assert form(request) == {
        "login": LOGIN,
        "password": PASSWORD,
        "accountid": "496",
        "messageid": "879",
    }


def test_the_documented_stats_answer() -> None:
    result = provider().parse_poll_response(response(STATS_ANSWER), "879")
    assert (result.outcome, result.gone) == (Outcome.ACCEPTED, False)
    assert list(result.reports) == [
        Report(
            "33600000001",
            RecipientStatus.DELIVERED,
            "1",
            "SMS délivré",
            datetime(2011, 2, 10, 13, 32, tzinfo=PARIS),
            provider_ref="879",
        ),
        Report("352000000077", RecipientStatus.FAILED, "2", "SMS non délivré", provider_ref="879"),
    ]


@pytest.mark.parametrize(
    ("code", "status", "text", "opted_out"),
    [
        ("1", RecipientStatus.DELIVERED, "SMS délivré", False),
        ("2", RecipientStatus.FAILED, "SMS non délivré", False),
        ("3", RecipientStatus.SUBMITTED, "SMS délivré à l'opérateur", False),
        ("4", RecipientStatus.SUBMITTED, "SMS en cours de traitement", False),
        ("5", RecipientStatus.FAILED, "en STOP SMS", True),
        ("6", RecipientStatus.UNKNOWN, "undocumented status", False),
        ("0", RecipientStatus.UNKNOWN, "undocumented status", False),
    ],
)
def test_each_status_id(code: str, status: RecipientStatus, text: str, opted_out: bool) -> None:
    result = provider().parse_poll_response(response(stats(("33600000001", "", code))), "879")
    (report,) = result.reports
    assert (report.status, report.raw_code, report.raw_text) == (status, code, text)
    assert report.opted_out is opted_out


def test_delivered_date_is_read_in_the_account_timezone() -> None:
    body = stats(("33600000001", "2011-02-10 13:32:00", "1"))
    (report,) = provider(timezone="UTC").parse_poll_response(response(body), "879").reports
    assert report.occurred_at is not None
    assert report.occurred_at.isoformat() == "2011-02-10T13:32:00+00:00"


@given(
    st.lists(
        st.tuples(st.from_regex(r"\A[0-9]{6,15}\Z"), st.sampled_from("12345")),
        min_size=1,
        max_size=30,
    )
)
def test_any_stats_list_is_read_back(rows: list[tuple[str, str]]) -> None:
    body = stats(*((msisdn, "", code) for msisdn, code in rows))
    result = provider().parse_poll_response(response(body), "879")
    assert [(r.msisdn, r.raw_code) for r in result.reports] == rows


def test_stats_without_recipients_is_accepted_with_no_report() -> None:
    result = provider().parse_poll_response(response(stats()), "879")
    assert (result.outcome, list(result.reports)) == (Outcome.ACCEPTED, [])


@pytest.mark.parametrize(
    ("status", "body", "outcome", "code", "gone"),
    [
        (400, error("7", "Unknown messageid"), Outcome.PERMANENT, "7", True),
        (404, error("7", "Unknown messageid"), Outcome.PERMANENT, "7", True),
        (200, error("7", "Unknown messageid"), Outcome.PERMANENT, "7", True),
        (400, error("8", "Message is pending"), Outcome.ACCEPTED, "8", False),  # scheduled
        (200, error("8", "Message is pending"), Outcome.ACCEPTED, "8", False),
        (400, error("1", "Authentication failed"), Outcome.PERMANENT, "1", False),
        (401, error("1", "Authentication failed"), Outcome.PERMANENT, "1", False),
        (400, error("2", "Missing parameters"), Outcome.PERMANENT, "2", False),
        (400, error("3", "Bad value of parameters"), Outcome.PERMANENT, "3", False),
        (400, error("4", "Message too long"), Outcome.PERMANENT, "4", False),
        (400, error("5", "Not enough SMS"), Outcome.PERMANENT, "5", False),
        (400, error("9", "Message is being sent"), Outcome.UNKNOWN, "9", False),
        (400, error("10", "Message has been sent"), Outcome.UNKNOWN, "10", False),
        (400, error("11", "Message is already cancelled"), Outcome.UNKNOWN, "11", False),
        (400, error("12", "Message cannot received response"), Outcome.UNKNOWN, "12", False),
        (400, error(None, "Request limit reached"), Outcome.TRANSIENT, None, False),
        (400, error("6", ""), Outcome.TRANSIENT, "6", False),
        (200, error("6", ""), Outcome.UNKNOWN, "6", False),
        (404, "Not Found", Outcome.PERMANENT, None, False),  # a wrong URL is not "gone"
        (404, error("9", "Message is being sent"), Outcome.PERMANENT, "9", False),
        (500, STATS_ANSWER, Outcome.UNKNOWN, None, False),
        (502, STATS_ANSWER, Outcome.TRANSIENT, None, False),
        (503, "", Outcome.TRANSIENT, None, False),
        (400, "Bad Request", Outcome.UNKNOWN, None, False),
    ],
)
def test_errors_and_statuses(
    status: int, body: str, outcome: Outcome, code: str | None, gone: bool
) -> None:
    result = provider().parse_poll_response(response(body, status), "879")
    assert (result.outcome, result.code, result.gone) == (outcome, code, gone)
    assert list(result.reports) == []


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_broken_answers_apply_nothing(name: str) -> None:
    # The payloads hide in a stats answer too, so that only the hardening can refuse them.
    body = (
        HOSTILE[name]
        .replace(
            "<message><message_id>",
            "<stats><recipient><mobile_number>33600000001</mobile_number>"
            "<status_id>1</status_id><delivered_date></delivered_date><message_id>",
        )
        .replace("</message_id></message>", "</message_id></recipient></stats>")
    )
    result = provider().parse_poll_response(response(body), "879")
    assert (result.outcome, list(result.reports), result.gone) == (Outcome.UNKNOWN, [], False)


def test_a_doctype_hidden_in_utf_16_applies_nothing() -> None:
    result = provider().parse_poll_response(response(UTF16_DOCTYPE), "879")
    assert (result.outcome, list(result.reports)) == (Outcome.UNKNOWN, [])


@pytest.mark.parametrize(
    "rows",
    [
        [("33600000001", "", "1"), ("", "", "2")],  # a recipient without its number
        [("33600000001", "", "1"), ("33600000002", "", "")],  # without its status
        [("+33600000001", "", "1")],
        [("33600000001", "10/02/2011 13:32", "1")],  # not the documented date format
        [("33600000001", "2011-02-30 13:32:00", "1")],
        [("33600000001", "2011-02-10T13:32:00", "1")],
    ],
)
def test_an_unreadable_recipient_applies_nothing(rows: list[tuple[str, str, str]]) -> None:
    result = provider().parse_poll_response(response(stats(*rows)), "879")
    assert (result.outcome, list(result.reports)) == (Outcome.UNKNOWN, [])


def test_success_without_stats_applies_nothing() -> None:
    body = "<envoyersmspro><status>success</status></envoyersmspro>"
    result = provider().parse_poll_response(response(body), "879")
    assert (result.outcome, list(result.reports)) == (Outcome.UNKNOWN, [])


def test_fetch_reports_exchanges_and_parses() -> None:
    seen: list[httpx.Request] = []
    result = provider(answering(STATS_ANSWER, seen=seen)).fetch_reports("879")
    assert [(r.msisdn, r.status) for r in result.reports] == [
        ("33600000001", RecipientStatus.DELIVERED),
        ("352000000077", RecipientStatus.FAILED),
    ]
    assert [str(r.url) for r in seen] == [
        "https://www.envoyersmspro.com/api/message/stats?messageid=879"
    ]


@pytest.mark.parametrize(
    ("error_type", "outcome"),
    [(httpx.ReadTimeout, Outcome.UNKNOWN), (httpx.ConnectError, Outcome.TRANSIENT)],
)
def test_fetch_reports_transport_errors(
    error_type: type[httpx.TransportError], outcome: Outcome
) -> None:
    result = provider(raising(error_type)).fetch_reports("879")
    assert (result.outcome, list(result.reports)) == (outcome, [])
