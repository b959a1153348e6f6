"""sMsmode tracking: polling (section 4), callbacks (sections 12, 13), smsStatus (section 11)."""

from __future__ import annotations

import urllib.parse
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain.models import InboundMessage, Report
from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.errors import CallbackError, PermanentProviderError, UnknownOutcomeError
from dispatcher.providers.smsmode import SubmissionStatus

from ._http import answering, raising, response
from ._smsmode import TOKEN, provider

PARIS = ZoneInfo("Europe/Paris")

# -- polling ----------------------------------------------------------------------------------


def test_poll_request_is_the_section_4_example() -> None:
    # https://api.smsmode.com/http/1.6/compteRendu.do?accessToken=Ab1CD2efg3Hi&smsID=12345678
    request = provider().build_poll_request("12345678")
    assert request.method == "GET"
    assert request.url.path == "/http/1.6/compteRendu.do"
    assert dict(request.url.params) == {"accessToken": TOKEN, "smsID": "12345678"}


def test_section_4_example_answer() -> None:
    result = provider().parse_poll_response(response("33600000000 11 | 33611111111 13"), "S1")
    assert result.outcome is Outcome.ACCEPTED
    assert list(result.reports) == [
        Report("33600000000", RecipientStatus.DELIVERED, "11", "Received", provider_ref="S1"),
        Report(
            "33611111111",
            RecipientStatus.SUBMITTED,
            "13",
            "Issued operator (temporary status)",
            provider_ref="S1",
        ),
    ]


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("33600000000 11", [("33600000000", "11")]),
        ("33600000000 11|33611111111 3524\n", [("33600000000", "11"), ("33611111111", "3524")]),
        ("33600000000   37 | 33611111111\t0 |", [("33600000000", "37"), ("33611111111", "0")]),
        ("0600000000 999", [("0600000000", "999")]),
    ],
)
def test_report_lines(body: str, expected: list[tuple[str, str]]) -> None:
    result = provider().parse_poll_response(response(body), "S1")
    assert result.outcome is Outcome.ACCEPTED
    assert [(r.msisdn, r.raw_code) for r in result.reports] == expected


@given(
    st.lists(
        st.tuples(st.from_regex(r"\A[0-9]{6,15}\Z"), st.from_regex(r"\A[0-9]{1,4}\Z")),
        min_size=1,
        max_size=20,
    )
)
def test_any_report_list_is_read_back(pairs: list[tuple[str, str]]) -> None:
    body = " | ".join(f"{msisdn} {code}" for msisdn, code in pairs)
    result = provider().parse_poll_response(response(body), "S1")
    assert result.outcome is Outcome.ACCEPTED
    assert [(r.msisdn, r.raw_code) for r in result.reports] == pairs


def test_an_undocumented_report_code_is_unknown() -> None:
    (report,) = provider().parse_poll_response(response("33600000000 77"), "S1").reports
    assert (report.status, report.raw_code) == (RecipientStatus.UNKNOWN, "77")


@pytest.mark.parametrize("body", ["", "  \n"])
def test_an_empty_answer_means_no_report_yet(body: str) -> None:
    result = provider().parse_poll_response(response(body), "S1")
    assert (result.outcome, list(result.reports), result.gone) == (Outcome.ACCEPTED, [], False)


@pytest.mark.parametrize(
    ("body", "outcome", "code", "description", "gone"),
    [
        ("31", Outcome.TRANSIENT, "31", "Internal error", False),
        ("31 | Internal error", Outcome.TRANSIENT, "31", "Internal error", False),
        ("35", Outcome.PERMANENT, "35", "Missing mandatory parameter", False),
        (
            "35 | Missing mandatory parameter",
            Outcome.PERMANENT,
            "35",
            "Missing mandatory parameter",
            False,
        ),
        ("61", Outcome.PERMANENT, "61", "SMS not found", True),
        ("61 | SMS not found", Outcome.PERMANENT, "61", "SMS not found", True),
        ("61 SMS not found", Outcome.PERMANENT, "61", "SMS not found", True),
        ("61 |", Outcome.PERMANENT, "61", "SMS not found", True),
        (
            "61|SMS n'existant pas ou plus\n",
            Outcome.PERMANENT,
            "61",
            "SMS n'existant pas ou plus",
            True,
        ),
        ("32 | Authentication error", Outcome.UNKNOWN, "32", "Authentication error", False),
    ],
)
def test_error_answers(
    body: str, outcome: Outcome, code: str, description: str, gone: bool
) -> None:
    result = provider().parse_poll_response(response(body), "S1")
    assert (result.outcome, result.code, result.description) == (outcome, code, description)
    assert (result.gone, list(result.reports)) == (gone, [])


