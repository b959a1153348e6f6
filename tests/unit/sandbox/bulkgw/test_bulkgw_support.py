"""Helpers for the bulk gateway tests: an app with only that emulator, and request builders.

Not a test module itself (it holds no tests); the ``test_`` prefix only keeps it among the
files of this emulator.
"""

from __future__ import annotations

import asyncio
import contextlib
import warnings
from collections.abc import Callable, Iterator, Mapping
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

from dispatcher.sandbox import SandboxConfig, create_app
from dispatcher.sandbox.bulkgw import BulkgwEmulator
from tests.unit.sandbox.conftest import FakeClock, RecordingSender, context

with warnings.catch_warnings():
    from starlette.exceptions import StarletteDeprecationWarning

    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

USER, PASSWORD = "sandbox", "sandbox-password"
DLR_URL = "http://127.0.0.1:9/dlr"
# Default timeline: gateway after 2 s, final after 5 s + up to 3 s of per-number spread.
ALL_FINAL = 8.0

Factory = Callable[..., TestClient]


@contextlib.contextmanager
def client_factory(clock: FakeClock, sender: RecordingSender) -> Iterator[Factory]:
    """``make(section=None, **config)``: a client over an app with only the bulk gateway;
    ``section`` is the raw ``"bulkgw"`` config section, ``config`` goes to SandboxConfig."""
    clients: list[TestClient] = []

    def make(section: Mapping[str, Any] | None = None, **config: Any) -> TestClient:
        providers = {} if section is None else {"bulkgw": section}
        app = create_app(
            SandboxConfig(providers=providers, **config),
            clock=clock,
            callback_sender=sender,
            emulators=(BulkgwEmulator,),
        )
        client = TestClient(app)
        clients.append(client)
        return client

    yield make
    for client in clients:
        client.close()


def raw_get(client: TestClient, path: str, query: str) -> str:
    """GET with a query string exactly as given; the answer must be HTTP 200."""
    response = client.get(f"/bulksms/{path}?{query}")
    assert response.status_code == 200, response.text
    return str(response.text)


def submit(client: TestClient, path: str = "bulksms", **params: str) -> str:
    """GET the API with the default account and plausible parameters unless given; a value
    of ``None`` leaves the parameter out. Values are percent-encoded UTF-8."""
    defaults = {
        "username": USER,
        "password": PASSWORD,
        "type": "0",
        "dlr": "0",
        "destination": "33612345678",
        "source": "SANDBOX",
        "message": "Hello",
    }
    merged = {k: v for k, v in {**defaults, **params}.items() if v is not None}
    return raw_get(client, path, urlencode(merged, quote_via=quote))


def items(answer: str) -> list[tuple[str, str, str]]:
    """The ``code|destination|message_id`` items of an answer."""
    found = []
    for item in answer.split(","):
        code, destination, msg_id = item.split("|")
        found.append((code, destination, msg_id))
    return found


def submissions(client: TestClient) -> list[dict[str, Any]]:
    """The admin API's submission list."""
    found = client.get("/_sandbox/submissions", params={"provider": "bulkgw"}).json()
    assert isinstance(found["submissions"], list)
    return found["submissions"]


def balance(client: TestClient, username: str = USER) -> float:
    """The account's balance in the shared store."""
    account = context(client).store.account(f"bulkgw:{username}")
    assert account is not None
    return account.balance


def drain(client: TestClient) -> None:
    """Send every callback due at the fake clock's time."""
    asyncio.run(context(client).callbacks.drain())


def query(url: str) -> dict[str, str]:
    """A callback URL's query parameters (UTF-8)."""
    return dict(parse_qsl(urlsplit(url).query))
