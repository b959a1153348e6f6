"""Producers' bearer tokens: every route of the producer API is wrapped in ``producer_only``.

Tokens come from ``DISPATCHER_API_TOKENS`` and are compared in constant time, each one, so
the answer's timing tells nothing about how much of a guess was right. Provider callbacks do
not come here: they prove themselves with the account's secret in their path (callbacks.py).
"""

from __future__ import annotations

import functools
import hmac
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dispatcher.api.state import deps

Handler = Callable[[Request], Awaitable[Response]]


def authorised(request: Request) -> bool:
    tokens = [t.get_secret_value() for t in deps(request).settings.api_tokens]
    given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
    return bool(given) and any(hmac.compare_digest(given, t) for t in tokens)


def producer_only(handler: Handler) -> Handler:
    """``handler``, answering 401 before it runs when the request has no valid token."""

    @functools.wraps(handler)
    async def checked(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        return await handler(request)

    return checked
