"""Transport failures split into "nothing was sent" (retried briefly, then transient) and
"the outcome is unknown" (never repeated)."""

from __future__ import annotations

import httpx
import pytest

from dispatcher.domain.statuses import Outcome
from dispatcher.providers.http import exchange


def _client(handler: object) -> httpx.Client:
    return httpx.Client(transport=httpx.MockTransport(handler))  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("error", "outcome"),
    [
        (httpx.ConnectError("refused"), Outcome.TRANSIENT),
        (httpx.ConnectTimeout("slow connect"), Outcome.TRANSIENT),
        (httpx.PoolTimeout("no connection free"), Outcome.TRANSIENT),
        (httpx.ReadTimeout("no answer"), Outcome.UNKNOWN),
        (httpx.WriteTimeout("half sent"), Outcome.UNKNOWN),
        (httpx.RemoteProtocolError("server disconnected"), Outcome.UNKNOWN),
        (httpx.ReadError("reset"), Outcome.UNKNOWN),
    ],
)
def test_a_transport_failure_proves_its_outcome(error: Exception, outcome: Outcome) -> None:
    def fail(request: httpx.Request) -> httpx.Response:
        raise error

    answer = exchange(
        _client(fail), httpx.Request("POST", "http://provider.test/send"), retry_seconds=0
    )
    assert answer.response is None
    assert answer.outcome is outcome


def test_nothing_sent_is_retried_in_process_until_it_goes_through() -> None:
    calls = []

    def flaky(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        if len(calls) < 3:
            raise httpx.ConnectError("refused")
        return httpx.Response(200, text="0 | Accepted | abc")

    answer = exchange(
        _client(flaky), httpx.Request("GET", "http://provider.test/"), retry_seconds=5
    )
    assert answer.response is not None
    assert len(calls) == 3


def test_an_unknown_outcome_is_never_retried() -> None:
    calls = []

    def timeout(request: httpx.Request) -> httpx.Response:
        calls.append(request)
        raise httpx.ReadTimeout("no answer")

    exchange(_client(timeout), httpx.Request("POST", "http://provider.test/"), retry_seconds=5)
    assert len(calls) == 1
