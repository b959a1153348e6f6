"""Shared builders for the sMsmode adapter tests: an account, a batch, a mock exchange."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

import httpx

from dispatcher.domain.models import OutboundBatch
from dispatcher.domain.text import Encoding, measure
from dispatcher.providers.smsmode import SmsmodeProvider
from dispatcher.settings import AccountSettings
from tests.unit.providers._http import (
    Handler,
    mock_client,
    no_network,
)
from tests.unit.providers._options import batch_fields

TOKEN = "Ab1CD2efg3Hi"  # the documents' example access key
BASE_URL = "https://api.smsmode.com"
DOC_NUMBERS = ("3363123456", "0623123457")  # section 3's request example


def account(**overrides: Any) -> AccountSettings:
    fields: dict[str, Any] = {
        "name": "smsmode-test",
        "provider": "smsmode",
        "base_url": BASE_URL,
        "access_token": TOKEN,
    }
    fields.update(overrides)
    return AccountSettings(**fields)


def provider(handler: Handler = no_network, **overrides: Any) -> SmsmodeProvider:
    client = mock_client(handler)
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
        **batch_fields(SmsmodeProvider, fields),
    )


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
