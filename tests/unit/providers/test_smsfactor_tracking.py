"""SMSFactor delivery reports: the getDr.php request (section 2.2) and its answers (2.3)."""

from __future__ import annotations

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain.models import Report
from dispatcher.domain.statuses import Outcome, RecipientStatus
from dispatcher.providers import smsfactor_codes as codes

from ._http import answering, raising, response
from ._smsfactor import HOSTILE, PASSWORD, USERNAME, provider, report_answer, sent, shape

D, S, F, U = (
    RecipientStatus.DELIVERED,
    RecipientStatus.SUBMITTED,
    RecipientStatus.FAILED,
    RecipientStatus.UNKNOWN,
)


def gsm(number: str, ref: str | None, status: str = "", **attributes: str) -> str:
    attrs = f' number="{number}"' + (f' gsmsmsid="{ref}"' if ref is not None else "")
    attrs += "".join(f' {key}="{value}"' for key, value in attributes.items())
    return f"<gsm{attrs}>{status}</gsm>" if status else f"<gsm{attrs} />"


# -- request ----------------------------------------------------------------------------------


def test_section_2_2_document_structure_without_gsmsmsid() -> None:
    request = provider(options={"xml_transport": "body"}).build_poll_request("123456")
    assert (request.method, str(request.url)) == ("POST", "https://provider.test/API/getDr.php")
    assert request.headers["content-type"] == "application/xml; charset=UTF-8"
    assert shape(sent(request)) == [
        "deliveryreport",
        {},
        "",
        [
            [
                "authentication",
                {},
                "",
                [["username", {}, USERNAME, []], ["password", {}, PASSWORD, []]],
            ],
            ["message", {}, "", [["ticket", {}, "123456", []]]],
        ],
    ]


def test_poll_uses_the_form_transport_by_default() -> None:
    request = provider().build_poll_request("123456")
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert sent(request).findtext("message/ticket") == "123456"


# -- answers ----------------------------------------------------------------------------------


def test_section_2_3_answer_with_a_status_per_number() -> None:
    body = report_answer(
        "1",
        gsm("33600000000", "101", "DELIVERED"),
        gsm("33611111111", "102", "NOT_ALLOWED"),
        message="Message envoyé",
    )
    result = provider().parse_poll_response(response(body), "T1")
    assert (result.outcome, result.code) == (Outcome.ACCEPTED, "1")
    assert result.description == "Message envoyé"
    assert list(result.reports) == [
        Report(
            msisdn="33600000000",
            status=D,
            raw_code="DELIVERED",
            raw_text="Le message a été envoyé et reçu.",
            provider_ref="T1",
            recipient_id=101,
        ),
        Report(
            msisdn="33611111111",
            status=F,
            raw_code="NOT_ALLOWED",
            raw_text="Aucun message ne peut être envoyé vers ce numéro.",
            provider_ref="T1",
            recipient_id=102,
            opted_out=False,  # not an opt-out: see smsfactor_codes.py
        ),
    ]


@pytest.mark.parametrize(
    ("code", "status"), [(code, status) for code, (status, _) in codes.REPORT_STATUSES.items()]
)
def test_every_documented_status_in_an_answer(code: str, status: RecipientStatus) -> None:
    body = report_answer("1", gsm("33600000000", "7", code))
    (report,) = provider().parse_poll_response(response(body), "T1").reports
    assert (report.status, report.raw_code, report.recipient_id) == (status, code, 7)


@pytest.mark.parametrize(
    ("element", "expected"),
    [
        (gsm("33600000000", "7", "DELIVERED"), ("33600000000", 7, "DELIVERED", D)),
        (gsm("33600000000", "7", status="SENT"), ("33600000000", 7, "SENT", S)),  # attribute
        (
            '<gsm number=" 33600000000 " gsmsmsid=" 7 ">\n  NOT_DELIVERED\n</gsm>',
            ("33600000000", 7, "NOT_DELIVERED", F),
        ),
        (gsm("33600000000", None, "DELIVERED"), ("33600000000", None, "DELIVERED", D)),
        (gsm("33600000000", "", "DELIVERED"), ("33600000000", None, "DELIVERED", D)),
        (gsm("+33600000000", "7", "DELIVERED"), ("+33600000000", 7, "DELIVERED", D)),
        (gsm("33600000000", "7", "EXPIRED"), ("33600000000", 7, "EXPIRED", U)),
        (gsm("33600000000", "7", "delivered"), ("33600000000", 7, "delivered", U)),
    ],
)
def test_report_elements(
    element: str, expected: tuple[str, int | None, str, RecipientStatus]
) -> None:
    (report,) = provider().parse_poll_response(response(report_answer("1", element)), "T1").reports
    assert (report.msisdn, report.recipient_id, report.raw_code, report.status) == expected


def test_the_example_as_printed_self_closed_gsm_elements_carry_no_report_yet() -> None:
    # Section 2.3 prints <gsm number="" gsmsmsid="" />: with a number and no status, the
    # number simply has no report yet.
    body = report_answer("1", gsm("33600000000", "7"), gsm("33611111111", "8", "SENT"))
    result = provider().parse_poll_response(response(body), "T1")
    assert result.outcome is Outcome.ACCEPTED
    assert [(r.msisdn, r.raw_code) for r in result.reports] == [("33611111111", "SENT")]


