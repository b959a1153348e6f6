"""The real server process over HTTP on 127.0.0.1: connection faults, callbacks, shutdown.

These behaviours only exist on a real socket (a dropped connection, a client-side read
timeout, callbacks to a real receiver), so they run ``python -m dispatcher.sandbox`` in a
subprocess and stop it by PID. Waits are bounded polls, never timed assertions.
"""

from __future__ import annotations

import os
import select
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[3]
TOKEN = "sandbox-token"


class Sandbox:
    """A running sandbox process."""

    def __init__(self, process: subprocess.Popen[str], url: str) -> None:
        self.process = process
        self.url = url

    def stop(self) -> int:
        """SIGTERM by PID; returns the exit status."""
        os.kill(self.process.pid, signal.SIGTERM)
        return self.process.wait(timeout=30)


def start_sandbox(*args: str) -> Sandbox:
    process = subprocess.Popen(
        [sys.executable, "-m", "dispatcher.sandbox", "--port", "0", *args],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        text=True,
    )
    assert process.stdout is not None
    ready, _, _ = select.select([process.stdout], [], [], 30)
    line = process.stdout.readline() if ready else ""
    if not line.startswith("sandbox listening on http://127.0.0.1:"):
        process.kill()
        pytest.fail(f"sandbox did not start: {line!r}")
    return Sandbox(process, line.strip().removeprefix("sandbox listening on "))


@pytest.fixture(scope="module")
def sandbox() -> Iterator[Sandbox]:
    running = start_sandbox("--fast")
    yield running
    if running.process.poll() is None:
        running.stop()


@pytest.fixture
def http(sandbox: Sandbox) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sandbox.url, timeout=10) as client:
        client.post("/_sandbox/reset").raise_for_status()
        yield client


def wait_for(condition: Callable[[], bool], limit: float = 15.0) -> None:
    """Poll until ``condition`` holds; fails (instead of hanging) after ``limit`` seconds."""
    deadline = time.monotonic() + limit
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("condition not reached")
        time.sleep(0.05)


def send_form(client: httpx.Client, **params: str) -> httpx.Response:
    return client.post("/http/1.6/sendSMS.do", data={"accessToken": TOKEN, **params})


def submissions(client: httpx.Client) -> list[dict[str, Any]]:
    found = client.get("/_sandbox/submissions").json()["submissions"]
    assert isinstance(found, list)
    return found


def test_accept_then_drop_is_a_transport_error_but_the_sms_is_accepted(
    http: httpx.Client,
) -> None:
    http.post(
        "/_sandbox/faults",
        json={"provider": "smsmode", "endpoint": "send", "action": {"type": "accept_then_drop"}},
    ).raise_for_status()
    with pytest.raises(httpx.TransportError):
        send_form(http, message="dropped", numero="33612345678")
    assert [s["text"] for s in submissions(http)] == ["dropped"]


def test_accept_then_timeout_times_the_client_out_but_the_sms_is_accepted(
    http: httpx.Client,
) -> None:
    http.post(
        "/_sandbox/faults",
        json={"endpoint": "send", "action": {"type": "accept_then_timeout", "delay": 3}},
    ).raise_for_status()
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            "/http/1.6/sendSMS.do",
            data={"accessToken": TOKEN, "message": "slow", "numero": "33612345678"},
            timeout=0.3,
        )
    assert [s["text"] for s in submissions(http)] == ["slow"]


def test_the_server_keeps_answering_while_a_request_is_held(http: httpx.Client) -> None:
    http.post(
        "/_sandbox/faults",
        json={"endpoint": "send", "action": {"type": "accept_then_timeout", "delay": 3}},
    ).raise_for_status()
    with pytest.raises(httpx.ReadTimeout):
        http.post(
            "/http/1.6/sendSMS.do",
            data={"accessToken": TOKEN, "message": "held", "numero": "33612345678"},
            timeout=0.3,
        )
    # The held request is still sleeping server-side; other requests are served meanwhile.
    assert http.get("/_sandbox/health").json() == {"ok": True}


class _Receiver(BaseHTTPRequestHandler):
    calls: list[dict[str, str]]
    failures_left: list[int]

    def do_GET(self) -> None:
        if self.failures_left[0] > 0:
            self.failures_left[0] -= 1
            self.send_response(500)
        else:
            self.calls.append(dict(parse_qsl(urlsplit(self.path).query, encoding="iso8859_15")))
            self.send_response(200)
        self.send_header("content-length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        """Keep the test output quiet."""


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, str]], list[int]]]:
    calls: list[dict[str, str]] = []
    failures_left = [1]
    handler = type("Receiver", (_Receiver,), {"calls": calls, "failures_left": failures_left})
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/dlr", calls, failures_left
    server.shutdown()
    server.server_close()


def test_delivery_reports_are_called_back_with_a_retry_after_a_failure(
    http: httpx.Client, receiver: tuple[str, list[dict[str, str]], list[int]]
) -> None:
    url, calls, failures_left = receiver
    answer = send_form(http, message="cb", numero="0612345678", notification_url=url, refClient="r")
    sms_id = answer.text.split(" | ")[2]
    wait_for(lambda: len(calls) == 2)
    assert [(c["smsID"], c["numero"], c["statut"]) for c in calls] == [
        (sms_id, "33612345678", "13"),
        (sms_id, "33612345678", "11"),
    ]
    assert failures_left == [0]


def test_sigterm_stops_the_server_with_status_0() -> None:
    running = start_sandbox()
    assert running.stop() == 0
