"""sMsmode account calls (balance, section 5; deleting, section 9) and campaign validation."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from dispatcher.errors import (
    ConfigurationError,
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UnknownOutcomeError,
)

from ._http import Handler, answering, raising
from ._options import campaign_problems
from ._smsmode import TOKEN, provider

# -- balance ---------------------------------------------------------------------------------


def test_balance_request_is_the_section_5_example() -> None:
    seen: list[httpx.Request] = []
    provider(answering("212.5", seen=seen)).balance()
    (request,) = seen
    assert (request.method, request.url.path) == ("GET", "/http/1.6/credit.do")
    assert dict(request.url.params) == {"accessToken": TOKEN}


@pytest.mark.parametrize(
    ("body", "expected"),
    [
        ("212.5", Decimal("212.5")),  # section 5's example
        ("212.5\n", Decimal("212.5")),
        ("-12.75", Decimal("-12.75")),  # post-pay accounts are negative
        ("0", Decimal(0)),
        ("32", Decimal(32)),  # a bare number is a balance, never an error code
    ],
)
def test_balance(body: str, expected: Decimal) -> None:
    assert provider(answering(body)).balance() == expected


@pytest.mark.parametrize(
    ("body", "error", "code"),
    [
        ("32 | Authentication error", PermanentProviderError, "32"),
        ("35 | Missing mandatory parameter", PermanentProviderError, "35"),
        ("31 | Internal error", TransientProviderError, "31"),
        ("50 | Temporarily unavailable", TransientProviderError, "50"),
        ("99 | Something else", UnknownOutcomeError, "99"),
        ("0 | Accepted", UnknownOutcomeError, "0"),
        ("212,5", UnknownOutcomeError, None),
        ("", UnknownOutcomeError, None),
        ("<html>maintenance</html>", UnknownOutcomeError, None),
    ],
)
def test_balance_errors(body: str, error: type[ProviderError], code: str | None) -> None:
    with pytest.raises(error) as raised:
        provider(answering(body)).balance()
    assert type(raised.value) is error
    assert (raised.value.provider, raised.value.code) == ("smsmode", code)


@pytest.mark.parametrize(
    ("handler", "error"),
    [
        (answering("212.5", status=503), TransientProviderError),
        (answering("212.5", status=502), TransientProviderError),
        (answering("212.5", status=500), UnknownOutcomeError),
        (answering("212.5", status=401), PermanentProviderError),
        (raising(httpx.ConnectError), TransientProviderError),
        (raising(httpx.ReadTimeout), UnknownOutcomeError),
    ],
)
def test_balance_transport_and_http_failures(handler: Handler, error: type[ProviderError]) -> None:
    with pytest.raises(error) as raised:
        provider(handler).balance()
    assert type(raised.value) is error


def test_balance_without_token_names_the_variable() -> None:
    with pytest.raises(ConfigurationError, match="DISPATCHER_ACCOUNTS__SMSMODE_TEST__ACCESS_TOKEN"):
        provider(access_token=None).balance()


# -- cancel ------------------------------------------------------------------------------------


def test_cancel_request_is_the_section_9_example() -> None:
    # https://api.smsmode.com/http/1.6/deleteSMS.do?accessToken=Ab1CD2efg3Hi&smsID=06000000
    seen: list[httpx.Request] = []
    provider(answering("0 | SMS message deleted", seen=seen)).cancel("06000000")
    (request,) = seen
    assert (request.method, request.url.path) == ("GET", "/http/1.6/deleteSMS.do")
    assert dict(request.url.params) == {"accessToken": TOKEN, "smsID": "06000000"}


@pytest.mark.parametrize("body", ["0", "0 | SMS message deleted", "0|SMS supprimé\n"])
def test_cancel_succeeds(body: str) -> None:
    seen: list[httpx.Request] = []
    provider(answering(body, seen=seen)).cancel("06000000")  # raises on any failure
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("body", "error", "code", "description"),
    [
        ("61 | SMS message not found", PermanentProviderError, "61", "SMS message not found"),
        ("61", PermanentProviderError, "61", "SMS message not found"),
        ("31 | Internal error", TransientProviderError, "31", "Internal error"),
        ("32 | Authentication error", PermanentProviderError, "32", "Authentication error"),
        (
            "35",
            PermanentProviderError,
            "35",
            'Invalid parameters ("accessToken", "numero" or "smsID" are mandatory)',
        ),
        ("50 | Temporarily unavailable", UnknownOutcomeError, "50", "Temporarily unavailable"),
        ("Deleted", UnknownOutcomeError, None, "unreadable answer: 'Deleted'"),
    ],
)
def test_cancel_errors(
    body: str, error: type[ProviderError], code: str | None, description: str
) -> None:
    with pytest.raises(error) as raised:
        provider(answering(body)).cancel("06000000")
    assert type(raised.value) is error
    assert (raised.value.code, raised.value.description) == (code, description)


# -- validate ----------------------------------------------------------------------------------

OK = "Hello Mum"


@pytest.mark.parametrize(
    ("text", "sender", "options"),
    [
        (OK, None, {}),
        (OK, "PERSO", {}),  # section 16's example sender
        (OK, "ABCDEFGHIJK", {}),  # 11 characters
        (OK, "Shop24", {}),
        (OK, "", {}),  # no sender
        (OK, None, {"allow_replies": True}),
        (OK, "PERSO", {"allow_replies": False}),
        (OK, None, {"stop": 1}),
        (OK, "PERSO", {"stop": 2}),
        (OK, None, {"stop": None}),
        ("a" * 765, None, {}),  # 5 GSM parts
        ("☺" * 335, None, {}),  # 5 Unicode parts, section 16
        ("a" * 754, None, {"stop": 2}),  # 754 + the mention = 765
    ],
)
def test_valid_campaigns(text: str, sender: str | None, options: dict[str, object]) -> None:
    assert campaign_problems(provider(), text=text, sender=sender, options=options) == []


@pytest.mark.parametrize(
    ("text", "sender", "options", "field", "words"),
    [
        ("", None, {}, "text", "empty"),
        ("  \n", None, {}, "text", "empty"),
        ("a" * 766, None, {}, "text", "6 gsm SMS parts"),
        ("☺" * 336, None, {}, "text", "6 unicode SMS parts"),
        ("☺" * 330, None, {"stop": 2}, "text", "6 unicode SMS parts"),
        ("☺", None, {"allow_replies": True}, "options.allow_replies", "Unicode"),
        (OK, "ABCDEFGHIJKL", {}, "sender", "11 characters"),
        (OK, "My Shop", {}, "sender", "no blank"),
        (OK, "Café", {}, "sender", "no blank or accent"),
        (OK, "Shop-24", {}, "sender", "letters and digits"),
        (OK, "33612345678", {}, "sender", "phone number"),
        (OK, "36034", {}, "sender", "phone number"),
        (OK, "PERSO", {"allow_replies": True}, "sender", "allow_replies"),
        (OK, None, {"stop": 3}, "options.stop", "1 or 2"),
        (OK, None, {"stop": "1"}, "options.stop", "1 or 2"),
        (OK, None, {"stop": True}, "options.stop", "1 or 2"),
        (OK, None, {"stop": 0}, "options.stop", "1 or 2"),
        (OK, None, {"allow_replies": "false"}, "options.allow_replies", "true or false"),
    ],
)
def test_refused_campaigns(
    text: str, sender: str | None, options: dict[str, object], field: str, words: str
) -> None:
    problems = campaign_problems(provider(), text=text, sender=sender, options=options)
    assert [p.field for p in problems] == [field]
    assert words in problems[0].message
