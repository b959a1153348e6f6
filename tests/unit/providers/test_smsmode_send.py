"""sMsmode sending: the request on the wire (sections 3 and 16) and what each answer proves."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain.statuses import Outcome
from dispatcher.domain.text import Encoding
from dispatcher.errors import (
    BatchTooLargeError,
    CampaignValidationError,
    ConfigurationError,
    UnsendableBatchError,
)
from dispatcher.providers import smsmode_codes
from dispatcher.providers.smsmode import SmsmodeProvider

from ._http import answering, raising, response
from ._smsmode import TOKEN, batch, form, provider, wire


def test_capabilities_follow_the_document() -> None:
    assert SmsmodeProvider.name == "smsmode"
    assert SmsmodeProvider.methods == ("GET", "POST")
    assert SmsmodeProvider.default_method == "POST"
    assert dict(SmsmodeProvider.max_recipients) == {"GET": 300, "POST": 1000}
    assert SmsmodeProvider.report_horizon == timedelta(days=30)
    assert (SmsmodeProvider.can_poll, SmsmodeProvider.accepts_callbacks) == (True, True)
    assert (SmsmodeProvider.can_schedule, SmsmodeProvider.can_cancel) == (True, True)


# -- building ------------------------------------------------------------------------------


def test_get_puts_the_form_in_the_query_string() -> None:
    request = provider().build_send_request(batch(method="GET"))
    assert request.method == "GET"
    assert request.url.path == "/http/1.6/sendSMS.do"
    assert request.url.host == "api.smsmode.com"
    assert request.content == b""


def test_post_puts_the_form_in_the_body_without_charset() -> None:
    request = provider().build_send_request(batch(method="POST"))
    assert request.method == "POST"
    assert str(request.url) == "https://api.smsmode.com/http/1.6/sendSMS.do"
    assert request.headers["content-type"] == "application/x-www-form-urlencoded"
    assert int(request.headers["content-length"]) == len(request.content)


@pytest.mark.parametrize("method", ["GET", "POST"])
def test_section_3_example_request(method: str) -> None:
    # https://api.smsmode.com/http/1.6/sendSMS.do?accessToken=Ab1CD2efg3Hi&message=Hello+Mum
    #     &numero=3363123456,0623123457
    request = provider().build_send_request(batch("Hello Mum", method=method))
    assert "message=Hello+Mum" in wire(request)
    assert form(request) == {
        "accessToken": TOKEN,
        "message": "Hello Mum",
        "numero": "3363123456,0623123457",
        "classe_msg": "2",
        "nbr_msg": "1",
    }


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("fields", "key", "value"),
    [
        ({"sender": "PERSO"}, "emetteur", "PERSO"),
        ({"client_ref": "12azer34"}, "refClient", "12azer34"),
        ({"options": {"stop": 1}}, "stop", "1"),
        ({"options": {"stop": 2}}, "stop", "2"),
        (
            {"callback_url": "https://cb.example/smsmode/s3cret?a=1&b=2"},
            "notification_url",
            "https://cb.example/smsmode/s3cret?a=1&b=2",
        ),
        (
            {"provider_send_at": datetime(2005, 12, 21, 13, 35, tzinfo=UTC)},
            "date_envoi",
            "21122005-14:35",  # section 3's second example
        ),
        ({"options": {"allow_replies": True}}, "classe_msg", "4"),
    ],
)
def test_each_optional_parameter_is_sent_when_set(
    method: str, fields: dict[str, Any], key: str, value: str
) -> None:
    assert form(provider().build_send_request(batch(method=method, **fields)))[key] == value


@pytest.mark.parametrize("key", ["emetteur", "refClient", "stop", "notification_url", "date_envoi"])
def test_optional_parameters_are_absent_when_unset(key: str) -> None:
    assert key not in form(provider().build_send_request(batch()))


def test_replies_send_classe_4_without_emetteur() -> None:
    request = provider().build_send_request(batch(sender="PERSO", options={"allow_replies": True}))
    assert form(request)["classe_msg"] == "4"
    assert "emetteur" not in form(request)


def test_section_16_example_unicode_request() -> None:
    # sendSMS.do?accessToken=Ab1CD2efg3Hi&classe_msg=9&message=%E2%98%BA&emetteur=PERSO
    #     &numero=3363123456,0623123457
    request = provider().build_send_request(batch("☺", method="GET", sender="PERSO"))
    assert "message=%E2%98%BA" in wire(request)
    assert form(request) == {
        "accessToken": TOKEN,
        "classe_msg": "9",
        "message": "☺",
        "emetteur": "PERSO",
        "numero": "3363123456,0623123457",
        "nbr_msg": "1",
    }


@pytest.mark.parametrize("method", ["GET", "POST"])
@pytest.mark.parametrize(
    ("text", "encoding", "on_wire"),
    [
        ("é", Encoding.GSM, "message=%E9"),  # section 3 table: é %E9
        ("€", Encoding.GSM, "message=%A4"),  # ISO-8859-15, not %80 (Windows-1252)
        ("ü", Encoding.GSM, "message=%FC"),
        ("à bientôt", Encoding.UNICODE, "message=%C3%A0+bient%C3%B4t"),
        ("☺", Encoding.UNICODE, "message=%E2%98%BA"),  # section 16 example
        ("é", Encoding.UNICODE, "message=%C3%A9"),
        ("Δ", Encoding.GSM, "message=%3F"),  # no ISO-8859-15 byte: "?", as sMsmode would
        ("a+b&c", Encoding.GSM, "message=a%2Bb%26c"),
    ],
)
def test_text_bytes_on_the_wire(method: str, text: str, encoding: Encoding, on_wire: str) -> None:
    request = provider().build_send_request(batch(text, method=method, encoding=encoding))
    assert f"&{on_wire}&" in f"&{wire(request)}&"


GSM_TEXT = st.text(
    alphabet=sorted(smsmode_codes.GSM_BASIC | smsmode_codes.GSM_EXTENDED), min_size=1, max_size=200
)


@given(text=GSM_TEXT, method=st.sampled_from(["GET", "POST"]))
def test_any_gsm_text_arrives_intact_in_iso_8859_15(text: str, method: str) -> None:
    request = provider().build_send_request(batch(text, method=method, encoding=Encoding.GSM))
    assert form(request)["message"] == text


@given(text=st.text(min_size=1, max_size=200), method=st.sampled_from(["GET", "POST"]))
def test_any_unicode_text_arrives_intact_in_utf_8(text: str, method: str) -> None:
    request = provider().build_send_request(batch(text, method=method, encoding=Encoding.UNICODE))
    assert form(request)["message"] == text


@pytest.mark.parametrize(
    ("send_at", "expected"),
    [
        (datetime(2005, 12, 21, 13, 35, tzinfo=UTC), "21122005-14:35"),  # CET, UTC+1
        (datetime(2024, 7, 1, 12, 0, tzinfo=UTC), "01072024-14:00"),  # CEST, UTC+2
        (datetime(2024, 3, 31, 0, 59, tzinfo=UTC), "31032024-01:59"),  # last minute of CET
        (datetime(2024, 3, 31, 1, 0, tzinfo=UTC), "31032024-03:00"),  # clocks jump to 03:00
        (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "27102024-02:30"),  # 02:30 CEST
        (datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "27102024-02:30"),  # 02:30 again, CET
        (datetime(2005, 12, 21, 13, 35, 1, tzinfo=UTC), "21122005-14:36"),  # rounded up
        (datetime(2005, 12, 21, 13, 34, 59, 999, tzinfo=UTC), "21122005-14:35"),
        (datetime(2005, 12, 21, 9, 35, tzinfo=timezone(timedelta(hours=-4))), "21122005-14:35"),
        (datetime(2024, 12, 31, 23, 0, tzinfo=UTC), "01012025-00:00"),
    ],
)
def test_date_envoi_is_paris_wall_time(send_at: datetime, expected: str) -> None:
    request = provider().build_send_request(batch(provider_send_at=send_at))
    assert form(request)["date_envoi"] == expected


def test_date_envoi_follows_the_account_timezone() -> None:
    send_at = datetime(2005, 12, 21, 13, 35, tzinfo=UTC)
    request = provider(timezone="UTC").build_send_request(batch(provider_send_at=send_at))
    assert form(request)["date_envoi"] == "21122005-13:35"


@pytest.mark.parametrize(
    ("text", "options", "segments", "expected"),
    [
        ("a" * 160, {}, None, "1"),  # section 3: nbr_msg=1 is 160 characters
        ("a" * 161, {}, None, "2"),
        ("a" * 306, {}, None, "2"),  # nbr_msg=2 is 306
        ("a" * 307, {}, None, "3"),
        ("a" * 459, {}, None, "3"),  # nbr_msg=3 is 459
        ("{" * 80, {}, None, "1"),  # starred characters count double
        ("{" * 81, {}, None, "2"),
        ("☺" * 70, {}, None, "1"),  # section 16: 70, then 134, 201, 268, 335
        ("☺" * 71, {}, None, "2"),
        ("☺" * 335, {}, None, "5"),
        ("a" * 149, {"stop": 1}, None, "1"),  # 149 + the 11-character mention = 160
        ("a" * 150, {"stop": 2}, None, "2"),  # the mention is added anyway (section 3)
        ("Hello", {}, 3, "3"),  # never fewer than the planner counted
    ],
)
def test_nbr_msg_covers_the_whole_text(
    text: str, options: dict[str, object], segments: int | None, expected: str
) -> None:
    request = provider().build_send_request(batch(text, options=options, segments=segments))
    assert form(request)["nbr_msg"] == expected


def test_missing_access_token_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="DISPATCHER_ACCOUNTS__SMSMODE_TEST__ACCESS_TOKEN"):
        provider(access_token=None).build_send_request(batch())


# -- limits ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("method", "size"), [("GET", 300), ("POST", 1000)])
def test_check_batch_accepts_the_limit(method: str, size: int) -> None:
    numbers = [f"336{i:08d}" for i in range(size)]
    provider().prepare_send(batch(msisdns=numbers, method=method))


@pytest.mark.parametrize(("method", "size"), [("GET", 301), ("POST", 1001)])
def test_check_batch_refuses_one_more(method: str, size: int) -> None:
    numbers = [f"336{i:08d}" for i in range(size)]
    with pytest.raises(BatchTooLargeError):
        provider().prepare_send(batch(msisdns=numbers, method=method))


@pytest.mark.parametrize(
    "fields",
    [
        {"sender": "My Shop"},
        {"sender": "PERSO", "options": {"allow_replies": True}},
        {"text": "a" * 766},
        {"text": "", "segments": 1},
    ],
)
def test_check_batch_refuses_what_validate_refuses(fields: dict[str, Any]) -> None:
    with pytest.raises(UnsendableBatchError, match="batch 7 cannot be sent") as raised:
        provider().prepare_send(batch(**fields))
    assert isinstance(raised.value, ConfigurationError)  # held for an operator, not retried
    assert len(raised.value.problems) == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"stop": 3}, "options.stop"),
    ],
)
def test_ill_typed_options_are_refused_before_any_batch(
    options: dict[str, Any], field: str
) -> None:
    # Enqueue parses options with the adapter's model: such a value never reaches a batch.
    with pytest.raises(CampaignValidationError) as raised:
        batch(options=options)
    assert [p.field for p in raised.value.problems] == [field]


# -- answers --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("body", "outcome", "code", "description", "ref"),
    [
        ("0 | Accepted | S7EpYZ5kmS87", Outcome.ACCEPTED, "0", "Accepted", "S7EpYZ5kmS87"),
        ("0|Accepted|abc123\n", Outcome.ACCEPTED, "0", "Accepted", "abc123"),
        (
            "0 | | abc123",
            Outcome.ACCEPTED,
            "0",
            "Accepted - message is accepted by the system and is currently being processed",
            "abc123",
        ),
        ("31 | Internal error", Outcome.TRANSIENT, "31", "Internal error", None),
        ("32 | Authentication error", Outcome.PERMANENT, "32", "Authentication error", None),
        (
            "33 | Insufficient account balance",
            Outcome.PERMANENT,
            "33",
            "Insufficient account balance",
            None,
        ),
        (
            "35 | Missing mandatory parameter",
            Outcome.PERMANENT,
            "35",
            "Missing mandatory parameter",
            None,
        ),
        ("50 | Temporarily unavailable", Outcome.TRANSIENT, "50", "Temporarily unavailable", None),
        ("50", Outcome.TRANSIENT, "50", "Temporarily unavailable", None),
        ("33", Outcome.PERMANENT, "33", "Insufficient account balance", None),
        ("41 | New login already used", Outcome.UNKNOWN, "41", "New login already used", None),
        ("99", Outcome.UNKNOWN, "99", "undocumented code", None),
    ],
)
def test_send_answer_codes(
    body: str, outcome: Outcome, code: str, description: str, ref: str | None
) -> None:
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.code, result.description) == (outcome, code, description)
    assert result.provider_ref == ref
    assert result.http_status == 200


@pytest.mark.parametrize("body", ["0 | Accepted", "0 | Accepted | ", "0", "0 | Accepted | a b"])
def test_accepted_without_a_usable_sms_id_is_unknown(body: str) -> None:
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.code, result.provider_ref) == (Outcome.UNKNOWN, "0", None)


@pytest.mark.parametrize(
    "body", ["", "   ", "OK", "<html><body>Bad gateway</body></html>", "-1 | error", "0x1F", "| 0"]
)
def test_unreadable_answers_are_unknown(body: str) -> None:
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.code) == (Outcome.UNKNOWN, None)


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (500, Outcome.UNKNOWN),
        (502, Outcome.TRANSIENT),
        (503, Outcome.TRANSIENT),
        (504, Outcome.UNKNOWN),
        (501, Outcome.UNKNOWN),
        (400, Outcome.PERMANENT),
        (401, Outcome.PERMANENT),
        (403, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
    ],
)
def test_http_status_decides_before_the_body(status: int, outcome: Outcome) -> None:
    result = provider().parse_send_response(response("0 | Accepted | abc", status), batch())
    assert (result.outcome, result.http_status, result.provider_ref) == (outcome, status, None)


def test_latin_description_is_decoded() -> None:
    body = "0 | Accepté | abc".encode("iso-8859-15")
    assert provider().parse_send_response(response(body), batch()).description == "Accepté"


def test_execute_send_exchanges_and_parses() -> None:
    seen: list[httpx.Request] = []
    adapter = provider(answering("0 | Accepted | S7EpYZ5kmS87", seen=seen))
    outbound = batch()
    result = adapter.execute_send(adapter.prepare_send(outbound), outbound)
    assert (result.outcome, result.provider_ref) == (Outcome.ACCEPTED, "S7EpYZ5kmS87")
    assert [r.url.path for r in seen] == ["/http/1.6/sendSMS.do"]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ConnectError, Outcome.TRANSIENT),  # nothing left this machine
        (httpx.ConnectTimeout, Outcome.TRANSIENT),
        (httpx.ReadTimeout, Outcome.UNKNOWN),  # the request may have been processed
        (httpx.RemoteProtocolError, Outcome.UNKNOWN),
    ],
)
def test_transport_errors(error: type[httpx.TransportError], outcome: Outcome) -> None:
    adapter = provider(raising(error))
    outbound = batch()
    result = adapter.execute_send(adapter.prepare_send(outbound), outbound)
    assert (result.outcome, result.code, result.provider_ref) == (outcome, None, None)
