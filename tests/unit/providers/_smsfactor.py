"""Shared builders for the SMSFactor adapter tests: an account, a batch, answers, hostile XML."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

import httpx
from lxml import etree

from dispatcher.domain.models import OutboundBatch
from dispatcher.domain.text import measure
from dispatcher.providers.smsfactor import SmsfactorProvider
from dispatcher.settings import AccountSettings
from tests.unit.providers._http import (
    Handler,
    mock_client,
    no_network,
)
from tests.unit.providers._options import batch_fields

USERNAME = "user@example.com"
PASSWORD = "Pa55-w0rd&<x>"  # holds XML's special characters, and is long enough to spot
BASE_URL = "https://provider.test"
DOC_NUMBERS = ("33600000000", "33611111111")  # section 1.2.1.9's example, and a second one
RECIPIENT_IDS = (101, 102)


def account(**overrides: Any) -> AccountSettings:
    fields: dict[str, Any] = {
        "name": "smsfactor-test",
        "provider": "smsfactor",
        "base_url": BASE_URL,
        "username": USERNAME,
        "password": PASSWORD,
    }
    fields.update(overrides)
    return AccountSettings(**fields)


def provider(handler: Handler = no_network, **overrides: Any) -> SmsfactorProvider:
    client = mock_client(handler)
    return SmsfactorProvider(account(**overrides), client, retry_seconds=0)


def batch(
    text: str = "Hello",
    *,
    msisdns: Sequence[str] = DOC_NUMBERS,
    recipient_ids: Sequence[int] | None = None,
    sender: str | None = "SMSFactor",
    **fields: Any,
) -> OutboundBatch:
    """A batch whose encoding and segments are measured as the planner would."""
    measured = measure(text, extended=SmsfactorProvider.gsm_extended)
    ids = list(recipient_ids) if recipient_ids is not None else list(RECIPIENT_IDS)
    if recipient_ids is None and len(msisdns) != len(ids):
        ids = list(range(1, len(msisdns) + 1))
    fields.setdefault("method", "POST")
    return OutboundBatch(
        batch_id=7,
        campaign_id=3,
        client_ref="b7",
        text=text,
        encoding=fields.pop("encoding", measured.encoding),
        segments=measured.segments,
        sender=sender,
        msisdns=list(msisdns),
        recipient_ids=ids,
        **batch_fields(SmsfactorProvider, fields),
    )


def sent_xml(request: httpx.Request) -> bytes:
    """The XML document a request carries, as the raw body or in its XML form field."""
    if request.headers["content-type"].startswith("application/x-www-form-urlencoded"):
        form = urllib.parse.parse_qs(request.content.decode("ascii"), strict_parsing=True)
        (document,) = form["XML"]
        return document.encode("utf-8")
    return request.content


def sent(request: httpx.Request) -> etree._Element:
    """The document a request carries, parsed (it is ours: no hardening needed here)."""
    root: etree._Element = etree.fromstring(sent_xml(request))
    return root


def shape(element: etree._Element) -> list[object]:
    """An element's tree as nested lists of tags, attributes and stripped texts."""
    return [
        element.tag,
        {str(key): str(value) for key, value in element.attrib.items()},
        (element.text or "").strip(),
        [shape(child) for child in element],
    ]


def send_answer(status: str, message: str = "", ticket: str = "", credits: str = "") -> str:
    """Section 1.3's answer, its typos (``</ message >``) repaired."""
    return (
        f"<response><status>{status}</status><message>{message}</message>"
        f"<ticket>{ticket}</ticket><credits>{credits}</credits></response>"
    )


def report_answer(status: str, *gsm: str, message: str = "") -> str:
    """Section 2.3's answer with the given <gsm> elements."""
    return (
        f"<response><status>{status}</status><message>{message}</message>{''.join(gsm)}</response>"
    )


# Hostile or broken documents, each of which holds an otherwise good answer.
_LAUGHS = "".join(f'<!ENTITY lol{n} "{f"&lol{n - 1};" * 10}">' for n in range(2, 10))
HOSTILE: dict[str, bytes] = {
    "billion laughs": (
        '<?xml version="1.0"?><!DOCTYPE response [<!ENTITY lol1 "lol">'
        f"{_LAUGHS}]><response><status>1</status><message>&lol9;</message>"
        "<ticket>123</ticket></response>"
    ).encode(),
    "external entity": (
        b'<?xml version="1.0"?><!DOCTYPE response [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>'
        b"<response><status>1</status><message>&xxe;</message><ticket>123</ticket></response>"
    ),
    "external DTD": (
        b'<?xml version="1.0"?><!DOCTYPE response SYSTEM "http://attacker.test/x.dtd">'
        b"<response><status>1</status><ticket>123</ticket></response>"
    ),
    "bare DOCTYPE": (
        b"<!DOCTYPE response><response><status>1</status><ticket>123</ticket></response>"
    ),
    "lower-case doctype": b"<!doctype response><response><status>1</status></response>",
    "DOCTYPE in UTF-16": (
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE response>'
        "<response><status>1</status><ticket>123</ticket></response>"
    ).encode("utf-16"),
    "DOCTYPE behind a comment": (
        f'<!-- <x --><!DOCTYPE response [<!ENTITY lol1 "lol">{_LAUGHS}]>'
        '<response><status>1</status><ticket a="&lol9;">123</ticket></response>'
    ).encode(),
    "truncated": b"<response><status>1</status><ticket>123</tick",
    "two roots": b"<response><status>1</status></response><response/>",
    "undefined entity": b"<response><status>1</status><ticket>&t;</ticket></response>",
    "oversized": (
        b"<response><status>1</status><ticket>123</ticket><message>"
        + b"a" * (1024 * 1024)
        + b"</message></response>"
    ),
    "empty": b"",
    "HTML": b"<html><body>Maintenance</body></html>",
    "not XML": b"<<garbage>>",
    "plain text": b"1",
}
