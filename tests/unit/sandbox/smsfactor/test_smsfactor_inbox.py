"""Inbound SMS (section 3) pushed to an account's inbox page through POST /_sandbox/replies."""

from __future__ import annotations

import asyncio
import xml.etree.ElementTree as ET
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import pytest

from dispatcher.sandbox.callbacks import CallbackRequest
from tests.unit.sandbox.conftest import RecordingSender

from .test_smsfactor_support import USER, Clients, context

if TYPE_CHECKING:
    from starlette.testclient import TestClient

INBOX = "http://127.0.0.1:9/inbox.php"


@pytest.fixture
def sf(clients: Clients) -> TestClient:
    account = {"username": USER, "password": "p", "inbox_url": INBOX}
    return clients({"accounts": [account, {"username": "other@example.com", "password": "q"}]})


def reply(client: TestClient, **payload: Any) -> Any:
    return client.post("/_sandbox/replies", json={"provider": "smsfactor", **payload})


def pushed(client: TestClient, sender: RecordingSender) -> list[CallbackRequest]:
    asyncio.run(context(client).callbacks.drain())
    return sender.requests


def xml_field(request: CallbackRequest) -> str:
    assert request.body is not None
    fields = parse_qsl(request.body.decode("ascii"), encoding="utf-8")
    assert [name for name, _ in fields] == ["XML"]
    return fields[0][1]


def test_reply_is_queued_with_its_url_and_document(sf: TestClient) -> None:
    answer = reply(sf, **{"from": "33612345678", "message": "STOP"})
    assert answer.status_code == 200
    body = answer.json()
    assert (body["queued"], body["url"]) == (True, INBOX)
    assert body["xml"].startswith("<inbox>")


def test_push_is_a_form_post_with_the_xml_variable(sf: TestClient, sender: RecordingSender) -> None:
    reply(sf, **{"from": "33612345678"})
    (request,) = pushed(sf, sender)
    assert (request.provider, request.method, request.url, request.content_type) == (
        "smsfactor",
        "POST",
        INBOX,
        "application/x-www-form-urlencoded",
    )


def test_pushed_document_has_from_to_date_and_text(sf: TestClient, sender: RecordingSender) -> None:
    reply(sf, **{"from": "33612345678", "message": "Oui, ça marche"})
    (request,) = pushed(sf, sender)
    inbox = ET.fromstring(xml_field(request))
    (sms,) = list(inbox)
    assert (inbox.tag, sms.tag, dict(sms.attrib), sms.text) == (
        "inbox",
        "sms",
        {"from": "33612345678", "to": "33700000000", "date": "2024-03-01 12:00:00"},
        "Oui, ça marche",
    )


def test_text_travels_in_cdata(sf: TestClient) -> None:
    assert "<![CDATA[STOP]]>" in reply(sf, numero="33612345678").json()["xml"]


def test_cdata_end_marker_in_the_text_survives(sf: TestClient, sender: RecordingSender) -> None:
    reply(sf, **{"from": "33612345678", "message": "a]]>b <c>"})
    (request,) = pushed(sf, sender)
    assert ET.fromstring(xml_field(request))[0].text == "a]]>b <c>"


def test_to_can_be_given(sf: TestClient) -> None:
    assert 'to="33699999999"' in reply(sf, **{"from": "336", "to": "33699999999"}).json()["xml"]


def test_pushes_are_counted(sf: TestClient, sender: RecordingSender) -> None:
    reply(sf, **{"from": "33612345678"})
    pushed(sf, sender)
    assert sf.get("/_sandbox/stats").json()["requests"]["smsfactor.callbacks_sent"] == 1


def test_account_without_inbox_url_is_409(sf: TestClient) -> None:
    assert reply(sf, username="other@example.com", **{"from": "336"}).status_code == 409


def test_unknown_username_is_404(sf: TestClient) -> None:
    assert reply(sf, username="nobody@example.com", **{"from": "336"}).status_code == 404


@pytest.mark.parametrize(
    "payload",
    [{}, {"from": "+33612345678"}, {"from": 33612345678}, {"from": "336", "message": "\x00"}],
    ids=["no-from", "plus", "not-a-string", "not-xml-text"],
)
def test_invalid_payloads_are_400(sf: TestClient, payload: dict[str, Any]) -> None:
    assert reply(sf, **payload).status_code == 400


def test_default_account_has_no_inbox(clients: Clients) -> None:
    assert reply(clients(), **{"from": "33612345678"}).status_code == 409
