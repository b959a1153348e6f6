"""Envoyer SMS Pro account calls (cancel, SMS left and request limit, STOP SMS) and campaign
validation."""

from __future__ import annotations

from decimal import Decimal

import httpx
import pytest

from dispatcher.errors import (
    PermanentProviderError,
    ProviderError,
    TransientProviderError,
    UnknownOutcomeError,
)

from ._envoyer import (
    CANCEL_ANSWER,
    HOSTILE,
    LOGIN,
    PASSWORD,
    STATUS_ANSWER,
    STOP_ANSWER,
    STOP_CHECK_ANSWER,
    basic_auth,
    error,
    form,
    params_auth,
    provider,
)
from ._http import Handler, answering, raising
from ._options import campaign_problems

NUMBER = "33600000000"  # the STOP SMS examples' number

# -- requests: every documented example -----------------------------------------------------------

CALLS = [
    # (call, argument, answer, path, parameters)
    ("cancel", "879", CANCEL_ANSWER, "/api/message/cancel", {"messageid": "879"}),
    ("balance", None, STATUS_ANSWER, "/api/account/status", {}),
    ("discover_rate_limit", None, STATUS_ANSWER, "/api/account/status", {}),
    (
        "stop_list_contains",
        NUMBER,
        STOP_CHECK_ANSWER,
        "/api/stopsms/check",
        {"phonenumber": NUMBER},
    ),
    (
        "stop_list_add",
        NUMBER,
        STOP_ANSWER,
        "/api/stopsms/activate",
        {"phonenumber": NUMBER, "phonenum": NUMBER},  # the table's name and the example's
    ),
    ("stop_list_remove", NUMBER, STOP_ANSWER, "/api/stopsms/deactivate", {"phonenumber": NUMBER}),
]


def _call(handler: Handler, call: str, argument: str | None, **overrides: object) -> object:
    method = getattr(provider(handler, **overrides), call)
    return method() if argument is None else method(argument)


@pytest.mark.parametrize(("call", "argument", "answer", "path", "params"), CALLS)
def test_requests_are_the_documented_examples(
    call: str, argument: str | None, answer: str, path: str, params: dict[str, str]
) -> None:
    seen: list[httpx.Request] = []
    _call(answering(answer, seen=seen), call, argument)
    (request,) = seen
    assert (request.method, request.url.path) == ("GET", path)
    assert form(request) == params
    assert basic_auth(request) == (LOGIN, PASSWORD)


@pytest.mark.parametrize(("call", "argument", "answer", "path", "params"), CALLS)
def test_with_parameter_authentication_they_are_posted(
    call: str, argument: str | None, answer: str, path: str, params: dict[str, str]
) -> None:
    seen: list[httpx.Request] = []
    _call(answering(answer, seen=seen), call, argument, **params_auth(account_id="496"))
    (request,) = seen
    assert (request.method, request.url.path, request.url.query) == ("POST", path, b"")
    credentials = {"login": LOGIN, "password": PASSWORD, "accountid": "496"}
    assert form(request) == {**credentials, **params}
    assert basic_auth(request) is None


@pytest.mark.parametrize(("call", "argument", "answer", "path", "params"), CALLS)
@pytest.mark.parametrize(
    ("handler", "error_type"),
    [
        (answering(error("1", "Authentication failed"), 401), PermanentProviderError),
        (answering(error("2", "Missing parameters"), 400), PermanentProviderError),
        (answering(error("3", "Bad value of parameters"), 400), PermanentProviderError),
        (answering(error("4", "Message too long"), 400), PermanentProviderError),
        (answering(error("5", "Not enough SMS"), 400), PermanentProviderError),
        (answering(error(None, "Request limit"), 400), TransientProviderError),
        (answering(error("12", "Message cannot received response"), 400), UnknownOutcomeError),
        (answering(STATUS_ANSWER, 503), TransientProviderError),
        (answering(STATUS_ANSWER, 502), TransientProviderError),
        (answering(STATUS_ANSWER, 500), UnknownOutcomeError),
        (answering("Not Found", 404), PermanentProviderError),
        (answering("<html/>", 200), UnknownOutcomeError),
        (raising(httpx.ConnectError), TransientProviderError),
        (raising(httpx.ReadTimeout), UnknownOutcomeError),
    ],
)
def test_failures_of_every_call(
    call: str,
    argument: str | None,
    answer: str,
    path: str,
    params: dict[str, str],
    handler: Handler,
    error_type: type[ProviderError],
) -> None:
    with pytest.raises(error_type) as raised:
        _call(handler, call, argument)
    assert type(raised.value) is error_type
    assert raised.value.provider == "envoyer"
    assert PASSWORD not in str(raised.value) + raised.value.raw


