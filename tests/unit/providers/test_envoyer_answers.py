"""Envoyer SMS Pro send answers: what each proves ("Retour du serveur", "Messages d'erreur",
"HTTP Status Codes", "Les limites du nombre de requête"), hostile XML included."""

from __future__ import annotations

import httpx
import pytest

from dispatcher.domain.statuses import Outcome
from dispatcher.providers.envoyer import RATE_LIMIT_RETRY_SECONDS

from ._envoyer import (
    ERROR_EXAMPLE,
    HOSTILE,
    LOGIN,
    PASSWORD,
    SEND_ANSWER,
    UTF16_DOCTYPE,
    batch,
    error,
    params_auth,
    provider,
)
from ._http import answering, raising, response


def test_the_documented_success_answer() -> None:
    result = provider().parse_send_response(response(SEND_ANSWER), batch())
    assert (result.outcome, result.code, result.provider_ref) == (
        Outcome.ACCEPTED,
        "success",
        "879",
    )
    assert result.description == "accepted: 2 SMS sent, 564 left"
    assert (result.http_status, result.rate_limited, result.retry_after) == (200, False, None)


@pytest.mark.parametrize(
    "message",
    ["<message_id></message_id>", "<message_id>8 79</message_id>", "", "<sms_sent>2</sms_sent>"],
)
def test_success_without_a_usable_message_id_is_unknown(message: str) -> None:
    body = f"<envoyersmspro><status>success</status><message>{message}</message></envoyersmspro>"
    result = provider().parse_send_response(response(body), batch())
    assert (result.outcome, result.provider_ref) == (Outcome.UNKNOWN, None)


def test_the_documented_error_example_with_its_raw_ampersands() -> None:
    result = provider().parse_send_response(response(ERROR_EXAMPLE, 400), batch())
    assert (result.outcome, result.code, result.description) == (
        Outcome.PERMANENT,
        "5",
        "Not enough SMS",
    )
    assert not result.rate_limited


SEND_ERROR_ROWS = [
    ("1", "Authentication failed", Outcome.PERMANENT),
    ("2", "Missing parameters", Outcome.PERMANENT),
    ("3", "Bad value of parameters", Outcome.PERMANENT),
    ("4", "Message too long", Outcome.PERMANENT),
    ("5", "Not enough SMS", Outcome.PERMANENT),
    ("7", "Unknown messageid", Outcome.UNKNOWN),
    ("8", "Message is pending", Outcome.UNKNOWN),
    ("9", "Message is being sent", Outcome.UNKNOWN),
    ("10", "Message has been sent", Outcome.UNKNOWN),
    ("11", "Message is already cancelled", Outcome.UNKNOWN),
    ("12", "Message cannot received response", Outcome.UNKNOWN),
]


@pytest.mark.parametrize("status", [400, 200])
@pytest.mark.parametrize(("code", "message", "outcome"), SEND_ERROR_ROWS)
def test_every_error_id_on_a_send(status: int, code: str, message: str, outcome: Outcome) -> None:
    result = provider().parse_send_response(response(error(code, message), status), batch())
    assert (result.outcome, result.code, result.description) == (outcome, code, message)
    assert (result.provider_ref, result.rate_limited, result.http_status) == (None, False, status)


def test_an_error_without_its_message_takes_the_documents() -> None:
    result = provider().parse_send_response(response(error("4"), 400), batch())
    assert (result.code, result.description) == ("4", "Message too long")


@pytest.mark.parametrize(
    ("error_id", "message"),
    [
        (None, "API request limit exceeded"),
        (None, ""),
        ("6", "Too many requests"),  # 6: the gap in the document's table
        ("13", "Limite de requêtes atteinte"),
        ("99", "anything"),
        ("1", "Request limit reached"),  # a documented id that speaks of the request limit
        ("3", "Bad value of parameters - quota of requests exceeded"),
    ],
)
def test_a_400_that_is_the_request_limit(error_id: str | None, message: str) -> None:
    result = provider().parse_send_response(response(error(error_id, message), 400), batch())
    assert (result.outcome, result.rate_limited) == (Outcome.TRANSIENT, True)
    assert result.retry_after == RATE_LIMIT_RETRY_SECONDS == 900
    assert result.code == error_id
    assert result.description.startswith("request limit")


