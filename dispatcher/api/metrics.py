"""GET /metrics: this process's own metrics and the state collector, for Prometheus.

Served without authentication, as Prometheus scrapes: the figures carry no credential, number
or text (labels are account names, states, route templates), and an operator who wants it
private binds the service to a private address or filters the path at the proxy (README,
"Metrics"). The pool processes' metrics are not here: the workers' exporter serves them.

``http_requests_total`` is counted by a small ASGI middleware with the route's template
(``/campaigns/{campaign_id}``), never the path, so ids and callback secrets never become labels.
"""

from __future__ import annotations

import re
from collections.abc import Callable

from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from dispatcher.metrics import (
    definitions,  # noqa: F401 (registers this process's counters)
    record,
)
from dispatcher.metrics.state import StateCollector
from dispatcher.services.deps import Deps

# "/campaigns/{campaign_id:int}" is labelled "/campaigns/{campaign_id}".
_CONVERTOR = re.compile(r"\{(\w+):\w+\}")


def install(app: Starlette, deps_factory: Callable[[], Deps]) -> None:
    """The state collector of this application (its own registry, so two apps in one test
    process do not register it twice) and the request counter."""
    registry = CollectorRegistry(auto_describe=False)
    registry.register(StateCollector(deps_factory))
    app.state.metrics_registry = registry
    app.add_middleware(RequestCounter)


async def metrics(request: Request) -> Response:
    state: CollectorRegistry = request.app.state.metrics_registry
    body = await run_in_threadpool(_render, state)
    return Response(body, media_type=CONTENT_TYPE_LATEST)


def _render(state: CollectorRegistry) -> bytes:
    return generate_latest(REGISTRY) + generate_latest(state)


class RequestCounter:
    """Counts every answered request by route template and status."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        status = 500

        async def sending(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, sending)
        finally:
            route = getattr(scope.get("route"), "path", None)
            record.http_request(_CONVERTOR.sub(r"{\1}", route) if route else "unmatched", status)


ROUTES = [Route("/metrics", metrics, methods=["GET"])]