@pytest.mark.parametrize(("call", "argument", "answer", "path", "params"), CALLS)
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_answers_to_every_call_are_unknown(
    call: str, argument: str | None, answer: str, path: str, params: dict[str, str], name: str
) -> None:
    with pytest.raises(UnknownOutcomeError):
        _call(answering(HOSTILE[name]), call, argument)


# -- cancel ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (200, CANCEL_ANSWER),  # the documented answer
        (200, "<envoyersmspro><status>success</status></envoyersmspro>"),
        (400, error("11", "Message is already cancelled")),  # what we asked for
        (200, error("11", "Message is already cancelled")),
        (404, error("11", "Message is already cancelled")),
    ],
)
def test_cancel_succeeds(status: int, body: str) -> None:
    seen: list[httpx.Request] = []
    provider(answering(body, status, seen)).cancel("879")  # raises on any failure
    assert len(seen) == 1


@pytest.mark.parametrize(
    ("code", "message", "error_type"),
    [
        ("1", "Authentication failed", PermanentProviderError),
        ("2", "Missing parameters", PermanentProviderError),
        ("3", "Bad value of parameters", PermanentProviderError),
        ("4", "Message too long", PermanentProviderError),
        ("5", "Not enough SMS", PermanentProviderError),
        ("7", "Unknown messageid", PermanentProviderError),
        ("8", "Message is pending", UnknownOutcomeError),
        ("9", "Message is being sent", PermanentProviderError),  # too late
        ("10", "Message has been sent", PermanentProviderError),  # too late
        ("12", "Message cannot received response", UnknownOutcomeError),
    ],
)
def test_cancel_errors(code: str, message: str, error_type: type[ProviderError]) -> None:
    with pytest.raises(error_type) as raised:
        provider(answering(error(code, message), 400)).cancel("879")
    assert type(raised.value) is error_type
    assert (raised.value.code, raised.value.description) == (code, message)


# -- SMS left and request limit -------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [("564", Decimal(564)), ("0", Decimal(0)), (" 155 ", Decimal(155)), ("-3", Decimal(-3))],
)
def test_balance(value: str, expected: Decimal) -> None:
    body = STATUS_ANSWER.replace(">564<", f">{value}<")
    assert provider(answering(body)).balance() == expected


def test_balance_reads_the_send_answers_spelling_too() -> None:
    body = STATUS_ANSWER.replace("sms_remaining", "sms_remaing")
    assert provider(answering(body)).balance() == Decimal(564)


@pytest.mark.parametrize("value", ["", "5,5", "lots", "12.5"])
def test_unreadable_balance(value: str) -> None:
    body = STATUS_ANSWER.replace(">564<", f">{value}<")
    with pytest.raises(UnknownOutcomeError):
        provider(answering(body)).balance()


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("100", "100 per 60 minutes"),  # the documented default
        ("5000", "5000 per 60 minutes"),  # getallaccounts' example shows 5000 and 15000
        ("0", None),
        ("", None),
        ("unlimited", None),
    ],
)
def test_discover_rate_limit(value: str, expected: str | None) -> None:
    body = STATUS_ANSWER.replace(">100<", f">{value}<")
    assert provider(answering(body)).discover_rate_limit() == expected


# -- STOP SMS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(("status_id", "expected"), [("1", True), ("0", False)])
def test_stop_list_contains(status_id: str, expected: bool) -> None:
    body = STOP_CHECK_ANSWER.replace(">1<", f">{status_id}<")
    assert provider(answering(body)).stop_list_contains(NUMBER) is expected


@pytest.mark.parametrize("status_id", ["2", "", "oui"])
def test_stop_list_contains_an_undocumented_status(status_id: str) -> None:
    body = STOP_CHECK_ANSWER.replace(">1<", f">{status_id}<")
    with pytest.raises(UnknownOutcomeError):
        provider(answering(body)).stop_list_contains(NUMBER)


@pytest.mark.parametrize("call", ["stop_list_contains", "stop_list_add", "stop_list_remove"])
def test_an_answer_about_another_number_is_unknown(call: str) -> None:
    with pytest.raises(UnknownOutcomeError, match="another number"):
        _call(answering(STOP_CHECK_ANSWER), call, "33611111111")


