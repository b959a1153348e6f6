"""HTTP service.

    POST /campaigns                      enqueue (JSON; ``Authorization: Bearer <token>``);
                                         ``?dry_run=1``: the estimate, nothing enqueued
    GET  /campaigns/{id}                 progress
    GET  /campaigns/{id}/recipients.csv  export
    POST /campaigns/{id}/pause|resume|cancel
    GET|POST /callbacks/{provider}/{account}/{secret}   delivery reports pushed by providers
    GET|POST /inbound/{provider}/{account}/{secret}     SMS sent to us (replies, STOP)
    GET  /health

Producer tokens come from ``DISPATCHER_API_TOKENS``; a callback is accepted only with the
account's ``callback_secret`` in its path. Service calls are synchronous and run in
Starlette's thread pool.
"""

from __future__ import annotations

import contextlib
import hmac
import logging
import tempfile
from collections.abc import AsyncIterator, Callable, Iterator
from datetime import datetime
from typing import IO, Any, Literal
from urllib.parse import urlencode

from pydantic import BaseModel, Field, ValidationError
from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response, StreamingResponse
from starlette.routing import Route

from dispatcher.api.inbox import CallbackInbox, InboxUnavailableError
from dispatcher.domain.statuses import CampaignKind
from dispatcher.errors import (
    CampaignValidationError,
    ConfigurationError,
    IdempotencyConflictError,
    IllegalTransitionError,
    NotFoundError,
)
from dispatcher.persistence.database import libpq_url
from dispatcher.providers.base import CallbackError
from dispatcher.services import campaigns as campaign_service
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue, estimate
from dispatcher.services.opt_outs import receive_inbound

log = logging.getLogger(__name__)

ACTIONS: dict[str, Callable[[Deps, int], object]] = {
    "pause": campaign_service.pause_campaign,
    "resume": campaign_service.resume_campaign,
    "cancel": campaign_service.cancel_campaign,
}


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(1 << 16):
            yield chunk


class CampaignIn(BaseModel):
    """The body of POST /campaigns (schemas/messages/campaign_request.schema.json)."""

    account: str
    text: str
    recipients: list[str | dict[str, Any]] = Field(min_length=1)
    sender: str | None = None
    send_at: datetime | None = None
    idempotency_key: str | None = None
    kind: CampaignKind = CampaignKind.NOTIFICATION
    invalid: Literal["reject", "drop"] = "reject"
    default_region: str | None = None
    options: dict[str, Any] = Field(default_factory=dict)


