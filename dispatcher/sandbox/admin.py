"""Admin API under ``/_sandbox/``: what the product's tests, demo and benchmark drive.

There is no authentication: the sandbox is a local test double and ``python -m
dispatcher.sandbox`` binds 127.0.0.1 by default. Do not expose it on a shared network.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from dispatcher.sandbox.context import AdminError, ProviderEmulator, SandboxContext
from dispatcher.sandbox.faults import FaultRuleError

PREFIX = "/_sandbox"

Handler = Callable[[Request], Awaitable[Response]]


def _error(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


async def _json_object(request: Request) -> Mapping[str, Any]:
    try:
        data = json.loads(await request.body() or b"{}")
    except json.JSONDecodeError as exc:
        raise AdminError(400, f"invalid JSON: {exc}") from exc
    if not isinstance(data, dict):
        raise AdminError(400, "the body must be a JSON object")
    return data


def _handles_errors(handler: Handler) -> Handler:
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except AdminError as exc:
            return _error(exc.status, exc.message)

    return wrapped


class AdminApi:
    """Routes of the admin API over one context and its emulators."""

    def __init__(self, ctx: SandboxContext, emulators: Mapping[str, ProviderEmulator]) -> None:
        self.ctx = ctx
        self.emulators = dict(emulators)

    def routes(self) -> list[BaseRoute]:
        """Every admin route with its full path."""
        table: list[tuple[str, Handler, list[str]]] = [
            ("/health", self.health, ["GET"]),
            ("/stats", self.stats, ["GET"]),
            ("/submissions", self.submissions, ["GET"]),
            ("/faults", self.list_faults, ["GET"]),
            ("/faults", self.add_fault, ["POST"]),
            ("/faults", self.clear_faults, ["DELETE"]),
            ("/faults/{fault_id}", self.delete_fault, ["DELETE"]),
            ("/reset", self.reset, ["POST"]),
            ("/replies", self.reply, ["POST"]),
        ]
        return [
            Route(PREFIX + path, _handles_errors(handler), methods=methods)
            for path, handler, methods in table
        ]

    async def health(self, request: Request) -> Response:
        """Liveness probe."""
        return JSONResponse({"ok": True})

    async def stats(self, request: Request) -> Response:
        """Request counters per provider endpoint and acceptance totals."""
        keys = [key for emulator in self.emulators.values() for key in emulator.stat_keys()]
        return JSONResponse(self.ctx.store.stats(keys))

    async def submissions(self, request: Request) -> Response:
        """Accepted submissions, oldest first; filters: provider, text_contains, ref_client."""
        provider = request.query_params.get("provider")
        text = request.query_params.get("text_contains")
        ref = request.query_params.get("ref_client")
        found = [
            sub.to_json()
            for sub in self.ctx.store.submissions.values()
            if (provider is None or sub.provider == provider)
            and (text is None or text in sub.text)
            and (ref is None or sub.ref_client == ref)
        ]
        return JSONResponse({"submissions": found})

    async def list_faults(self, request: Request) -> Response:
        """Fault rules in matching order, with their ``applied`` and ``remaining`` counts."""
        return JSONResponse({"faults": [rule.to_json() for rule in self.ctx.faults.rules()]})

    async def add_fault(self, request: Request) -> Response:
        """Add one rule; answers its id."""
        try:
            rule = self.ctx.faults.add(await _json_object(request))
        except FaultRuleError as exc:
            raise AdminError(400, str(exc)) from exc
        return JSONResponse({"id": rule.id})

    async def clear_faults(self, request: Request) -> Response:
        """Remove every rule."""
        return JSONResponse({"deleted": self.ctx.faults.clear()})

    async def delete_fault(self, request: Request) -> Response:
        """Remove one rule by id."""
        fault_id = request.path_params["fault_id"]
        if not self.ctx.faults.remove(fault_id):
            raise AdminError(404, f"no fault rule {fault_id}")
        return JSONResponse({"deleted": 1})

    async def reset(self, request: Request) -> Response:
        """Back to the start configuration: no submissions, zero counters, configured
        balances, pending callbacks dropped, and only the config file's fault rules."""
        ctx = self.ctx
        ctx.store.reset()
        ctx.callbacks.clear()
        ctx.faults.clear()
        for raw in ctx.config.faults:
            ctx.faults.add(raw)
        return JSONResponse({"ok": True})

    async def reply(self, request: Request) -> Response:
        """Simulate a recipient's reply; body ``{"provider", "sms_id", "numero", "message"}``."""
        payload = await _json_object(request)
        name = payload.get("provider", "smsmode")
        emulator = self.emulators.get(name) if isinstance(name, str) else None
        if emulator is None:
            raise AdminError(400, f"unknown provider {name!r}")
        return JSONResponse(emulator.reply(payload))