@pytest.mark.parametrize("body", [report_answer("1"), "<response><status>1</status></response>"])
def test_no_gsm_element_means_no_report_yet(body: str) -> None:
    # Section 2.3.1.2: "Si aucun statut n'est disponible merci de réessayer plus tard".
    result = provider().parse_poll_response(response(body), "T1")
    assert (result.outcome, list(result.reports), result.gone) == (Outcome.ACCEPTED, [], False)


@given(
    st.lists(
        st.tuples(
            st.from_regex(r"\A[0-9]{6,15}\Z"),
            st.integers(min_value=1, max_value=2**62),
            st.sampled_from(sorted(codes.REPORT_STATUSES)),
        ),
        max_size=30,
    )
)
def test_any_report_list_is_read_back(rows: list[tuple[str, int, str]]) -> None:
    body = report_answer("1", *(gsm(n, str(rid), code) for n, rid, code in rows))
    result = provider().parse_poll_response(response(body), "T1")
    assert [(r.msisdn, r.recipient_id, r.raw_code) for r in result.reports] == rows


@pytest.mark.parametrize(
    ("status", "outcome", "description"),
    [
        ("-1", Outcome.PERMANENT, "Le login et le mot de passe ne correspondent pas."),
        ("-2", Outcome.PERMANENT, "Erreur XML"),
        ("-3", Outcome.UNKNOWN, "undocumented status"),
        ("0", Outcome.UNKNOWN, "undocumented status"),
    ],
)
def test_request_errors_apply_nothing(status: str, outcome: Outcome, description: str) -> None:
    body = report_answer(status, gsm("33600000000", "7", "DELIVERED"))
    result = provider().parse_poll_response(response(body), "T1")
    assert (result.outcome, result.code, result.description) == (outcome, status, description)
    assert (list(result.reports), result.gone) == ([], False)


@pytest.mark.parametrize(
    "body",
    [
        report_answer("1", gsm("", "7", "DELIVERED")),  # no number
        report_answer("1", '<gsm gsmsmsid="7">DELIVERED</gsm>'),
        report_answer("1", gsm("336 000", "7", "DELIVERED")),
        report_answer("1", gsm("33600000000", "abc", "DELIVERED")),  # not one of our ids
        report_answer("1", gsm("33600000000", "-7", "DELIVERED")),
        report_answer("1", gsm("33600000000", "7", "DELIVERED"), gsm("x", "8", "SENT")),
        "<response><gsm number='33600000000' gsmsmsid='7'>DELIVERED</gsm></response>",
        "<reports><status>1</status></reports>",
        # Section 2.3 exactly as printed: "<gsm ... /></gsm>" and "</ message >" are not XML.
        "<response>\n  <status></status>\n  <message></ message >\n"
        '  <gsm number="" gsmsmsid="" /></gsm>\n</response>',
    ],
)
def test_an_unreadable_answer_applies_nothing(body: str) -> None:
    result = provider().parse_poll_response(response(body), "T1")
    assert (result.outcome, list(result.reports)) == (Outcome.UNKNOWN, [])


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_broken_answers_apply_nothing(name: str) -> None:
    result = provider().parse_poll_response(response(HOSTILE[name]), "T1")
    assert (result.outcome, list(result.reports)) == (Outcome.UNKNOWN, [])


def test_a_hostile_answer_with_reports_applies_none_of_them() -> None:
    body = (
        '<!DOCTYPE response [<!ENTITY d "DELIVERED">]><response><status>1</status>'
        '<gsm number="33600000000" gsmsmsid="7">&d;</gsm></response>'
    )
    result = provider().parse_poll_response(response(body), "T1")
    assert (result.outcome, list(result.reports)) == (Outcome.UNKNOWN, [])


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (503, Outcome.TRANSIENT),
        (502, Outcome.TRANSIENT),
        (500, Outcome.UNKNOWN),
        (504, Outcome.UNKNOWN),
    ],
)
def test_poll_http_errors(status: int, outcome: Outcome) -> None:
    body = report_answer("1", gsm("33600000000", "7", "DELIVERED"))
    result = provider().parse_poll_response(response(body, status), "T1")
    assert (result.outcome, list(result.reports)) == (outcome, [])


def test_fetch_reports_exchanges_and_parses() -> None:
    seen: list[httpx.Request] = []
    body = report_answer("1", gsm("33600000000", "7", "DELIVERED"))
    result = provider(answering(body, seen=seen)).fetch_reports("T1")
    assert [(r.recipient_id, r.status) for r in result.reports] == [(7, D)]
    (request,) = seen
    assert (request.url.path, sent(request).findtext("message/ticket")) == ("/API/getDr.php", "T1")


@pytest.mark.parametrize(
    ("error", "outcome"),
    [(httpx.ConnectError, Outcome.TRANSIENT), (httpx.ReadTimeout, Outcome.UNKNOWN)],
)
def test_fetch_reports_transport_errors(
    error: type[httpx.TransportError], outcome: Outcome
) -> None:
    assert provider(raising(error)).fetch_reports("T1").outcome is outcome
