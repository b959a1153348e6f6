"""Fixtures for the sandbox tests: a fake clock, an app built on it, and a test client.

Time never passes by itself here: tests move the fake clock, so report timelines are
checked without sleeping and without timed assertions.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

import pytest
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from dispatcher.sandbox import SandboxConfig, create_app
from dispatcher.sandbox.callbacks import CallbackRequest
from dispatcher.sandbox.context import SandboxContext
from dispatcher.sandbox.smsmode import SmsmodeEmulator

with warnings.catch_warnings():
    # Starlette 1.x prefers the httpx2 package for its test client; httpx works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

TOKEN = "sandbox-token"
PARIS = ZoneInfo("Europe/Paris")
# 2024-03-01 12:00:00 in Paris (11:00 UTC).
T0 = datetime(2024, 3, 1, 12, 0, tzinfo=PARIS).timestamp()


class FakeClock:
    """A clock that only moves when told to."""

    def __init__(self, start: float = T0) -> None:
        self.now = start

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class RecordingSender:
    """Callback sender that records requests and fails the first ``fail_first`` attempts."""

    def __init__(self, fail_first: int = 0) -> None:
        self.requests: list[CallbackRequest] = []
        self.attempts = 0
        self.fail_first = fail_first

    async def __call__(self, request: CallbackRequest) -> bool:
        self.attempts += 1
        if self.attempts <= self.fail_first:
            return False
        self.requests.append(request)
        return True


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def sender() -> RecordingSender:
    return RecordingSender()


@pytest.fixture
def make_client(clock: FakeClock, sender: RecordingSender) -> Iterator[Callable[..., TestClient]]:
    """Builds a client over a fresh sMsmode-only app; keyword arguments go to
    :class:`SandboxConfig`."""
    clients: list[TestClient] = []

    def make(**config: Any) -> TestClient:
        app = create_app(
            SandboxConfig(**config),
            clock=clock,
            callback_sender=sender,
            emulators=(SmsmodeEmulator,),
        )
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def context(client: TestClient) -> SandboxContext:
    """The sandbox state behind a test client."""
    app = client.app
    assert isinstance(app, Starlette)
    ctx = app.state.sandbox
    assert isinstance(ctx, SandboxContext)
    return ctx


def post_form(client: TestClient, path: str, charset: str = "iso8859_15", **params: str) -> str:
    """POST an x-www-form-urlencoded body percent-encoded in ``charset``."""
    body = urlencode(params, encoding=charset)
    response = client.post(
        f"/http/1.6/{path}",
        content=body.encode("ascii"),
        headers={"content-type": "application/x-www-form-urlencoded"},
    )
    assert response.status_code == 200
    return str(response.text)


def get(client: TestClient, path: str, charset: str = "iso8859_15", **params: str) -> str:
    """GET with the query string percent-encoded in ``charset``."""
    response = client.get(f"/http/1.6/{path}?{urlencode(params, encoding=charset)}")
    assert response.status_code == 200
    return str(response.text)


def send(client: TestClient, **params: str) -> str:
    """POST sendSMS.do with the default token unless given; returns the answer text."""
    params.setdefault("accessToken", TOKEN)
    charset = "utf-8" if params.get("classe_msg") == "9" else "iso8859_15"
    return post_form(client, "sendSMS.do", charset, **params)


def accepted_id(answer: str) -> str:
    """The smsID of a ``0 | Accepted | id`` answer (fails on anything else)."""
    code, description, sms_id = answer.split(" | ")
    assert (code, description) == ("0", "Accepted")
    return sms_id


def submissions(client: TestClient, **filters: str) -> list[dict[str, Any]]:
    """The admin API's submission list."""
    found = client.get("/_sandbox/submissions", params=filters).json()["submissions"]
    assert isinstance(found, list)
    return found
