"""Every adapter reads a provider's answer as a stream and stops at the cap (issue 11, finding 3).

A provider answering forever is played by a MockTransport whose body never ends; what the
tests assert is how many bytes were pulled from it, never how long it took.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator

import httpx
import pytest

from dispatcher.domain.models import OutboundBatch
from dispatcher.domain.statuses import Outcome
from dispatcher.domain.text import Encoding
from dispatcher.providers.base import Provider
from dispatcher.providers.http import MAX_ANSWER_BYTES, exchange
from dispatcher.providers.registry import REGISTRY
from tests.unit.providers.test_contract import sample_account

CHUNK = 64 * 1024


class Endless:
    """A body that never ends, counting what was taken from it."""

    def __init__(self) -> None:
        self.pulled = 0

    def __iter__(self) -> Iterator[bytes]:
        while True:
            self.pulled += CHUNK
            yield b"<" * CHUNK

    def handler(self, request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=iter(self))


def _adapter(name: str, body: Endless) -> Provider:
    client = httpx.Client(transport=httpx.MockTransport(body.handler))
    return REGISTRY[name](sample_account(name), client, retry_seconds=0)


def _batch(method: str) -> OutboundBatch:
    return OutboundBatch(
        batch_id=1, campaign_id=1, client_ref="b1", text="Hello", encoding=Encoding.GSM,
        segments=1, sender="SHOP", msisdns=["33612345678", "33612345679"],
        recipient_ids=[1, 2], method=method,
    )  # fmt: skip


@pytest.mark.parametrize("name", sorted(REGISTRY))
def test_an_endless_send_answer_is_read_up_to_the_cap_and_is_unknown(name: str) -> None:
    body = Endless()
    adapter = _adapter(name, body)
    batch = _batch(adapter.default_method)
    result = adapter.execute_send(adapter.prepare_send(batch), batch)
    assert result.outcome is Outcome.UNKNOWN
    assert MAX_ANSWER_BYTES < body.pulled <= MAX_ANSWER_BYTES + CHUNK


@pytest.mark.parametrize("name", sorted(n for n, cls in REGISTRY.items() if cls.can_poll))
def test_an_endless_report_answer_is_read_up_to_the_cap_and_is_unknown(name: str) -> None:
    body = Endless()
    result = _adapter(name, body).fetch_reports("12345")
    assert result.outcome is Outcome.UNKNOWN
    assert MAX_ANSWER_BYTES < body.pulled <= MAX_ANSWER_BYTES + CHUNK


def test_an_answer_over_the_cap_came_from_a_provider_that_is_up() -> None:
    """The breaker counts only silence as an outage: a huge answer is an answer."""
    body = Endless()
    client = httpx.Client(transport=httpx.MockTransport(body.handler))
    got = exchange(client, httpx.Request("GET", "https://p.test/"), retry_seconds=0, max_bytes=10)
    assert (got.response, got.outcome, got.answered) == (None, Outcome.UNKNOWN, True)


def test_a_compressed_answer_is_counted_as_it_expands() -> None:
    packed = gzip.compress(b"0" * 1000)

    def handler(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, content=packed, headers={"Content-Encoding": "gzip"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    request = httpx.Request("GET", "https://p.test/")
    assert exchange(client, request, retry_seconds=0, max_bytes=999).response is None
    assert len(packed) < 999


def test_an_answer_under_the_cap_is_read_whole_and_decoded() -> None:
    def handler(request: httpx.Request) -> httpx.Response:
        packed = gzip.compress(b"OK 12")
        return httpx.Response(201, content=packed, headers={"Content-Encoding": "gzip", "X-A": "1"})

    client = httpx.Client(transport=httpx.MockTransport(handler))
    got = exchange(client, httpx.Request("GET", "https://p.test/"), retry_seconds=0).response
    assert got is not None
    assert (got.status_code, got.content, got.headers["x-a"]) == (201, b"OK 12", "1")
    assert "content-encoding" not in got.headers


def test_an_answer_cut_off_halfway_is_unknown() -> None:
    """Read as a stream, a body's failure now happens inside the exchange: still unknown."""

    def cut(request: httpx.Request) -> httpx.Response:
        def body() -> Iterator[bytes]:
            yield b"OK "
            raise httpx.ReadError("connection reset", request=request)

        return httpx.Response(200, content=body())

    client = httpx.Client(transport=httpx.MockTransport(cut))
    got = exchange(client, httpx.Request("GET", "https://p.test/"), retry_seconds=0)
    assert (got.response, got.outcome, got.answered) == (None, Outcome.UNKNOWN, False)