@pytest.mark.parametrize(
    "body",
    ["33600000000", "33600000000 11 | garbage", "hello", "33600000000 11 13", "<html></html>"],
)
def test_an_unreadable_answer_applies_nothing(body: str) -> None:
    result = provider().parse_poll_response(response(body), "S1")
    assert (result.outcome, list(result.reports)) == (Outcome.UNKNOWN, [])


@pytest.mark.parametrize(("status", "outcome"), [(503, Outcome.TRANSIENT), (500, Outcome.UNKNOWN)])
def test_poll_http_errors(status: int, outcome: Outcome) -> None:
    result = provider().parse_poll_response(response("33600000000 11", status), "S1")
    assert (result.outcome, list(result.reports)) == (outcome, [])


def test_fetch_reports_exchanges_and_parses() -> None:
    result = provider(answering("33600000000 11")).fetch_reports("S1")
    assert [(r.msisdn, r.status) for r in result.reports] == [
        ("33600000000", RecipientStatus.DELIVERED)
    ]


def test_fetch_reports_on_a_read_timeout_is_unknown() -> None:
    assert provider(raising(httpx.ReadTimeout)).fetch_reports("S1").outcome is Outcome.UNKNOWN


# -- delivery-report callback (section 12) ------------------------------------------------------

SECTION_12 = (
    "numero=336xxyyzzaa&date_reception=2010-03-25+09%3A52%3A17&statut=11&smsID=S7EpYZ5kmS87"
    "&refClient=12azer34&mcc_mnc=20801&cost=1"
)


def query(text: str, **changes: str | None) -> dict[str, str]:
    params = dict(urllib.parse.parse_qsl(text, keep_blank_values=True))
    for key, value in changes.items():
        if value is None:
            params.pop(key, None)
        else:
            params[key] = value
    return params


def test_section_12_example_callback() -> None:
    assert provider().parse_callback(query(SECTION_12)) == [
        Report(
            msisdn="336xxyyzzaa",
            status=RecipientStatus.DELIVERED,
            raw_code="11",
            raw_text="Received",
            occurred_at=datetime(2010, 3, 25, 9, 52, 17, tzinfo=PARIS),
            provider_ref="S7EpYZ5kmS87",
            client_ref="12azer34",
        )
    ]


def test_callback_date_is_aware_in_the_account_zone() -> None:
    (report,) = provider(timezone="UTC").parse_callback(query(SECTION_12))
    assert report.occurred_at is not None
    assert report.occurred_at.utcoffset() is not None
    assert report.occurred_at.isoformat() == "2010-03-25T09:52:17+00:00"


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"refClient": None}, "client_ref", None),
        ({"refClient": ""}, "client_ref", None),
        ({"date_reception": None}, "occurred_at", None),
        ({"cost": None, "mcc_mnc": None}, "raw_code", "11"),  # v3.1 sends no cost
        ({"statut": "3524"}, "status", RecipientStatus.FAILED),
        ({"statut": "37"}, "status", RecipientStatus.EXPIRED),
        ({"statut": "4242"}, "status", RecipientStatus.UNKNOWN),
    ],
)
def test_callback_variants(changes: dict[str, str | None], field: str, value: object) -> None:
    (report,) = provider().parse_callback(query(SECTION_12, **changes))
    assert getattr(report, field) == value


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"numero": None}, "numero"),
        ({"statut": None}, "statut"),
        ({"smsID": None}, "smsID"),
        ({"numero": " "}, "numero"),
        ({"statut": "received"}, "statut"),
        ({"date_reception": "25/03/2010 09:52:17"}, "date_reception"),
        ({"date_reception": "2010-03-25T09:52:17"}, "date_reception"),
        ({"date_reception": "2010-02-30 09:52:17"}, "date_reception"),
    ],
)
def test_bad_callbacks_are_refused(changes: dict[str, str | None], message: str) -> None:
    with pytest.raises(CallbackError, match=message):
        provider().parse_callback(query(SECTION_12, **changes))


