"""The contract's secrets part: no adapter returns a provider text holding a credential.

Each provider echoes credentials its own way (dispatcher/redact.py): sMsmode's answers and
error pages repeat the URL with ``accessToken=``, the bulk gateway's ``username=&password=``,
Envoyer SMS Pro's ``<request>`` the query with ``login=&amp;password=``, SMSFactor's the
``<authentication>`` we posted. ECHOES holds each provider's way, in the body it answers
with; every registered provider must have one, so a new adapter is held to it too.
"""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable
from xml.sax.saxutils import escape

import httpx
import pytest
from pydantic import SecretStr

from dispatcher.domain.models import PollResult, SendResult
from dispatcher.errors import ProviderError
from dispatcher.providers.base import Provider
from dispatcher.providers.registry import REGISTRY
from dispatcher.redact import encodings
from tests.unit.providers.test_contract import _batch, sample_account

# Long, distinctive credentials holding what each encoding changes (&, <, +, space, quote).
TOKEN = 'Tok3n&<+ "x"/42'
PASSWORD = "Pa55 w0rd&<x>+/é"
USERNAME = "user+name@example.com"
CALLBACK = "cb-secret/with&amp"

# The provider's way of echoing a credential (``q`` is the request's query string as the
# adapter sends it, with the account's credentials; ``x`` is a value escaped for XML).
Body = Callable[[str, str, str], str]
ECHOES: dict[str, list[tuple[int, Body]]] = {
    # Section 2's URLs; an answer code then its text (section 3), and an error page.
    "smsmode": [
        (200, lambda q, t, p: f"32 | Access denied for /http/1.6/sendSMS.do?{q}"),
        (500, lambda q, t, p: f"<html>Error in sendSMS.do?{q}</html>"),
        (200, lambda q, t, p: f"35 | Missing parameter (token {t})"),
    ],
    # "Request" and code 1703 ("Invalid value in username or password field").
    "bulkgw": [
        (200, lambda q, t, p: f"1703|bad credentials in ?{q}"),
        (502, lambda q, t, p: f"Bad gateway /bulksms/bulksms?{q}"),
    ],
    # "Messages d'erreur": <request> repeats the query, "&" escaped or not.
    "envoyer": [
        (
            400,
            lambda q, t, p: (
                "<envoyersmspro><status>fail</status><error>"
                f"<request>/message/send?{escape(q)}</request><error_id>1</error_id>"
                f"<error_message> Bad login {escape(p)} </error_message></error></envoyersmspro>"
            ),
        ),
        (500, lambda q, t, p: f"Internal error for {q}"),
    ],
    # Section 1.2.1's <authentication>, repeated in <message>, or an error page.
    "smsfactor": [
        (
            200,
            lambda q, t, p: (
                "<response><status>-1</status><message>Authentication failed: "
                f"{escape(p)} / {escape(USERNAME)}</message></response>"
            ),
        ),
        (500, lambda q, t, p: f"<sms><authentication><password>{escape(p)}</password></sms>"),
    ],
}


def _account_with_long_secrets(name: str) -> Provider:
    account = sample_account(name).model_copy(
        update={
            "access_token": SecretStr(TOKEN),
            "username": USERNAME,
            "password": SecretStr(PASSWORD),
            "callback_secret": SecretStr(CALLBACK),
        }
    )
    return REGISTRY[name](account, httpx.Client(), retry_seconds=0)


def _adapter(name: str, status: int, body: Body) -> Provider:
    def answer(request: httpx.Request) -> httpx.Response:
        query = request.url.query.decode() or request.content.decode("utf-8", "replace")
        return httpx.Response(status, text=body(query, TOKEN, PASSWORD))

    adapter = _account_with_long_secrets(name)
    adapter.client = httpx.Client(transport=httpx.MockTransport(answer))
    return adapter


def _leaks(adapter: Provider, text: str) -> list[str]:
    # SMSFactor's username is a credential; the others' is not, and may show as it is.
    return [form for secret in adapter.credentials() for form in encodings(secret) if form in text]


def _texts(result: SendResult | PollResult) -> str:
    if isinstance(result, SendResult):
        return " ".join([result.description, *(r.description for r in result.recipients)])
    return " ".join([result.description, *(r.raw_text for r in result.reports)])


def test_every_provider_has_its_way_of_echoing_credentials() -> None:
    assert sorted(ECHOES) == sorted(REGISTRY)


@pytest.mark.parametrize(
    ("name", "status", "body"),
    [(name, status, body) for name, echoes in ECHOES.items() for status, body in echoes],
)
def test_a_send_answer_echoing_credentials_is_returned_scrubbed(
    name: str, status: int, body: Body
) -> None:
    adapter = _adapter(name, status, body)
    batch = _batch(adapter.default_method, 2)
    result = adapter.execute_send(adapter.prepare_send(batch), batch)
    assert _leaks(adapter, _texts(result)) == []


@pytest.mark.parametrize(
    ("name", "status", "body"),
    [
        (name, status, body)
        for name, echoes in ECHOES.items()
        if REGISTRY[name].can_poll
        for status, body in echoes
    ],
)
def test_a_poll_answer_echoing_credentials_is_returned_scrubbed(
    name: str, status: int, body: Body
) -> None:
    adapter = _adapter(name, status, body)
    assert _leaks(adapter, _texts(adapter.fetch_reports("ref-1"))) == []


@pytest.mark.parametrize(
    ("name", "status", "body"),
    [
        (name, status, body)
        for name, echoes in ECHOES.items()
        if REGISTRY[name].has_balance
        for status, body in echoes
        if status >= 400
    ],
)
def test_an_account_call_error_echoing_credentials_carries_none(
    name: str, status: int, body: Body
) -> None:
    adapter = _adapter(name, status, body)
    with pytest.raises(ProviderError) as raised:
        adapter.balance()
    assert _leaks(adapter, f"{raised.value} {raised.value.description} {raised.value.raw}") == []


def test_the_credentials_include_http_basics_encoding_of_login_and_password() -> None:
    adapter = _account_with_long_secrets("envoyer")
    basic = adapter.credentials()[-1]
    assert urllib.parse.unquote(basic) == basic  # base64, not a raw secret
    assert PASSWORD in adapter.credentials()
