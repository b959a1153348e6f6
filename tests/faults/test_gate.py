"""The gate the outage scenarios use: closed means a real refused connection, not a hang-up."""

from __future__ import annotations

import socket
import threading
from collections.abc import Iterator

import httpx
import pytest

from tests.faults.gate import Gate

pytestmark = pytest.mark.faults


@pytest.fixture
def echo() -> Iterator[int]:
    """A one-line echo server on a free port; it answers "slow" after half a second."""
    server = socket.create_server(("127.0.0.1", 0))

    def serve() -> None:
        while True:
            try:
                conn, _ = server.accept()
            except OSError:
                return
            with conn:
                data = conn.recv(1024)
                if data == b"slow":
                    threading.Event().wait(0.5)
                conn.sendall(data)

    threading.Thread(target=serve, daemon=True).start()
    yield server.getsockname()[1]
    server.close()


def _round_trip(port: int) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
        sock.sendall(b"ping")
        return sock.recv(1024)


def test_an_open_gate_forwards_to_its_target(echo: int) -> None:
    gate = Gate(echo)
    gate.open()
    try:
        assert _round_trip(gate.port) == b"ping"
    finally:
        gate.close()


def test_a_closed_gate_refuses_connections_as_a_down_server_does(echo: int) -> None:
    gate = Gate(echo)
    gate.open()
    gate.close()

    with pytest.raises(httpx.ConnectError):
        httpx.get(gate.url, timeout=2)


def test_a_gate_opened_again_forwards_on_the_same_port(echo: int) -> None:
    gate = Gate(echo)
    gate.open()
    gate.close()
    gate.open()
    try:
        assert _round_trip(gate.port) == b"ping"
    finally:
        gate.close()


def test_a_request_waiting_for_its_answer_when_the_gate_closes_still_gets_it(echo: int) -> None:
    gate = Gate(echo)
    gate.open()
    with socket.create_connection(("127.0.0.1", gate.port), timeout=2) as sock:
        sock.sendall(b"slow")
        threading.Event().wait(0.2)  # the request has reached the server
        gate.close()

        assert sock.recv(1024) == b"slow"
