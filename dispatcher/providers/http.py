"""One HTTP client per process, and the line between "nothing was sent" and "we cannot know".

httpx's transport errors fall on two sides:

* nothing was sent: the connection was never made (refused, DNS, TLS handshake, connect
  timeout) or no connection was free in the pool. These are retried in-process for a few
  seconds (tenacity) and then reported as transient.
* outcome unknown: the request was written, or partly written, and no complete answer came
  back (read timeout, connection dropped, protocol error). The provider may have acted on it,
  so it is never repeated automatically.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

import httpx
from tenacity import (
    Retrying,
    retry_if_exception_type,
    stop_after_delay,
    wait_exponential_jitter,
)

from dispatcher.domain.statuses import Outcome

log = logging.getLogger(__name__)

NOTHING_SENT: tuple[type[Exception], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)
OUTCOME_UNKNOWN: tuple[type[Exception], ...] = (
    httpx.ReadTimeout,
    httpx.WriteTimeout,
    httpx.ReadError,
    httpx.WriteError,
    httpx.RemoteProtocolError,
    httpx.CloseError,
)


@dataclass(frozen=True)
class Exchange:
    """A response, or the outcome a transport failure proves and why."""

    response: httpx.Response | None
    outcome: Outcome | None = None
    error: str = ""


def exchange(client: httpx.Client, request: httpx.Request, *, retry_seconds: float) -> Exchange:
    """Send ``request``; retry only failures that prove nothing left this machine."""
    try:
        for attempt in Retrying(
            retry=retry_if_exception_type(NOTHING_SENT),
            stop=stop_after_delay(retry_seconds),
            wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.1),
            reraise=True,
        ):
            with attempt:
                return Exchange(client.send(request))
    except NOTHING_SENT as exc:
        return Exchange(None, Outcome.TRANSIENT, f"nothing sent: {type(exc).__name__}: {exc}")
    except OUTCOME_UNKNOWN as exc:
        return Exchange(None, Outcome.UNKNOWN, f"no answer: {type(exc).__name__}: {exc}")
    except httpx.HTTPError as exc:  # anything else httpx raises: assume the worst
        return Exchange(None, Outcome.UNKNOWN, f"transport error: {type(exc).__name__}: {exc}")
    raise AssertionError("unreachable")  # pragma: no cover


_clients: dict[int, httpx.Client] = {}


def process_client() -> httpx.Client:
    """The client of this process (built after a fork, never shared across one).

    Timeouts are set per request from each account's settings; the pool's keep-alive expiry is
    kept below common server keep-alive times so that a reused connection is rarely one the
    server is closing, which would turn a good request into an unknown outcome.
    """
    pid = os.getpid()
    client = _clients.get(pid)
    if client is None:
        client = httpx.Client(
            limits=httpx.Limits(
                max_connections=20, max_keepalive_connections=10, keepalive_expiry=2.0
            ),
            timeout=httpx.Timeout(30.0, connect=5.0, pool=5.0),
            follow_redirects=False,
        )
        _clients.clear()
        _clients[pid] = client
    return client
