"""GET /health: the process is up and serving requests (it checks no other server)."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route


async def health(_: Request) -> Response:
    return JSONResponse({"ok": True})


ROUTES = [Route("/health", health)]