# -- reply callback (section 13) -----------------------------------------------------------------

SECTION_13 = (
    "numero=36034&message=bonjour&emetteur=33601020304&date_reception=01012013-122233"
    "&smsID=abcd1234&refClient=monclient123&responseID=azertyu123"
)


def test_section_13_example_reply() -> None:
    assert provider().parse_inbound(query(SECTION_13)) == [
        InboundMessage(
            from_msisdn="33601020304",
            text="bonjour",
            received_at=datetime(2013, 1, 1, 12, 22, 33, tzinfo=PARIS),
            to="36034",
            provider_ref="abcd1234",
            client_ref="monclient123",
            message_id="azertyu123",
        )
    ]


@pytest.mark.parametrize(
    ("changes", "field", "value"),
    [
        ({"message": "STOP"}, "text", "STOP"),
        ({"smsID": None, "refClient": None}, "provider_ref", None),
        ({"refClient": None}, "client_ref", None),
        ({"date_reception": None}, "received_at", None),
    ],
)
def test_reply_variants(changes: dict[str, str | None], field: str, value: object) -> None:
    assert getattr(provider().parse_inbound(query(SECTION_13, **changes))[0], field) == value


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"emetteur": None}, "emetteur"),
        ({"responseID": None}, "responseID"),
        ({"message": None}, "message"),
        ({"date_reception": "01012013-12:22"}, "date_reception"),
        ({"date_reception": "2013-01-01 12:22:33"}, "date_reception"),
    ],
)
def test_bad_replies_are_refused(changes: dict[str, str | None], message: str) -> None:
    with pytest.raises(CallbackError, match=message):
        provider().parse_inbound(query(SECTION_13, **changes))


# -- smsStatus (section 11) ------------------------------------------------------------------------


def test_status_request_is_the_section_11_example() -> None:
    seen: list[httpx.Request] = []
    provider(answering("0 | Sent", seen=seen)).submission_status("12345678")
    (request,) = seen
    assert (request.method, request.url.path) == ("GET", "/http/1.6/smsStatus.do")
    assert dict(request.url.params) == {"accessToken": TOKEN, "smsID": "12345678"}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("0 | Sent", SubmissionStatus("0", "Sent", RecipientStatus.SUBMITTED)),  # section 11
        (
            "2 | Internal error - not sent",
            SubmissionStatus("2", "Internal error - not sent", RecipientStatus.FAILED),
        ),
        ("10 | Scheduled", SubmissionStatus("10", "Scheduled", RecipientStatus.SUBMITTED)),
        ("11 | Received", SubmissionStatus("11", "Received", RecipientStatus.DELIVERED)),
        ("13 | Delivered", SubmissionStatus("13", "Delivered", RecipientStatus.SUBMITTED)),
        ("39 | Delivery error", SubmissionStatus("39", "Delivery error", RecipientStatus.FAILED)),
        ("3524", SubmissionStatus("3524", "Permanent anti-spam error", RecipientStatus.FAILED)),
        ("77 | Something new", SubmissionStatus("77", "Something new", None)),
    ],
)
def test_submission_status(body: str, expected: SubmissionStatus) -> None:
    assert provider(answering(body)).submission_status("12345678") == expected


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ("32 | Authentication error", "32"),
        ("35 | Invalid parameters", "35"),  # section 11's 35, not the annex's
        ("61 | Invalid smsID", "61"),
        ("61", "61"),
    ],
)
def test_submission_status_errors(body: str, code: str) -> None:
    with pytest.raises(PermanentProviderError) as raised:
        provider(answering(body)).submission_status("12345678")
    assert raised.value.code == code


@pytest.mark.parametrize("body", ["", "Sent", "<html></html>"])
def test_submission_status_unreadable(body: str) -> None:
    with pytest.raises(UnknownOutcomeError):
        provider(answering(body)).submission_status("12345678")
