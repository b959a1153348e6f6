"""SMSFactor sending: the XML document on the wire (section 1.2) and what each answer proves
(section 1.3; docs/providers.md, "SMSFactor", its answers)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any
from xml.sax.saxutils import escape

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dispatcher.domain.statuses import Outcome
from dispatcher.domain.text import GSM_BASIC
from dispatcher.errors import (
    BatchTooLargeError,
    CampaignValidationError,
    ConfigurationError,
    UnsendableBatchError,
)
from dispatcher.providers import smsfactor_codes
from dispatcher.providers.smsfactor import SmsfactorProvider

from ._http import answering, raising, response
from ._options import own_keys
from ._smsfactor import (
    HOSTILE,
    PASSWORD,
    USERNAME,
    batch,
    provider,
    send_answer,
    sent,
    sent_xml,
    shape,
)


def test_capabilities_follow_the_document() -> None:
    assert SmsfactorProvider.name == "smsfactor"
    assert SmsfactorProvider.methods == ("POST",)
    assert dict(SmsfactorProvider.max_recipients) == {"POST": 1000}
    assert SmsfactorProvider.default_rate_limit == "10/second"
    assert SmsfactorProvider.report_horizon == timedelta(days=3)
    assert (SmsfactorProvider.can_poll, SmsfactorProvider.accepts_callbacks) == (True, False)
    assert (SmsfactorProvider.can_schedule, SmsfactorProvider.can_cancel) == (True, False)
    assert own_keys(SmsfactorProvider) == {"flash", "bookmark"}


# -- building ------------------------------------------------------------------------------


def test_section_1_2_document_structure() -> None:
    request = provider().build_send_request(batch("Hello"))
    assert shape(sent(request)) == [
        "sms",
        {},
        "",
        [
            [
                "authentication",
                {},
                "",
                [["username", {}, USERNAME, []], ["password", {}, PASSWORD, []]],
            ],
            [
                "message",
                {},
                "",
                [
                    ["sender", {}, "SMSFactor", []],
                    ["text", {}, "Hello", []],
                    ["isFlash", {}, "0", []],
                    ["type", {}, "longSMS", []],
                ],
            ],
            [
                "recipients",
                {},
                "",
                [
                    ["gsm", {"gsmsmsid": "101"}, "33600000000", []],
                    ["gsm", {"gsmsmsid": "102"}, "33611111111", []],
                ],
            ],
        ],
    ]


def test_the_document_is_posted_as_utf_8_xml_to_the_https_path() -> None:
    request = provider(options={"xml_transport": "body"}).build_send_request(batch())
    assert (request.method, str(request.url)) == ("POST", "https://provider.test/API/apiV2.php")
    assert request.headers["content-type"] == "application/xml; charset=UTF-8"
    assert request.content.startswith(b"<?xml version='1.0' encoding='UTF-8'?>")


def test_base_url_chooses_the_host_and_the_api_path_stays() -> None:
    request = provider(base_url="http://www.smsfactor.com").build_send_request(batch())
    assert str(request.url) == "http://www.smsfactor.com/API/apiV2.php"


def test_by_default_the_document_travels_in_an_xml_form_field() -> None:
    body = provider(options={"xml_transport": "body"}).build_send_request(batch())
    form = provider().build_send_request(batch())
    assert form.headers["content-type"] == "application/x-www-form-urlencoded"
    assert form.content.startswith(b"XML=%3C%3Fxml")
    assert sent_xml(form) == body.content


def test_form_field_name_is_an_account_option() -> None:
    options = {"xml_transport": "form", "form_field": "xml"}
    request = provider(options=options).build_send_request(batch())
    assert request.content.startswith(b"xml=%3C%3Fxml")


@pytest.mark.parametrize(
    ("options", "variable"),
    [
        ({"xml_transport": "soap"}, "OPTIONS__XML_TRANSPORT"),
        ({"form_field": "a b"}, "OPTIONS__FORM_FIELD"),
        ({"xml_transprot": "form"}, "OPTIONS__XML_TRANSPROT"),
    ],
)
def test_bad_account_options_name_the_variable(options: dict[str, str], variable: str) -> None:
    with pytest.raises(
        ConfigurationError, match=f"DISPATCHER_ACCOUNTS__SMSFACTOR_TEST__{variable}"
    ):
        provider(options=options).build_send_request(batch())


@pytest.mark.parametrize(
    ("fields", "path", "value"),
    [
        ({"options": {"flash": True}}, "message/isFlash", "1"),  # section 1.2.1.5
        ({"options": {"flash": 1}}, "message/isFlash", "1"),
        ({"options": {"flash": False}}, "message/isFlash", "0"),
        ({"options": {"bookmark": "www.smsfactor.com"}}, "message/type", "bookmark"),  # 1.2.1.7
        ({"options": {"bookmark": "www.smsfactor.com"}}, "message/bookmark", "www.smsfactor.com"),
        (
            {"provider_send_at": datetime(2010, 9, 21, 19, 10, tzinfo=UTC)},
            "message/delay",
            "2010-09-21T21:10:00",  # section 1.2.1.8's example, Paris summer time
        ),
    ],
)
def test_each_optional_element_is_sent_when_set(
    fields: dict[str, Any], path: str, value: str
) -> None:
    assert sent(provider().build_send_request(batch(**fields))).findtext(path) == value


@pytest.mark.parametrize("path", ["message/bookmark", "message/delay"])
def test_optional_elements_are_absent_when_unset(path: str) -> None:
    assert sent(provider().build_send_request(batch())).find(path) is None


@pytest.mark.parametrize(
    "text",
    [
        "a < b & c > d \"quoted\" 'single'",
        "]]> not a CDATA end",
        "line one\r\nline two\rthree\n",
        "{[~^|\\€]}",
        "@£$¥èéùìòÇØøÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ¤¡ÄÖÑÜ§¿äöñüà",
        "  leading and trailing blanks  ",
    ],
)
def test_text_arrives_exactly_as_written(text: str) -> None:
    assert sent(provider().build_send_request(batch(text))).findtext("message/text") == text


@given(text=st.text(alphabet=sorted(GSM_BASIC | smsfactor_codes.GSM_EXTENDED), min_size=1))
def test_any_gsm_text_arrives_intact(text: str) -> None:
    assert sent(provider().build_send_request(batch(text))).findtext("message/text") == text


def test_credentials_are_escaped_not_injected() -> None:
    root = sent(provider().build_send_request(batch()))
    assert root.findtext("authentication/password") == PASSWORD
    assert len(root.findall("authentication/*")) == 2


@pytest.mark.parametrize(
    ("send_at", "expected"),
    [
        (datetime(2010, 9, 21, 19, 10, tzinfo=UTC), "2010-09-21T21:10:00"),  # CEST, UTC+2
        (datetime(2024, 1, 15, 8, 30, 5, tzinfo=UTC), "2024-01-15T09:30:05"),  # CET, UTC+1
        (datetime(2024, 3, 31, 1, 0, tzinfo=UTC), "2024-03-31T03:00:00"),  # clocks jump
        (datetime(2024, 10, 27, 0, 30, tzinfo=UTC), "2024-10-27T02:30:00"),  # 02:30 CEST
        (datetime(2024, 10, 27, 1, 30, tzinfo=UTC), "2024-10-27T02:30:00"),  # 02:30 again, CET
        (datetime(2024, 1, 15, 8, 30, 5, 1, tzinfo=UTC), "2024-01-15T09:30:06"),  # rounded up
        (datetime(2024, 1, 15, 3, 30, tzinfo=timezone(timedelta(hours=-5))), "2024-01-15T09:30:00"),
        (datetime(2024, 12, 31, 23, 0, tzinfo=UTC), "2025-01-01T00:00:00"),
    ],
)
def test_delay_is_the_accounts_wall_time(send_at: datetime, expected: str) -> None:
    request = provider().build_send_request(batch(provider_send_at=send_at))
    assert sent(request).findtext("message/delay") == expected


def test_delay_follows_the_account_timezone() -> None:
    send_at = datetime(2010, 9, 21, 19, 10, tzinfo=UTC)
    request = provider(timezone="UTC").build_send_request(batch(provider_send_at=send_at))
    assert sent(request).findtext("message/delay") == "2010-09-21T19:10:00"


@pytest.mark.parametrize(
    ("overrides", "variable"),
    [({"username": None}, "USERNAME"), ({"password": None}, "PASSWORD")],
)
def test_missing_credentials_name_the_variable(overrides: dict[str, Any], variable: str) -> None:
    with pytest.raises(ConfigurationError, match=f"SMSFACTOR_TEST__{variable}"):
        provider(**overrides).build_send_request(batch())


def test_a_password_xml_cannot_carry_is_a_configuration_error_that_hides_it() -> None:
    with pytest.raises(ConfigurationError, match="password holds characters") as raised:
        provider(password="bad\x01secret").build_send_request(batch())
    assert "secret" not in str(raised.value)


# -- limits ---------------------------------------------------------------------------------


def test_check_batch_accepts_1000_recipients() -> None:
    numbers = [f"336{i:08d}" for i in range(1000)]
    provider().prepare_send(batch(msisdns=numbers))


def test_check_batch_refuses_1001() -> None:
    numbers = [f"336{i:08d}" for i in range(1001)]
    with pytest.raises(BatchTooLargeError):
        provider().prepare_send(batch(msisdns=numbers))


def test_a_smaller_account_batch_size_is_honoured() -> None:
    with pytest.raises(BatchTooLargeError):
        provider(batch_size=1).prepare_send(batch())


@pytest.mark.parametrize(
    "fields",
    [
        {"sender": None},
        {"sender": "My Shop"},
        {"text": "Noël"},
        {"text": "a" * 1121},
        {"options": {"stop": 1}},
        {"recipient_ids": [1]},
    ],
)
def test_check_batch_refuses_what_cannot_be_sent_as_written(fields: dict[str, Any]) -> None:
    with pytest.raises(UnsendableBatchError, match="batch 7 cannot be sent") as raised:
        provider().prepare_send(batch(**fields))
    assert isinstance(raised.value, ConfigurationError)  # held for an operator, not retried
    assert len(raised.value.problems) == 1


@pytest.mark.parametrize(
    ("options", "field"),
    [
        ({"flash": "yes"}, "options.flash"),
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
        (
            send_answer("1", "Message envoyé", "123456", "850"),
            Outcome.ACCEPTED,
            "1",
            "Message envoyé; credits: 850",
            "123456",
        ),
        (send_answer("1", "", "abc-42"), Outcome.ACCEPTED, "1", "Message envoyé", "abc-42"),
        (
            "<?xml version='1.0'?>\n<response>\n  <status> 1 </status>\n  <message>OK</message>\n"
            "  <ticket> 77 </ticket>\n  <credits>12.5</credits>\n</response>\n",
            Outcome.ACCEPTED,
            "1",
            "OK; credits: 12.5",
            "77",
        ),
        (
            send_answer("-1", "Le login et le mot de passe ne correspondent pas."),
            Outcome.PERMANENT,
            "-1",
            "Le login et le mot de passe ne correspondent pas.",
            None,
        ),
        (send_answer("-2", "Erreur XML"), Outcome.PERMANENT, "-2", "Erreur XML", None),
        (
            send_answer("-2", "Opening and ending tag mismatch: sms line 1"),
            Outcome.PERMANENT,
            "-2",
            "Opening and ending tag mismatch: sms line 1",  # 1.3.1.2: the message may differ
            None,
        ),
        (
            send_answer("-3", "", "", "0"),
            Outcome.PERMANENT,
            "-3",
            "Le nombre de crédits n'est pas suffisant; credits: 0",
            None,
        ),
        (send_answer("-4"), Outcome.PERMANENT, "-4", "La date différée n'est pas correcte", None),
        (
            send_answer("-5"),
            Outcome.PERMANENT,
            "-5",
            "La liste des destinataires contient une erreur.",
            None,
        ),
        (send_answer("-6", "Nouveau"), Outcome.UNKNOWN, "-6", "Nouveau", None),
        (send_answer("0"), Outcome.UNKNOWN, "0", "undocumented status", None),
        (
            send_answer("-3", "", "", "lots"),
            Outcome.PERMANENT,
            "-3",
            "Le nombre de crédits n'est pas suffisant",
            None,
        ),
    ],
)
def test_send_answers(
    body: str, outcome: Outcome, code: str, description: str, ref: str | None
) -> None:
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.code, result.description) == (outcome, code, description)
    assert (result.provider_ref, result.http_status) == (ref, 200)


def test_a_latin_1_answer_without_declaration_is_read() -> None:
    body = send_answer("-3", "Le nombre de crédits n'est pas suffisant").encode("iso-8859-1")
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.description) == (
        Outcome.PERMANENT,
        "Le nombre de crédits n'est pas suffisant",
    )


def test_a_declared_encoding_is_honoured() -> None:
    body = b'<?xml version="1.0" encoding="ISO-8859-1"?>' + send_answer(
        "1", "envoy\xe9", "9"
    ).encode("iso-8859-1")
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.description, result.provider_ref) == (
        Outcome.ACCEPTED,
        "envoyé",
        "9",
    )


@pytest.mark.parametrize("ticket", ["", "   ", "12 34", "x" * 129, "t\x7fk"])
def test_accepted_without_a_usable_ticket_is_unknown(ticket: str) -> None:
    result = provider().parse_send_response(response(send_answer("1", "OK", ticket)), batch())
    assert (result.outcome, result.code, result.provider_ref) == (Outcome.UNKNOWN, "1", None)


@pytest.mark.parametrize(
    "body",
    [
        "<response><message>Message envoyé</message><ticket>1</ticket></response>",
        "<response><status></status><ticket>1</ticket></response>",
        "<response><status>OK</status><ticket>1</ticket></response>",
        "<response><status>1 2</status><ticket>1</ticket></response>",
        "<reply><status>1</status><ticket>1</ticket></reply>",
        # Section 1.3 exactly as printed: "</ message >" is not XML, so it proves nothing.
        "<response>\n  <status>1</status>\n  <message></ message >\n  <ticket>1</ticket>\n"
        "  <credits></credits>\n</response>",
    ],
)
def test_answers_without_a_readable_status_are_unknown(body: str) -> None:
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.code, result.provider_ref) == (Outcome.UNKNOWN, None, None)


@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_broken_answers_are_unknown(name: str) -> None:
    result = provider().parse_send_response(response(HOSTILE[name]), batch())
    assert (result.outcome, result.code, result.provider_ref) == (Outcome.UNKNOWN, None, None)
    assert "root:" not in result.description  # nothing of /etc/passwd


@pytest.mark.parametrize(
    ("status", "outcome"),
    [
        (500, Outcome.UNKNOWN),  # docs/providers.md: may have been processed
        (502, Outcome.TRANSIENT),
        (503, Outcome.TRANSIENT),
        (504, Outcome.UNKNOWN),
        (501, Outcome.UNKNOWN),
        (400, Outcome.PERMANENT),
        (401, Outcome.PERMANENT),
        (404, Outcome.PERMANENT),
    ],
)
def test_http_status_decides_before_the_body(status: int, outcome: Outcome) -> None:
    body = send_answer("1", "OK", "123")
    result = provider().parse_send_response(response(body, status), batch())
    assert (result.outcome, result.http_status, result.provider_ref) == (outcome, status, None)


@pytest.mark.parametrize(
    ("body", "status"),
    [
        (f"<response><status>-1</status><message>bad {escape(PASSWORD)}</message></response>", 200),
        (f"<response><status>-2</status><message>{USERNAME}</message></response>", 200),
        (f"<sms><password>{PASSWORD}</password>", 200),
        (f"<password>Pa55-w0rd&amp;&lt;x&gt;</password> {USERNAME}", 500),
    ],
)
def test_credentials_echoed_in_an_answer_never_reach_the_description(
    body: str, status: int
) -> None:
    description = provider().parse_send_response(response(body, status), batch()).description
    assert "***" in description
    assert PASSWORD not in description
    assert "Pa55-w0rd" not in description
    assert USERNAME not in description


def test_a_long_answer_is_cut_in_the_description() -> None:
    result = provider().parse_send_response(response("x" * 5000, 500), batch())
    assert len(result.description) < 300


def test_execute_send_exchanges_and_parses() -> None:
    seen: list[httpx.Request] = []
    adapter = provider(answering(send_answer("1", "OK", "4242", "10"), seen=seen))
    outbound = batch()
    result = adapter.execute_send(adapter.prepare_send(outbound), outbound)
    assert (result.outcome, result.provider_ref) == (Outcome.ACCEPTED, "4242")
    assert [r.url.path for r in seen] == ["/API/apiV2.php"]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ConnectError, Outcome.TRANSIENT),  # docs/architecture.md: nothing was sent
        (httpx.ConnectTimeout, Outcome.TRANSIENT),
        (httpx.ReadTimeout, Outcome.UNKNOWN),  # docs/architecture.md: it may have been sent
        (httpx.RemoteProtocolError, Outcome.UNKNOWN),
    ],
)
def test_transport_errors(error: type[httpx.TransportError], outcome: Outcome) -> None:
    adapter = provider(raising(error))
    outbound = batch()
    result = adapter.execute_send(adapter.prepare_send(outbound), outbound)
    assert (result.outcome, result.code, result.provider_ref) == (outcome, None, None)
    assert PASSWORD not in result.description


@pytest.mark.parametrize(
    ("body", "balance"),
    [
        (send_answer("1", "Message envoyé", "123456", "850"), Decimal("850")),
        (send_answer("-3", "", "", "0"), Decimal("0")),
        (send_answer("1", "", "abc-42"), None),
        (send_answer("-3", "", "", "lots"), None),
    ],
)
def test_the_credits_left_are_reported_as_the_balance(body: str, balance: Decimal | None) -> None:
    """Section 1.3.1.4: the only way to know an SMSFactor account's balance."""
    answer = httpx.Response(200, text=body)
    assert provider().parse_send_response(answer, batch()).balance == balance
