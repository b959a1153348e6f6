"""Bulk gateway sending: the GET on the wire (sections 1.2 and 2.1) and what each answer proves
(section 1.4)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain.models import RecipientResult
from dispatcher.domain.statuses import Outcome
from dispatcher.domain.text import GSM_BASIC, GSM_EXTENDED, Encoding
from dispatcher.errors import ConfigurationError
from dispatcher.providers.bulkgw import SCHEDULE_ORDER, SEND_ORDER, BulkGatewayProvider

from ._bulkgw import NUMBERS, batch, pairs, params, provider, query
from ._http import answering, raising, response
from ._options import own_keys

A, T, P, U = Outcome.ACCEPTED, Outcome.TRANSIENT, Outcome.PERMANENT, Outcome.UNKNOWN
N1, N2 = NUMBERS


def test_capabilities_follow_the_document() -> None:
    cls = BulkGatewayProvider
    assert (cls.name, cls.methods, cls.default_method) == ("bulkgw", ("GET",), "GET")
    assert dict(cls.max_recipients) == {"GET": 1000}
    assert (cls.can_poll, cls.accepts_callbacks) == (False, True)
    assert (cls.can_schedule, cls.can_cancel) == (True, False)
    assert own_keys(cls) == {"flash"}


# -- building ------------------------------------------------------------------------------


def test_section_1_2_request_line() -> None:
    # /bulksms/bulksms?username=X&password=Y&type=Y&dlr=Z&destination=Q&source=R&message=S
    request = provider().build_send_request(batch("Hello", sender="SHOP"))
    assert (request.method, request.url.host, request.url.port) == ("GET", "gateway.test", 8080)
    assert request.url.path == "/bulksms/bulksms"
    assert query(request) == (
        "username=X&password=Y&type=0&dlr=0&destination=33612345678%2C33712345678"
        "&source=SHOP&message=Hello"
    )
    assert [key for key, _ in pairs(request)] == list(SEND_ORDER)
    assert request.content == b""


def test_the_undocumented_ip_parameter_is_not_sent() -> None:
    assert "ip" not in params(provider().build_send_request(batch()))  # section 1.3.1


@pytest.mark.parametrize(
    ("text", "encoding", "options", "expected"),
    [
        ("Hello", Encoding.GSM, {}, "0"),
        ("Hello", Encoding.GSM, {"flash": True}, "1"),
        ("Привет", Encoding.UNICODE, {}, "2"),
        ("Привет", Encoding.UNICODE, {"flash": True}, "6"),
        ("Hello", Encoding.UNICODE, {}, "2"),  # a campaign forced to Unicode
        ("Hello", Encoding.GSM, {"flash": False}, "0"),
    ],
)
def test_type_follows_the_text_and_flash(
    text: str, encoding: Encoding, options: dict[str, Any], expected: str
) -> None:
    request = provider().build_send_request(batch(text, encoding=encoding, options=options))
    assert params(request)["type"] == expected


@pytest.mark.parametrize(
    ("options", "expected"),
    [({}, "0"), ({"dlr": False}, "0"), ({"dlr": True}, "1"), ({"dlr": "1"}, "1")],
)
def test_dlr_comes_from_the_account_option(options: dict[str, Any], expected: str) -> None:
    assert params(provider(options=options).build_send_request(batch()))["dlr"] == expected


@pytest.mark.parametrize(
    ("fields", "on_wire"),
    [
        ({"text": "é"}, "message=%C3%A9"),  # UTF-8 (section 1.2), never ISO-8859-1
        ({"text": "€"}, "message=%E2%82%AC"),
        ({"text": "☺"}, "message=%E2%98%BA"),
        ({"text": "a b"}, "message=a%20b"),  # never "+", which a server may keep as "+"
        ({"text": "1+1=2 & more"}, "message=1%2B1%3D2%20%26%20more"),
        ({"text": "a,b;c/d?"}, "message=a%2Cb%3Bc%2Fd%3F"),
        ({"text": "line\nnext"}, "message=line%0Anext"),
        ({"sender": "+33612345678"}, "source=%2B33612345678"),  # "URL encode the plus sign"
        ({"msisdns": ["33612345678"]}, "destination=33612345678"),
        ({"msisdns": ["3361", "3362", "3363"]}, "destination=3361%2C3362%2C3363"),
    ],
)
def test_values_are_percent_encoded(fields: dict[str, Any], on_wire: str) -> None:
    assert f"&{on_wire}&" in f"&{query(provider().build_send_request(batch(**fields)))}&"


def test_credentials_are_encoded_too() -> None:
    adapter = provider(username="me@shop", password="p&ss=w+rd é")
    request = adapter.build_send_request(batch())
    assert query(request).startswith("username=me%40shop&password=p%26ss%3Dw%2Brd%20%C3%A9&")
    assert (params(request)["username"], params(request)["password"]) == ("me@shop", "p&ss=w+rd é")


@given(text=st.text(min_size=1, max_size=300))
def test_any_text_arrives_intact(text: str) -> None:
    request = provider().build_send_request(batch(text, encoding=Encoding.UNICODE))
    assert params(request)["message"] == text


@given(text=st.text(alphabet=sorted(GSM_BASIC | GSM_EXTENDED), min_size=1, max_size=300))
def test_any_gsm_text_arrives_intact(text: str) -> None:
    request = provider().build_send_request(batch(text, encoding=Encoding.GSM))
    assert params(request)["message"] == text


@pytest.mark.parametrize(
    ("field", "variable"), [("username", "USERNAME"), ("password", "PASSWORD")]
)
def test_missing_credentials_name_the_variable(field: str, variable: str) -> None:
    missing: dict[str, Any] = {field: None}
    with pytest.raises(ConfigurationError, match=f"DISPATCHER_ACCOUNTS__BULKGW_TEST__{variable}"):
        provider(**missing).build_send_request(batch())


# -- scheduling (section 2.1) -----------------------------------------------------------------


def test_a_scheduled_batch_uses_schedulemsg_in_section_2_1_order() -> None:
    when = datetime(2018, 3, 3, 3, 45, tzinfo=UTC)
    request = provider(timezone="UTC").build_send_request(batch(provider_send_at=when))
    assert request.url.path == "/bulksms/schedulemsg"
    assert [key for key, _ in pairs(request)] == list(SCHEDULE_ORDER)
    assert query(request).endswith("&date=03%2F03%2F2018&time=03%3A45%20am&gmt=%2B00%3A00")


@pytest.mark.parametrize(
    ("zone", "when", "date", "time", "gmt"),
    [
        ("UTC", "2018-03-03T03:45Z", "03/03/2018", "03:45 am", "+00:00"),  # section 2.1's
        ("UTC", "2018-03-03T23:51Z", "03/03/2018", "11:51 pm", "+00:00"),  # examples
        # Midnight is 00 (the documented range starts there), noon is 12 pm.
        ("UTC", "2024-01-15T00:05Z", "01/15/2024", "00:05 am", "+00:00"),
        ("UTC", "2024-01-15T12:00Z", "01/15/2024", "12:00 pm", "+00:00"),
        ("UTC", "2024-01-15T11:59Z", "01/15/2024", "11:59 am", "+00:00"),
        ("UTC", "2024-01-15T13:00Z", "01/15/2024", "01:00 pm", "+00:00"),
        # Rounded up to the minute, never early, across midnight and the year.
        ("UTC", "2024-12-31T23:59:01Z", "01/01/2025", "00:00 am", "+00:00"),
        # The account's zone, with its offset at that instant.
        ("Europe/Paris", "2024-07-01T12:00Z", "07/01/2024", "02:00 pm", "+02:00"),
        ("Europe/Paris", "2024-01-15T23:30Z", "01/16/2024", "00:30 am", "+01:00"),
        ("Europe/Paris", "2024-10-27T00:30Z", "10/27/2024", "02:30 am", "+02:00"),
        ("Europe/Paris", "2024-10-27T01:30Z", "10/27/2024", "02:30 am", "+01:00"),
        ("America/New_York", "2024-01-15T15:45Z", "01/15/2024", "10:45 am", "-05:00"),
        ("America/St_Johns", "2024-01-15T15:45Z", "01/15/2024", "12:15 pm", "-03:30"),
        ("Asia/Kolkata", "2024-01-15T06:30Z", "01/15/2024", "12:00 pm", "+05:30"),
        ("Pacific/Pago_Pago", "2024-01-15T15:00Z", "01/15/2024", "04:00 am", "-11:00"),
        # Offsets the document cannot express (hours over 12, minutes not 00 or 30): UTC.
        ("Asia/Kathmandu", "2024-01-15T06:30Z", "01/15/2024", "06:30 am", "+00:00"),
        ("Pacific/Tongatapu", "2024-01-15T06:30Z", "01/15/2024", "06:30 am", "+00:00"),
        ("Pacific/Kiritimati", "2024-01-15T06:30Z", "01/15/2024", "06:30 am", "+00:00"),
        # The instant counts, not the zone it was given in.
        ("UTC", "2024-01-15T09:00-04:00", "01/15/2024", "01:00 pm", "+00:00"),
    ],
)
def test_date_time_and_gmt(zone: str, when: str, date: str, time: str, gmt: str) -> None:
    send_at = datetime.fromisoformat(when)
    request = provider(timezone=zone).build_send_request(batch(provider_send_at=send_at))
    found = params(request)
    assert (found["date"], found["time"], found["gmt"]) == (date, time, gmt)


# -- answers (section 1.4) --------------------------------------------------------------------


def _results(body: str, msisdns: tuple[str, ...] = NUMBERS) -> list[tuple[str, Outcome, str]]:
    result = provider().parse_send_response(response(body), batch(msisdns=msisdns))
    return [(r.msisdn, r.outcome, r.code) for r in result.recipients]


def test_section_1_4_reply_format() -> None:
    # 1701|<CELL_NO>|<MESSAGE ID>, one per destination
    body = f"1701|{N1}|8e0b6d2a-1\n1701|{N2}|8e0b6d2a-2"
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.code, result.provider_ref) == (A, "1701", None)
    assert result.description == "Success, Message Submitted Successfully."
    assert list(result.recipients) == [
        RecipientResult(N1, A, "1701", "Success, Message Submitted Successfully.", "8e0b6d2a-1"),
        RecipientResult(N2, A, "1701", "Success, Message Submitted Successfully.", "8e0b6d2a-2"),
    ]


@pytest.mark.parametrize(
    "body",
    [
        f"1701|{N1}|m1\n1701|{N2}|m2",
        f"1701|{N1}|m1\r\n1701|{N2}|m2\r\n",
        f"1701|{N1}|m1,1701|{N2}|m2",
        f"1701|{N1}|m1, 1701|{N2}|m2",
        f" 1701 | {N1} | m1 ,\n1701|{N2}|m2\n\n",
        f"1701|{N2}|m2\n1701|{N1}|m1",  # in any order: matched by number
        f"1701|+{N1}|m1\n1701|+{N2}|m2",  # "may or may not include a plus" (section 1.2)
    ],
)
def test_line_separators_and_order(body: str) -> None:
    result = provider().parse_send_response(response(body), batch())
    assert result.outcome is A
    assert [(r.msisdn, r.message_id) for r in result.recipients] == [(N1, "m1"), (N2, "m2")]


@pytest.mark.parametrize(
    ("body", "outcome", "expected"),
    [
        (f"1701|{N1}|m1\n1706|{N2}|", A, [(N1, A, "1701"), (N2, P, "1706")]),
        (f"1706|{N1}\n1732|{N2}", P, [(N1, P, "1706"), (N2, P, "1732")]),
        (f"1709|{N1}|\n1709|{N2}|", T, [(N1, T, "1709"), (N2, T, "1709")]),
        (f"1715|{N1}|\n1715|{N2}|", U, [(N1, U, "1715"), (N2, U, "1715")]),
        # Part taken, part retryable or uncertain: never sent again whole.
        (f"1701|{N1}|m1\n1709|{N2}|", U, [(N1, A, "1701"), (N2, T, "1709")]),
        (f"1701|{N1}|m1\n1715|{N2}|", U, [(N1, A, "1701"), (N2, U, "1715")]),
        (f"1706|{N1}|\n1709|{N2}|", U, [(N1, P, "1706"), (N2, T, "1709")]),
        (f"1701|{N1}|m1", U, [(N1, A, "1701"), (N2, U, "")]),  # N2 missing
        (f"1701|{N1}|m1\n1701|{N1}|m3", U, [(N1, A, "1701"), (N2, U, "")]),
    ],
)
def test_mixed_answers(
    body: str, outcome: Outcome, expected: list[tuple[str, Outcome, str]]
) -> None:
    result = provider().parse_send_response(response(body), batch())
    assert result.outcome is outcome
    assert [(r.msisdn, r.outcome, r.code) for r in result.recipients] == expected


def test_a_missing_destination_is_unknown_and_says_so() -> None:
    result = provider().parse_send_response(response(f"1701|{N1}|m1"), batch())
    assert result.recipients[1] == RecipientResult(N2, U, "", "missing from the answer")


def test_lines_naming_other_numbers_are_counted() -> None:
    body = f"1701|{N1}|m1\n1701|{N2}|m2\n1701|33699999999|m9"
    result = provider().parse_send_response(response(body), batch())
    assert result.outcome is A
    assert result.description.endswith("; 1 answer line(s) named no destination of the batch")


def test_a_number_twice_takes_one_line_each() -> None:
    body = f"1701|{N1}|m1\n1706|{N1}|"
    assert _results(body, (N1, N1)) == [(N1, A, "1701"), (N1, P, "1706")]


def test_a_mixed_description_counts_codes() -> None:
    body = f"1701|{N1}|m1\n1706|{N2}|\n1701|33699999999|m9"
    result = provider().parse_send_response(response(body), batch(msisdns=[N1, N2, "33699999999"]))
    assert (result.code, result.description) == (None, "2 x 1701, 1 x 1706")


@pytest.mark.parametrize(
    ("body", "outcome", "code"),
    [
        ("1702", P, "1702"),  # invalid URL: no destination to name
        ("1703", P, "1703"),
        ("1709", T, "1709"),
        ("1709|", T, "1709"),
        ("1709||", T, "1709"),
        ("1715\n", U, "1715"),
        ("1725", P, "1725"),
        ("16", P, "16"),
        ("1701", U, "1701"),  # accepted, but without message ids
        ("4242", U, "4242"),
    ],
)
def test_a_code_alone_answers_the_whole_request(body: str, outcome: Outcome, code: str) -> None:
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.code) == (outcome, code)
    assert [(r.msisdn, r.outcome, r.code) for r in result.recipients] == [
        (N1, outcome, code),
        (N2, outcome, code),
    ]


@pytest.mark.parametrize("message_id", ["", " ", "a b"])
def test_accepted_without_a_usable_message_id_is_unknown(message_id: str) -> None:
    result = provider().parse_send_response(
        response(f"1701|{N1}|{message_id}"), batch(msisdns=[N1])
    )
    ((_, outcome, code),) = [(r.msisdn, r.outcome, r.code) for r in result.recipients]
    assert (outcome, code, result.recipients[0].message_id) == (U, "1701", None)
    assert "no usable message id" in result.recipients[0].description


def test_a_refused_destination_keeps_no_message_id() -> None:
    result = provider().parse_send_response(response(f"1706|{N1}|x1"), batch(msisdns=[N1]))
    assert result.recipients[0].message_id is None


@pytest.mark.parametrize(
    "body",
    [
        "",
        "  \n ",
        "OK",
        "<html><body>Bad gateway</body></html>",
        f"1701|{N1}|m1|extra",
        f"17o1|{N1}|m1",
        f"1701|{N1}x|m1",
        f"1702\n1701|{N1}|m1",  # a whole-request code cannot share the answer
        "1702\n1709",
        "-1",
        "12345678901",  # longer than any 32-bit SMPP status
        f"Error|{N1}|",
    ],
)
def test_unreadable_answers_are_unknown_and_apply_nothing(body: str) -> None:
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.code, list(result.recipients)) == (U, None, [])


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (500, U),
        (502, T),
        (503, T),
        (504, U),
        (501, U),
        (400, P),
        (401, P),
        (403, P),
        (404, P),
        (301, U),
    ],
)
def test_http_status_decides_before_the_body(status: int, outcome: Outcome) -> None:
    result = provider().parse_send_response(response(f"1701|{N1}|m1", status), batch())
    assert (result.outcome, result.http_status, list(result.recipients)) == (outcome, status, [])


@pytest.mark.parametrize(
    ("body", "status"),
    [
        ("GET /bulksms/bulksms?username=X&password=s3cr%26t&type=0 failed", 500),
        ("login X with s3cr&t refused", 500),
        ("echo: password=s3cr%26t", 200),
        ("s3cr&t", 200),
    ],
)
def test_the_password_never_reaches_a_description(body: str, status: int) -> None:
    result = provider(password="s3cr&t").parse_send_response(response(body, status), batch())
    assert "s3cr" not in result.description


def test_latin_1_body_is_decoded() -> None:
    result = provider().parse_send_response(response("Erreur générale".encode("latin-1")), batch())
    assert result.description == "unreadable answer: 'Erreur générale'"


def test_execute_send_exchanges_and_parses() -> None:
    seen: list[httpx.Request] = []
    adapter = provider(answering(f"1701|{N1}|m1\n1701|{N2}|m2", seen=seen))
    outbound = batch()
    result = adapter.execute_send(adapter.prepare_send(outbound), outbound)
    assert [r.message_id for r in result.recipients] == ["m1", "m2"]
    assert [(r.method, r.url.path) for r in seen] == [("GET", "/bulksms/bulksms")]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ConnectError, T),  # nothing left this machine
        (httpx.ConnectTimeout, T),
        (httpx.ReadTimeout, U),  # the gateway may have taken it: never re-sent
        (httpx.RemoteProtocolError, U),
    ],
)
def test_transport_errors(error: type[httpx.TransportError], outcome: Outcome) -> None:
    adapter = provider(raising(error))
    outbound = batch()
    result = adapter.execute_send(adapter.prepare_send(outbound), outbound)
    assert (result.outcome, result.code, list(result.recipients)) == (outcome, None, [])
