"""Shared builders for the bulk gateway adapter tests: an account, a batch, a mock exchange."""

from __future__ import annotations

import urllib.parse
from collections.abc import Sequence
from typing import Any

import httpx

from dispatcher.domain.models import OutboundBatch
from dispatcher.domain.statuses import RecipientStatus
from dispatcher.domain.text import Encoding, measure
from dispatcher.providers.bulkgw import BulkGatewayProvider
from dispatcher.settings import AccountSettings
from tests.unit.providers._http import (
    Handler,
    mock_client,
    no_network,
)
from tests.unit.providers._options import batch_fields

BASE_URL = "http://gateway.test:8080"
USERNAME, PASSWORD = "X", "Y"  # section 1.2's placeholders
NUMBERS = ("33612345678", "33712345678")

# SMPP v3.4 appendix B "stat" values, and ENROUTE (section 5.2.28): the report defaults.
REPORT_STATUSES = [
    ("DELIVRD", RecipientStatus.DELIVERED),
    ("EXPIRED", RecipientStatus.EXPIRED),
    ("DELETED", RecipientStatus.FAILED),
    ("UNDELIV", RecipientStatus.FAILED),
    ("REJECTD", RecipientStatus.FAILED),
    ("ACCEPTD", RecipientStatus.SUBMITTED),
    ("ENROUTE", RecipientStatus.SUBMITTED),
    ("UNKNOWN", RecipientStatus.UNKNOWN),
]


def account(**overrides: Any) -> AccountSettings:
    fields: dict[str, Any] = {
        "name": "bulkgw-test",
        "provider": "bulkgw",
        "base_url": BASE_URL,
        "username": USERNAME,
        "password": PASSWORD,
    }
    fields.update(overrides)
    return AccountSettings(**fields)


def provider(handler: Handler = no_network, **overrides: Any) -> BulkGatewayProvider:
    client = mock_client(handler)
    return BulkGatewayProvider(account(**overrides), client, retry_seconds=0)


def batch(
    text: str = "Hello",
    *,
    msisdns: Sequence[str] = NUMBERS,
    encoding: Encoding | None = None,
    sender: str | None = "SHOP",
    **fields: Any,
) -> OutboundBatch:
    """A batch whose encoding and segments are measured as the planner would."""
    measured = measure(text, force=encoding)
    fields.setdefault("method", "GET")
    return OutboundBatch(
        batch_id=7,
        campaign_id=3,
        client_ref="b7",
        text=text,
        encoding=measured.encoding,
        segments=measured.segments,
        sender=sender,
        msisdns=list(msisdns),
        recipient_ids=list(range(len(msisdns))),
        **batch_fields(BulkGatewayProvider, fields),
    )


def query(request: httpx.Request) -> str:
    return request.url.query.decode("ascii")


def pairs(request: httpx.Request) -> list[tuple[str, str]]:
    """The query's parameters in order, percent-decoded as UTF-8 (section 1.2). A "+" is
    decoded as itself, never as a space: every space must arrive as %20."""
    out = []
    for item in query(request).split("&"):
        key, _, value = item.partition("=")
        out.append((key, urllib.parse.unquote(value, errors="strict")))
    return out


def params(request: httpx.Request) -> dict[str, str]:
    found = pairs(request)
    assert len({k for k, _ in found}) == len(found), f"a parameter appears twice: {found}"
    return dict(found)
