"""Shared builders for the sMsmode adapter tests: an account, a batch, a mock exchange."""

from __future__ import annotations

import urllib.parse
from collections.abc import Callable, Sequence
from typing import Any

import httpx

from dispatcher.domain.models import OutboundBatch
from dispatcher.domain.text import Encoding, measure
from dispatcher.providers.smsmode import SmsmodeProvider
from dispatcher.settings import AccountSettings

TOKEN = "Ab1CD2efg3Hi"  # the documents' example access key
BASE_URL = "https://api.smsmode.com"
DOC_NUMBERS = ("3363123456", "0623123457")  # section 3's request example

Handler = Callable[[httpx.Request], httpx.Response]


def account(**overrides: Any) -> AccountSettings:
    fields: dict[str, Any] = {
        "name": "smsmode-test",
        "provider": "smsmode",
        "base_url": BASE_URL,
        "access_token": TOKEN,
    }
    fields.update(overrides)
    return AccountSettings(**fields)


def _no_network(request: httpx.Request) -> httpx.Response:
    raise AssertionError(f"unexpected request {request.method} {request.url}")


def provider(handler: Handler = _no_network, **overrides: Any) -> SmsmodeProvider:
    client = httpx.Client(transport=httpx.MockTransport(handler))
    return SmsmodeProvider(account(**overrides), client, retry_seconds=0)


def batch(
    text: str = "Hello Mum",
    *,
    msisdns: Sequence[str] = DOC_NUMBERS,
    method: str = "POST",
    encoding: Encoding | None = None,
    segments: int | None = None,
    **fields: Any,
) -> OutboundBatch:
    """A batch whose encoding and segments are measured as the planner would."""
    measured = measure(
        text, basic=SmsmodeProvider.gsm_basic, extended=SmsmodeProvider.gsm_extended, force=encoding
    )
    fields.setdefault("client_ref", "")
    return OutboundBatch(
        batch_id=7,
        campaign_id=3,
        text=text,
        encoding=measured.encoding,
        segments=segments if segments is not None else measured.segments,
        sender=fields.pop("sender", None),
        msisdns=list(msisdns),
        recipient_ids=list(range(len(msisdns))),
        method=method,
        **fields,
    )


def answering(
    body: str | bytes, status: int = 200, seen: list[httpx.Request] | None = None
) -> Handler:
    """A handler answering ``body``, recording each request in ``seen``."""
    content = body.encode("utf-8") if isinstance(body, str) else body

    def handle(request: httpx.Request) -> httpx.Response:
        if seen is not None:
            seen.append(request)
        return httpx.Response(status, content=content)

    return handle


def raising(error: type[httpx.TransportError]) -> Handler:
    def handle(request: httpx.Request) -> httpx.Response:
        raise error("simulated", request=request)

    return handle


def wire(request: httpx.Request) -> str:
    """The form as sent: the query string of a GET, the body of a POST."""
    raw = request.url.query if request.method == "GET" else request.content
    return raw.decode("ascii")


def form(request: httpx.Request) -> dict[str, str]:
    """The request's parameters decoded as sMsmode would: UTF-8 for classe_msg=9 (section 16),
    ISO-8859-15 otherwise (section 3)."""
    raw = wire(request)
    charset = "utf-8" if "classe_msg=9" in raw else "iso-8859-15"
    pairs = urllib.parse.parse_qsl(
        raw, keep_blank_values=True, strict_parsing=True, encoding=charset
    )
    assert len({k for k, _ in pairs}) == len(pairs), f"a parameter appears twice: {raw}"
    return dict(pairs)


def response(body: str | bytes, status: int = 200) -> httpx.Response:
    content = body.encode("utf-8") if isinstance(body, str) else body
    return httpx.Response(status, content=content)