def create_app(deps_factory: Callable[[], Deps] | None = None) -> Starlette:
    if deps_factory is None:
        from dispatcher.runtime import default_deps

        deps_factory = default_deps
    get_deps = deps_factory

    def authorised(request: Request) -> bool:
        tokens = [t.get_secret_value() for t in get_deps().settings.api_tokens]
        given = request.headers.get("authorization", "").removeprefix("Bearer ").strip()
        return bool(given) and any(hmac.compare_digest(given, t) for t in tokens)

    async def create_campaign(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        try:
            body = CampaignIn.model_validate(await request.json())
        except (ValidationError, ValueError) as exc:
            return JSONResponse({"error": "invalid body", "detail": str(exc)}, status_code=422)
        key = request.headers.get("idempotency-key") or body.idempotency_key
        try:
            campaign_request = CampaignRequest(
                account=body.account,
                text=body.text,
                recipients=body.recipients,
                sender=body.sender,
                send_at=body.send_at,
                idempotency_key=key,
                kind=body.kind,
                invalid=body.invalid,
                default_region=body.default_region,
                options=body.options,
            )
            if request.query_params.get("dry_run") in ("1", "true"):
                found = await run_in_threadpool(estimate, get_deps(), campaign_request)
                return JSONResponse(found.as_dict())
            campaign_id = await run_in_threadpool(enqueue, get_deps(), campaign_request)
        except CampaignValidationError as exc:
            return JSONResponse(
                {
                    "error": "campaign rejected",
                    "problems": [str(p) for p in exc.problems],
                    "more": exc.more,
                },
                status_code=422,
            )
        except IdempotencyConflictError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        except ConfigurationError as exc:
            return JSONResponse({"error": str(exc)}, status_code=422)
        return JSONResponse({"id": campaign_id}, status_code=201)

    async def show_campaign(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        campaign_id = int(request.path_params["campaign_id"])
        try:
            progress = await run_in_threadpool(
                campaign_service.campaign_status, get_deps(), campaign_id
            )
        except NotFoundError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        return JSONResponse(progress.as_dict())

    async def export(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        campaign_id = int(request.path_params["campaign_id"])
        # Spooled to disk past a few MB, so a million-row export keeps the service's memory flat.
        spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 (closed by _chunks)
        try:
            await run_in_threadpool(
                campaign_service.export_recipients, get_deps(), campaign_id, spool
            )
        except NotFoundError as exc:
            spool.close()
            return JSONResponse({"error": str(exc)}, status_code=404)
        spool.seek(0)
        return StreamingResponse(_chunks(spool), media_type="text/csv")

    async def act(request: Request) -> Response:
        if not authorised(request):
            return JSONResponse({"error": "missing or wrong bearer token"}, status_code=401)
        campaign_id = int(request.path_params["campaign_id"])
        action = ACTIONS.get(request.path_params["action"])
        if action is None:
            return JSONResponse({"error": "actions are pause, resume and cancel"}, status_code=404)
        try:
            await run_in_threadpool(action, get_deps(), campaign_id)
        except NotFoundError as exc:
            return JSONResponse({"error": str(exc)}, status_code=404)
        except IllegalTransitionError as exc:
            return JSONResponse({"error": str(exc)}, status_code=409)
        return JSONResponse({"id": campaign_id, "done": request.path_params["action"]})

    async def pushed(request: Request) -> tuple[str, dict[str, str]] | Response:
        """The account a provider's push is for, and its parameters; or why it is refused.

        Providers call back with no signature of their own, so the secret in the URL is the
        proof; it is compared in constant time and never logged (see dispatcher.logs).
        """
        provider, account = request.path_params["provider"], request.path_params["account"]
        try:
            settings = get_deps().settings.account(account)
        except ConfigurationError:
            return PlainTextResponse("unknown account", status_code=404)
        secret = settings.callback_secret.get_secret_value() if settings.callback_secret else ""
        if (
            settings.provider != provider
            or not secret
            or not hmac.compare_digest(request.path_params["secret"], secret)
        ):
            return PlainTextResponse("forbidden", status_code=403)
        params = dict(request.query_params)
        if request.method == "POST":
            params.update({k: str(v) for k, v in (await request.form()).items()})
        return settings.name, params

    async def callback(request: Request) -> Response:
        """Check the report, record it durably, then answer: workers apply it (inbox)."""
        found = await pushed(request)
        if isinstance(found, Response):
            return found
        account, params = found
        try:
            get_deps().adapters(account).parse_callback(params)
        except CallbackError as exc:
            return PlainTextResponse(f"bad report: {exc}", status_code=400)
        try:
            await inbox.record(account, urlencode(params))
        except InboxUnavailableError:
            return PlainTextResponse("cannot record the report now; call again", status_code=503)
        return PlainTextResponse("OK")

    async def inbound(request: Request) -> Response:
        found = await pushed(request)
        if isinstance(found, Response):
            return found
        account, params = found
        try:
            outcome = await run_in_threadpool(receive_inbound, get_deps(), account, params)
        except CallbackError as exc:
            return PlainTextResponse(f"bad message: {exc}", status_code=400)
        return PlainTextResponse(f"OK {outcome.received}")

    async def health(_: Request) -> Response:
        return JSONResponse({"ok": True})

    inbox = CallbackInbox(libpq_url(get_deps().db.url))

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await inbox.start()
        try:
            yield
        finally:
            await inbox.stop()

    return Starlette(
        lifespan=lifespan,
        routes=[
            Route("/health", health),
            Route("/campaigns", create_campaign, methods=["POST"]),
            Route("/campaigns/{campaign_id:int}", show_campaign),
            Route("/campaigns/{campaign_id:int}/recipients.csv", export),
            Route("/campaigns/{campaign_id:int}/{action:str}", act, methods=["POST"]),
            Route("/callbacks/{provider}/{account}/{secret}", callback, methods=["GET", "POST"]),
            Route("/inbound/{provider}/{account}/{secret}", inbound, methods=["GET", "POST"]),
        ],
    )
