"""Producers' API keys: every route of the producer API is wrapped in ``producer_only``.

A request proves itself with ``Authorization: Bearer <key>`` (RFC 6750 section 2.1: the
scheme in any case, one space, then the key). A bare key, another scheme or a malformed
header is refused like a wrong key. The key is taken as bytes and hashed; only digests are
compared (services.api_keys), so a token of any characters, ASCII or not, is a 401, never an
error. The name of the key that passed is kept on the request (:func:`key_name`) for the
handler: a campaign records which key created it.

Provider callbacks do not come here: they prove themselves with the account's secret in
their path (callbacks.py).
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable
from typing import cast

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dispatcher.api.state import deps
from dispatcher.services.api_keys import SettingsKeys, identify

Handler = Callable[[Request], Awaitable[Response]]

REFUSED = {"error": "missing or wrong bearer token"}


def install_settings_keys(app: Starlette, keys: SettingsKeys) -> None:
    """``DISPATCHER_API_TOKENS`` hashed once, when the application is made."""
    app.state.settings_keys = keys


def bearer_token(header: str) -> bytes | None:
    """The key of an ``Authorization`` header, as bytes; None unless it is ``Bearer <key>``."""
    scheme, space, token = header.partition(" ")
    if scheme.lower() != "bearer" or not space or not token or token.split() != [token]:
        return None
    # Starlette decodes header bytes as latin-1; surrogatepass makes any str encodable.
    return token.encode("utf-8", "surrogatepass")


def key_name(request: Request) -> str:
    """The name of the key the request was let in with (only inside ``producer_only``)."""
    return cast(str, request.state.api_key)


def producer_only(handler: Handler) -> Handler:
    """``handler``, answering 401 before it runs when the request has no valid key."""

    @functools.wraps(handler)
    async def checked(request: Request) -> Response:
        name = await _identified(request)
        if name is None:
            return JSONResponse(
                REFUSED, status_code=401, headers={"WWW-Authenticate": 'Bearer realm="producers"'}
            )
        request.state.api_key = name
        return await handler(request)

    return checked


async def _identified(request: Request) -> str | None:
    token = bearer_token(request.headers.get("authorization", ""))
    if token is None:
        return None
    known = cast(SettingsKeys, request.app.state.settings_keys)  # install_settings_keys
    return await run_in_threadpool(identify, deps(request), known, token)
