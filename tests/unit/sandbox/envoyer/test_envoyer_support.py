"""Helpers for the Envoyer SMS Pro sandbox tests (no tests here).

Apps are built with only the Envoyer emulator and the fake clock of ``conftest``, so time
moves only when a test says so.
"""

from __future__ import annotations

import base64
import warnings
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import httpx
from lxml import etree
from starlette.applications import Starlette
from starlette.exceptions import StarletteDeprecationWarning

from dispatcher.sandbox import SandboxConfig, create_app
from dispatcher.sandbox.envoyer import EnvoyerEmulator
from tests.unit.sandbox.conftest import FakeClock

with warnings.catch_warnings():
    # As in conftest: Starlette 1.x prefers httpx2 for its test client; httpx works the same.
    warnings.simplefilter("ignore", StarletteDeprecationWarning)
    from starlette.testclient import TestClient

LOGIN, PASSWORD = "sandbox", "sandbox-token"
AUTH = (LOGIN, PASSWORD)
KEY = "envoyer:sandbox:1"
# Default timeline: gateway after 2 s, final after 5 s + up to 3 s of per-number spread.
GATEWAY, ALL_FINAL = 2.0, 8.0
FORM = {"content-type": "application/x-www-form-urlencoded"}


class Clients:
    """Builds test clients over fresh apps and closes them at teardown."""

    def __init__(self, clock: FakeClock) -> None:
        self.clock = clock
        self._open: list[TestClient] = []

    def __call__(self, section: dict[str, Any] | None = None, **config: Any) -> TestClient:
        providers = {} if section is None else {"envoyer": section}
        sandbox = SandboxConfig(providers=providers, **config)
        return self.wrap(create_app(sandbox, clock=self.clock, emulators=(EnvoyerEmulator,)))

    def wrap(self, app: Starlette) -> TestClient:
        """A client over an app built elsewhere, closed at teardown too."""
        client = TestClient(app)
        self._open.append(client)
        return client

    def close(self) -> None:
        for client in self._open:
            client.close()


def basic(user: str, secret: str) -> dict[str, str]:
    """An Authorization header for HTTP Basic (solution 1 of "Authentification")."""
    token = base64.b64encode(f"{user}:{secret}".encode()).decode()
    return {"authorization": f"Basic {token}"}


def call(
    client: TestClient,
    path: str,
    method: str = "GET",
    auth: tuple[str, str] | None = AUTH,
    **params: str,
) -> httpx.Response:
    """One API call, parameters in the query (GET) or a form body (POST)."""
    return request(client, path, params, method=method, auth=auth)


def request(
    client: TestClient,
    path: str,
    params: Mapping[str, str],
    *,
    method: str = "GET",
    auth: tuple[str, str] | None = AUTH,
) -> httpx.Response:
    """:func:`call` with the parameters as a mapping."""
    headers = basic(*auth) if auth else {}
    response: httpx.Response
    if method == "GET":
        response = client.get(f"/api/{path}?{urlencode(params)}", headers=headers)
    else:
        body = urlencode(params).encode()
        response = client.post(f"/api/{path}", content=body, headers={**headers, **FORM})
    return response


def send(
    client: TestClient,
    method: str = "POST",
    auth: tuple[str, str] | None = AUTH,
    **params: str,
) -> httpx.Response:
    """``message/send`` with a valid sendername and text unless given."""
    return send_params(client, params, method=method, auth=auth)


def send_params(
    client: TestClient,
    params: Mapping[str, str],
    *,
    method: str = "POST",
    auth: tuple[str, str] | None = AUTH,
) -> httpx.Response:
    """:func:`send` with the parameters as a mapping."""
    full = {"text": "Hello", "sendername": "Societe", "recipients": "33612345678", **params}
    return request(client, "message/send", full, method=method, auth=auth)


@dataclass
class Answer:
    """A parsed XML answer."""

    status: int
    root: etree._Element

    def get(self, path: str) -> str:
        found = self.root.findtext(path)
        assert found is not None, f"no {path} in the answer"
        return found

    @property
    def error(self) -> tuple[int, int, str]:
        """(HTTP status, error_id, trimmed error_message) of a failure."""
        assert self.get("status") == "fail"
        return self.status, int(self.get("error/error_id")), self.get("error/error_message").strip()


def parse(response: httpx.Response) -> Answer:
    return Answer(response.status_code, etree.fromstring(response.content))


def sent_id(response: httpx.Response) -> str:
    """The message_id of a successful send (fails on anything else)."""
    answer = parse(response)
    assert (answer.status, answer.get("status")) == (200, "success"), response.text
    return answer.get("message/message_id")


def error_of(response: httpx.Response) -> tuple[int, int, str]:
    return parse(response).error


def submissions(client: TestClient) -> list[dict[str, Any]]:
    found = client.get("/_sandbox/submissions", params={"provider": "envoyer"}).json()
    result = found["submissions"]
    assert isinstance(result, list)
    return result


def only_submission(client: TestClient) -> dict[str, Any]:
    found = submissions(client)
    assert len(found) == 1
    return found[0]


def remaining(client: TestClient, auth: tuple[str, str] = AUTH) -> int:
    return int(parse(call(client, "account/status", auth=auth)).get("account/sms_remaining"))


def numbers(count: int, start: int = 0) -> str:
    """``count`` distinct French mobiles, comma-separated."""
    return ",".join(f"336{i:08d}" for i in range(start, start + count))
