"""One HTTP client per process, and the line between "nothing was sent" and "we cannot know".

httpx's transport errors fall on two sides:

* nothing was sent: the connection was never made (refused, DNS, TLS handshake, connect
  timeout) or no connection was free in the pool. These are retried in-process for a few
  seconds (tenacity) and then reported as transient.
* outcome unknown: the request was written, or partly written, and no complete answer came
  back (read timeout, connection dropped, protocol error). The provider may have acted on it,
  so it is never repeated automatically.

An answer is read as a stream and abandoned at ``MAX_ANSWER_BYTES``: a provider (or anything
standing in its place) that answers 200 MB, or forever, costs a worker that many bytes and no
more. Such an answer came back but cannot be read, so its outcome is unknown, as for any
answer an adapter cannot read; never transient, since the request may have been acted on.
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

# The largest answer any adapter reads. The biggest ones asked for are a 1000-recipient report
# list (about 150 kB) and sMsmode's sent list (at most 1000 messages with their texts, about
# 1 MB: smsmode_list.MAX_OFFSET); a body over this is never parsed.
MAX_ANSWER_BYTES = 4 << 20

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
    """A response read whole, or the outcome a failure proves and why.

    ``answered``: the provider sent a status line (an answer over the cap), so it is up even
    though nothing of the answer can be used; the circuit breaker reads this.
    """

    response: httpx.Response | None
    outcome: Outcome | None = None
    error: str = ""
    answered: bool = False


class _AnswerTooLargeError(Exception):
    """The body went past the cap; the stream was closed there."""


def exchange(
    client: httpx.Client,
    request: httpx.Request,
    *,
    retry_seconds: float,
    max_bytes: int = MAX_ANSWER_BYTES,
) -> Exchange:
    """Send ``request``; retry only failures that prove nothing left this machine."""
    try:
        for attempt in Retrying(
            retry=retry_if_exception_type(NOTHING_SENT),
            stop=stop_after_delay(retry_seconds),
            wait=wait_exponential_jitter(multiplier=0.1, max=1.0, jitter=0.1),
            reraise=True,
        ):
            with attempt:
                streamed = client.send(request, stream=True)
                try:
                    return Exchange(_read_capped(streamed, max_bytes))
                except _AnswerTooLargeError:
                    error = f"answer (HTTP {streamed.status_code}) over {max_bytes} bytes, unread"
                    return Exchange(None, Outcome.UNKNOWN, error, answered=True)
                finally:
                    streamed.close()
    except NOTHING_SENT as exc:
        return Exchange(None, Outcome.TRANSIENT, f"nothing sent: {type(exc).__name__}: {exc}")
    except OUTCOME_UNKNOWN as exc:
        return Exchange(None, Outcome.UNKNOWN, f"no answer: {type(exc).__name__}: {exc}")
    except httpx.HTTPError as exc:  # anything else httpx raises: assume the worst
        return Exchange(None, Outcome.UNKNOWN, f"transport error: {type(exc).__name__}: {exc}")
    raise AssertionError("unreachable")  # pragma: no cover


def _read_capped(streamed: httpx.Response, max_bytes: int) -> httpx.Response:
    """The response with its body read, at most ``max_bytes`` of it (decoded: a compressed
    answer is counted as it expands), or _AnswerTooLargeError.

    The body is counted chunk by chunk as it arrives, so memory holds at most the cap plus one
    chunk. The returned response is a plain one over the bytes read, headers kept but for the
    framing ones (its body is already decoded), so adapters read ``.content`` as before.
    """
    chunks: list[bytes] = []
    size = 0
    for chunk in streamed.iter_bytes():
        size += len(chunk)
        if size > max_bytes:
            raise _AnswerTooLargeError
        chunks.append(chunk)
    headers = [(k, v) for k, v in streamed.headers.multi_items() if k.lower() not in _FRAMING]
    return httpx.Response(
        streamed.status_code,
        headers=headers,
        content=b"".join(chunks),
        request=streamed.request,
        extensions=streamed.extensions,
    )


# Headers about how the body travelled, untrue of the decoded bytes the new response holds.
_FRAMING = frozenset({"content-encoding", "content-length", "transfer-encoding"})


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
