"""Applies a fault action around an emulator endpoint's normal processing.

Shared by every emulator: each endpoint hands over its processing as a coroutine factory and
a way to render a provider error code, and this module decides whether the processing runs
(and so whether anything is accepted) and what goes back on the wire.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.types import Receive, Scope, Send

from dispatcher.sandbox.faults import FaultAction, FaultInjector, Fields
from dispatcher.sandbox.store import Store


class DropConnection(Response):
    """Announces a body that never comes, so the server closes the connection mid-response.

    An ASGI application cannot close a connection without answering: uvicorn turns both an
    exception and a missing response start into a 500. Starting a response with a
    Content-Length and returning without the body makes uvicorn close the transport
    ("ASGI callable returned without completing response"); an HTTP client then sees a
    transport error (httpx: ``RemoteProtocolError``), the closest thing to a lost connection
    after the provider did accept the request.
    """

    def __init__(self) -> None:
        super().__init__(status_code=200, media_type="text/plain")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-type", b"text/plain"), (b"content-length", b"64")],
            }
        )


#: Completes when the client has gone away.
Disconnected = Callable[[], Awaitable[None]]


def disconnection_of(request: Request) -> Disconnected:
    """Waits for the client to disconnect (the request body must already be read)."""

    async def wait() -> None:
        while (await request.receive())["type"] != "http.disconnect":
            pass

    return wait


async def guarded(
    faults: FaultInjector,
    store: Store,
    provider: str,
    endpoint: str,
    fields: Callable[[], Fields],
    process: Callable[[], Awaitable[Response]],
    render_code: Callable[[str], Response],
    disconnected: Disconnected | None = None,
) -> Response:
    """Count the request, then run ``process`` unless a fault rule says otherwise."""
    store.count(f"{provider}.{endpoint}")
    action = faults.pick(provider, endpoint, fields)
    if action is None:
        return await process()
    return await apply(action, process, render_code, disconnected)


async def apply(
    action: FaultAction,
    process: Callable[[], Awaitable[Response]],
    render_code: Callable[[str], Response],
    disconnected: Disconnected | None = None,
) -> Response:
    """Run one action (their meaning is in :mod:`dispatcher.sandbox.faults`).

    ``accept_then_timeout`` holds the answer for ``delay`` seconds or until the client
    disconnects (which is what a client timing out does), so held requests do not pile up
    and do not delay the server's shutdown. ``latency`` always waits its full delay and then
    processes, even if the client has gone: that is the "did it go through?" case.
    """
    kind = action.type
    if kind == "code":
        return render_code(action.code or "31")
    if kind in ("http_status", "garbage"):
        return PlainTextResponse(action.body or "", status_code=action.status or 200)
    if kind == "latency":
        await asyncio.sleep(action.delay)
        return await process()
    response = await process()
    if kind == "accept_then_status":
        # Processed (recorded, billed, reported), but the client reads an error: a provider's
        # HTTP 500 after it had done the work.
        return PlainTextResponse(action.body or "", status_code=action.status or 500)
    if kind == "accept_then_timeout":
        if disconnected is None:
            await asyncio.sleep(action.delay)
        else:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(disconnected(), timeout=action.delay)
        return response
    return DropConnection()
