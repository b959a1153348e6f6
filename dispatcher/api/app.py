"""HTTP service: the routes of each module, the application's state and its lifespan.

    POST /campaigns                      enqueue (JSON; ``Authorization: Bearer <token>``);
                                         ``?dry_run=1``: the estimate, nothing enqueued
    GET  /campaigns/{id}                 progress
    GET  /campaigns/{id}/recipients.csv  export
    POST /campaigns/{id}/pause|resume|cancel                (campaigns.py)
    GET|POST /callbacks/{provider}/{account}/{secret}   delivery reports pushed by providers
    GET|POST /inbound/{provider}/{account}/{secret}     SMS sent to us (replies, STOP)
                                                            (callbacks.py)
    GET  /health, /ready  liveness; database, migrations, broker   (health.py)
    GET  /metrics    Prometheus, no authentication          (metrics.py)

Producers send a named API key as a bearer token (auth.py; ``DISPATCHER_API_TOKENS`` too,
hashed here at start); a callback is accepted only
with the account's ``callback_secret`` in its path. Handlers take the wiring and the callback
inbox from the application's state (state.py); the inbox's writer runs for the application's
lifetime.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Callable

from sqlalchemy.exc import DBAPIError
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from dispatcher.api import callbacks, campaigns, health, metrics
from dispatcher.api.auth import install_settings_keys
from dispatcher.api.inbox import CallbackInbox
from dispatcher.api.state import inbox, install
from dispatcher.persistence.database import libpq_url
from dispatcher.services.api_keys import settings_keys
from dispatcher.services.deps import Deps


def create_app(deps_factory: Callable[[], Deps] | None = None) -> Starlette:
    if deps_factory is None:
        from dispatcher.runtime import default_deps

        deps_factory = default_deps
    app = Starlette(
        lifespan=_lifespan,
        routes=[*health.ROUTES, *campaigns.ROUTES, *callbacks.ROUTES, *metrics.ROUTES],
        exception_handlers={DBAPIError: _database_unavailable},
    )
    install(app, deps_factory, CallbackInbox(libpq_url(deps_factory().db.url)))
    install_settings_keys(app, settings_keys(deps_factory().settings))
    metrics.install(app, deps_factory)
    return app


async def _database_unavailable(_: Request, exc: Exception) -> Response:
    """PostgreSQL unreachable (restarting, say): 503 so the caller tries again, never a 500
    carrying a driver's message."""
    return JSONResponse(
        {"error": "the database is unavailable; try again shortly"},
        status_code=503,
        headers={"Retry-After": "5"},
    )


@contextlib.asynccontextmanager
async def _lifespan(app: Starlette) -> AsyncIterator[None]:
    writer = inbox(app)
    await writer.start()
    try:
        yield
    finally:
        await writer.stop()