@pytest.mark.parametrize(("error_id", "message"), [(None, "limit"), ("6", ""), ("99", "Oops")])
def test_undocumented_errors_outside_a_400_are_unknown(error_id: str | None, message: str) -> None:
    result = provider().parse_send_response(response(error(error_id, message), 200), batch())
    assert (result.outcome, result.rate_limited, result.retry_after) == (
        Outcome.UNKNOWN,
        False,
        None,
    )


@pytest.mark.parametrize(
    ("status", "body", "outcome", "code"),
    [
        (500, SEND_ANSWER, Outcome.UNKNOWN, None),  # the request may have been processed
        (500, "Internal Server Error", Outcome.UNKNOWN, None),
        (502, SEND_ANSWER, Outcome.TRANSIENT, None),  # servers down or being updated
        (502, "<html>Bad gateway</html>", Outcome.TRANSIENT, None),
        (503, error("5", "Not enough SMS"), Outcome.TRANSIENT, "5"),  # overloaded: retry later
        (504, "", Outcome.UNKNOWN, None),
        (401, error("1", "Authentication failed"), Outcome.PERMANENT, "1"),
        (401, "", Outcome.PERMANENT, None),
        (403, "Forbidden", Outcome.PERMANENT, None),
        (404, "", Outcome.PERMANENT, None),
        (404, error("7", "Unknown messageid"), Outcome.PERMANENT, "7"),  # 7: unknown on a send
        (400, "Bad Request", Outcome.UNKNOWN, None),  # a 400 we cannot read
        (400, SEND_ANSWER, Outcome.UNKNOWN, None),  # "success" refused: contradictory
        (302, SEND_ANSWER, Outcome.UNKNOWN, None),
    ],
)
def test_http_statuses(status: int, body: str, outcome: Outcome, code: str | None) -> None:
    result = provider().parse_send_response(response(body, status), batch())
    assert (result.outcome, result.code, result.http_status) == (outcome, code, status)
    assert (result.provider_ref, result.rate_limited) == (None, False)


@pytest.mark.parametrize("status", [200, 400])
@pytest.mark.parametrize("name", sorted(HOSTILE))
def test_hostile_or_broken_answers_are_unknown(status: int, name: str) -> None:
    result = provider().parse_send_response(response(HOSTILE[name], status), batch())
    assert (result.outcome, result.code, result.provider_ref) == (Outcome.UNKNOWN, None, None)
    assert "lol" not in result.description
    assert "root:" not in result.description


def test_a_doctype_hidden_in_utf_16_is_refused() -> None:
    result = provider().parse_send_response(response(UTF16_DOCTYPE), batch())
    assert (result.outcome, result.provider_ref) == (Outcome.UNKNOWN, None)


def test_the_echoed_request_never_reaches_the_description() -> None:
    # "Messages d'erreur": <request> echoes the query, which carries the password in
    # "solution 3".
    body = error("3", "Bad value of parameters - No sendername found").replace(
        "/message/send?text=x", f"/message/send?login={LOGIN}&amp;password={PASSWORD}"
    )
    result = provider(**params_auth()).parse_send_response(response(body, 400), batch())
    assert result.description == "Bad value of parameters - No sendername found"
    assert PASSWORD not in repr(result)


def test_execute_send_exchanges_and_parses() -> None:
    seen: list[httpx.Request] = []
    adapter = provider(answering(SEND_ANSWER, seen=seen))
    outbound = batch()
    result = adapter.execute_send(adapter.prepare_send(outbound), outbound)
    assert (result.outcome, result.provider_ref) == (Outcome.ACCEPTED, "879")
    assert [(r.method, r.url.path) for r in seen] == [("POST", "/api/message/send")]


@pytest.mark.parametrize(
    ("error_type", "outcome"),
    [
        (httpx.ConnectError, Outcome.TRANSIENT),  # nothing left this machine
        (httpx.ConnectTimeout, Outcome.TRANSIENT),
        (httpx.ReadTimeout, Outcome.UNKNOWN),  # the request may have been processed
        (httpx.RemoteProtocolError, Outcome.UNKNOWN),
    ],
)
def test_transport_errors(error_type: type[httpx.TransportError], outcome: Outcome) -> None:
    adapter = provider(raising(error_type))
    outbound = batch()
    result = adapter.execute_send(adapter.prepare_send(outbound), outbound)
    assert (result.outcome, result.code, result.provider_ref) == (outcome, None, None)