@pytest.mark.parametrize("call", ["stop_list_add", "stop_list_remove"])
def test_stop_list_changes(call: str) -> None:
    seen: list[httpx.Request] = []
    _call(answering(STOP_ANSWER, seen=seen), call, NUMBER)  # raises on any failure
    assert len(seen) == 1


def test_a_number_never_sent_to_is_refused() -> None:
    message = f"Bad value of parameters - You do not send SMS to the {NUMBER}"
    with pytest.raises(PermanentProviderError, match="You do not send SMS"):
        provider(answering(error("3", message), 400)).stop_list_add(NUMBER)


# -- validate -------------------------------------------------------------------------------------

OK = "Ceci est un test"


@pytest.mark.parametrize(
    ("text", "sender", "options"),
    [
        (OK, "Societe", {}),  # the document's example
        (OK, "ABC", {}),  # 3 characters
        (OK, "ABCDEFGHIJK", {}),  # 11 characters
        (OK, "Shop24", {}),
        ("a" * 459, "Societe", {}),  # 3 SMS, the most the billing table prices
        ("{" * 229 + "a", "Societe", {}),  # special characters count 2: 459
        ("a" * 440, "Societe", {"stop": 2}),  # 440 + 19 for the mention = 459
        ("a" * 459, "Societe", {"stop": 1}),  # stop=1 adds nothing that does not fit
        (OK, "Societe", {"stop": 1, "tag": "Soldes2024", "allow_replies": True}),
        (OK, "Societe", {"tag": "a" * 20}),
        ("Très bien, à demain : é è ù ì ò Ç", "Societe", {}),  # GSM's accents are allowed
        (OK, "Societe", {"encoding": "gsm"}),
    ],
)
def test_valid_campaigns(text: str, sender: str, options: dict[str, object]) -> None:
    assert campaign_problems(provider(), text=text, sender=sender, options=options) == []


@pytest.mark.parametrize(
    ("text", "sender", "options", "field", "words"),
    [
        ("", "Societe", {}, "text", "empty"),
        ("a" * 460, "Societe", {}, "text", "460 characters"),
        ("{" * 230, "Societe", {}, "text", "460 characters"),
        ("a" + "\n" * 229 + "a", "Societe", {}, "text", "460 characters"),  # line breaks count 2
        ("a" * 441, "Societe", {"stop": 2}, "text", "460 characters"),
        ("ça", "Societe", {}, "text", "'ç'"),  # not GSM: no Unicode documented
        ("☺ ê", "Societe", {}, "text", "'☺', 'ê'"),
        (OK, "Societe", {"encoding": "unicode"}, "text", "no Unicode"),
        (OK, None, {}, "sender", "required"),
        (OK, "", {}, "sender", "required"),
        (OK, "AB", {}, "sender", "3 to 11"),  # "must be longer than 2 characters"
        (OK, "ABCDEFGHIJKL", {}, "sender", "3 to 11"),  # "must be shorter than 12"
        (OK, "My Shop", {}, "sender", "letters or digits"),  # "cannot contain special ..."
        (OK, "Café", {}, "sender", "letters or digits"),
        (OK, "Shop-24", {}, "sender", "letters or digits"),
        (OK, "33612345678", {}, "sender", "cannot be a number"),
        (OK, "Societe", {"stop": 3}, "options.stop", "1 or 2"),
        (OK, "Societe", {"stop": True}, "options.stop", "1 or 2"),
        (OK, "Societe", {"stop": "1"}, "options.stop", "1 or 2"),
        (OK, "Societe", {"allow_replies": "yes"}, "options.allow_replies", "true or false"),
        (OK, "Societe", {"tag": ""}, "options.tag", "1 to 20"),  # "Tag cannot be empty"
        (OK, "Societe", {"tag": "a" * 21}, "options.tag", "1 to 20"),
        (OK, "Societe", {"tag": "soldes d'été"}, "options.tag", "letters or digits"),
        (OK, "Societe", {"tag": 2024}, "options.tag", "letters or digits"),
    ],
)
def test_refused_campaigns(
    text: str, sender: str | None, options: dict[str, object], field: str, words: str
) -> None:
    problems = campaign_problems(provider(), text=text, sender=sender, options=options)
    assert [p.field for p in problems] == [field]
    assert words in problems[0].message
