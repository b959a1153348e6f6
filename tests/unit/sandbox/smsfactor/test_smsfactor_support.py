"""Helpers for the SMSFactor emulator tests (no tests here): an app with only that emulator
on the fake clock, request documents of sections 1.2 and 2.2, and answer parsing."""

from __future__ import annotations

import warnings
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from xml.sax.saxutils import escape, quoteattr

from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from dispatcher.sandbox import SandboxConfig, create_app
from dispatcher.sandbox.context import SandboxContext
from dispatcher.sandbox.smsfactor import SmsfactorEmulator
from tests.unit.sandbox.conftest import FakeClock, RecordingSender

with warnings.catch_warnings():
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

USER = "sandbox@example.com"
PASSWORD = "sandbox-password"
SEND = "/API/apiV2.php"
REPORT = "/API/getDr.php"

AUTH = f"<authentication><username>{USER}</username><password>{PASSWORD}</password>"
AUTH += "</authentication>"
MESSAGE = "<message><sender>Shop</sender><text>Hi</text></message>"
RECIPIENTS = "<recipients><gsm>33612345678</gsm></recipients>"
#: The classic entity-expansion document, as a body a client might send or receive.
BILLION_LAUGHS = (
    '<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol">'
    + "".join(
        f'<!ENTITY lol{i} "{f"&lol{i - 1};" * 10 if i > 1 else "&lol;" * 10}">'
        for i in range(1, 10)
    )
    + f"]><sms>{AUTH}<message><sender>Shop</sender><text>&lol9;</text></message>"
    + f"{RECIPIENTS}</sms>"
)


class Clients:
    """Builds test clients over apps with only the SMSFactor emulator; closes them all."""

    def __init__(self, clock: FakeClock, sender: RecordingSender) -> None:
        self.clock = clock
        self.sender = sender
        self.opened: list[TestClient] = []

    def __call__(self, section: dict[str, Any] | None = None, **config: Any) -> TestClient:
        providers = {} if section is None else {"smsfactor": section}
        app = create_app(
            SandboxConfig(providers=providers, **config),
            clock=self.clock,
            callback_sender=self.sender,
            emulators=(SmsfactorEmulator,),
        )
        client = TestClient(app)
        self.opened.append(client)
        return client

    def close(self) -> None:
        for client in self.opened:
            client.close()


def context(client: TestClient) -> SandboxContext:
    app = client.app
    assert isinstance(app, Starlette)
    ctx = app.state.sandbox
    assert isinstance(ctx, SandboxContext)
    return ctx


def _element(tag: str, value: str | None) -> str:
    return "" if value is None else f"<{tag}>{escape(value)}</{tag}>"


def sms_xml(
    *,
    username: str = USER,
    password: str = PASSWORD,
    sender: str | None = "Shop",
    text: str | None = "Hello",
    is_flash: str | None = None,
    type_: str | None = None,
    bookmark: str | None = None,
    delay: str | None = None,
    gsm: Iterable[str | tuple[str, str]] = ("33612345678",),
) -> bytes:
    """A section 1.2 document; a ``None`` element is left out, a (number, id) pair gets a
    gsmsmsid attribute."""
    recipients = "".join(
        f"<gsm gsmsmsid={quoteattr(g[1])}>{escape(g[0])}</gsm>"
        if isinstance(g, tuple)
        else f"<gsm>{escape(g)}</gsm>"
        for g in gsm
    )
    message = "".join(
        _element(tag, value)
        for tag, value in (
            ("sender", sender),
            ("text", text),
            ("isFlash", is_flash),
            ("type", type_),
            ("bookmark", bookmark),
            ("delay", delay),
        )
    )
    return (
        f"<sms><authentication>{_element('username', username)}"
        f"{_element('password', password)}</authentication>"
        f"<message>{message}</message><recipients>{recipients}</recipients></sms>"
    ).encode()


def report_xml(
    ticket: str, gsmsmsid: str | None = None, username: str = USER, password: str = PASSWORD
) -> bytes:
    """A section 2.2 document."""
    attribute = "" if gsmsmsid is None else f" gsmsmsid={quoteattr(gsmsmsid)}"
    return (
        f"<deliveryreport><authentication>{_element('username', username)}"
        f"{_element('password', password)}</authentication>"
        f"<message><ticket{attribute}>{escape(ticket)}</ticket></message></deliveryreport>"
    ).encode()


@dataclass
class Answer:
    """A parsed ``<response>``."""

    status: str
    message: str
    ticket: str | None = None
    credits: str | None = None
    gsm: list[tuple[str, str, str]] = field(default_factory=list)
    tags: list[str] = field(default_factory=list)


def parse_answer(body: bytes) -> Answer:
    root = ET.fromstring(body)
    assert root.tag == "response"
    found = {child.tag: child.text or "" for child in root if child.tag != "gsm"}
    return Answer(
        status=found["status"],
        message=found["message"],
        ticket=found.get("ticket"),
        credits=found.get("credits"),
        gsm=[(g.get("number", ""), g.get("gsmsmsid", ""), g.text or "") for g in root.iter("gsm")],
        tags=[child.tag for child in root],
    )


def post(client: TestClient, path: str, body: bytes, content_type: str = "text/xml") -> Answer:
    response = client.post(path, content=body, headers={"content-type": content_type})
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/xml; charset=utf-8"
    return parse_answer(response.content)


def send(client: TestClient, path: str = SEND, **document: Any) -> Answer:
    return post(client, path, sms_xml(**document))


def ticket_of(answer: Answer) -> str:
    assert (answer.status, answer.message) == ("1", "Message envoyé"), answer
    assert answer.ticket is not None
    return answer.ticket


def report(client: TestClient, ticket: str, path: str = REPORT, **query: Any) -> Answer:
    return post(client, path, report_xml(ticket, **query))


def statuses(answer: Answer) -> list[str]:
    assert answer.status == "1", answer
    return [status for _, _, status in answer.gsm]


def submissions(client: TestClient) -> list[dict[str, Any]]:
    found = client.get("/_sandbox/submissions").json()["submissions"]
    assert isinstance(found, list)
    return found


def numbers(count: int, start: int = 0) -> Sequence[str]:
    return [f"336{start + i:08d}" for i in range(count)]
