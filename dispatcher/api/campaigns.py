"""The producer API: enqueue (or estimate) a campaign, read its progress, export it, act on it.

Every route needs a producer token (auth.py). Service calls are synchronous and run in
Starlette's thread pool; the service's errors become status codes here and nowhere else:
422 a campaign refused (each problem listed), 409 an idempotency conflict or a transition not
allowed, 404 an unknown campaign.
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import IO, Any, Literal

from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from dispatcher.api.auth import producer_only
from dispatcher.api.state import deps
from dispatcher.domain.statuses import CampaignKind
from dispatcher.errors import (
    CampaignValidationError,
    ConfigurationError,
    IdempotencyConflictError,
    IllegalTransitionError,
    NotFoundError,
)
from dispatcher.services import campaigns as campaign_service
from dispatcher.services.deps import Deps
from dispatcher.services.enqueue import CampaignRequest, enqueue, estimate

ACTIONS: dict[str, Callable[[Deps, int], object]] = {
    "pause": campaign_service.pause_campaign,
    "resume": campaign_service.resume_campaign,
    "cancel": campaign_service.cancel_campaign,
}


class CampaignIn(BaseModel):
    """The body of POST /campaigns: the fields of ``services.enqueue.CampaignRequest`` as JSON.

    Only the shape is checked here; ``options`` stays a JSON object because enqueue parses it
    with the account's provider's model (``domain.options.CampaignOptions`` or its subclass),
    which refuses an unknown or ill-typed option by name, like every other problem.
    """

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

    def request(self, idempotency_key: str | None) -> CampaignRequest:
        return CampaignRequest(
            account=self.account,
            text=self.text,
            recipients=self.recipients,
            sender=self.sender,
            send_at=self.send_at,
            idempotency_key=idempotency_key,
            kind=self.kind,
            invalid=self.invalid,
            default_region=self.default_region,
            options=self.options,
        )


@producer_only
async def create_campaign(request: Request) -> Response:
    """Enqueue; with ``?dry_run=1``, the estimate instead and nothing enqueued."""
    try:
        body = CampaignIn.model_validate(await request.json())
    except (ValidationError, ValueError) as exc:
        return JSONResponse({"error": "invalid body", "detail": str(exc)}, status_code=422)
    key = request.headers.get("idempotency-key") or body.idempotency_key
    try:
        campaign_request = body.request(key)
        if request.query_params.get("dry_run") in ("1", "true"):
            found = await run_in_threadpool(estimate, deps(request), campaign_request)
            return JSONResponse(found.as_dict())
        campaign_id = await run_in_threadpool(enqueue, deps(request), campaign_request)
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


@producer_only
async def show_campaign(request: Request) -> Response:
    campaign_id = int(request.path_params["campaign_id"])
    try:
        progress = await run_in_threadpool(
            campaign_service.campaign_status, deps(request), campaign_id
        )
    except NotFoundError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    return JSONResponse(progress.as_dict())


@producer_only
async def export(request: Request) -> Response:
    campaign_id = int(request.path_params["campaign_id"])
    # Spooled to disk past a few MB, so a million-row export keeps the service's memory flat.
    spool = tempfile.SpooledTemporaryFile(max_size=8 << 20)  # noqa: SIM115 (closed by _chunks)
    try:
        await run_in_threadpool(
            campaign_service.export_recipients, deps(request), campaign_id, spool
        )
    except NotFoundError as exc:
        spool.close()
        return JSONResponse({"error": str(exc)}, status_code=404)
    spool.seek(0)
    return StreamingResponse(_chunks(spool), media_type="text/csv")


@producer_only
async def act(request: Request) -> Response:
    """POST /campaigns/{id}/pause|resume|cancel."""
    campaign_id = int(request.path_params["campaign_id"])
    action = ACTIONS.get(request.path_params["action"])
    if action is None:
        return JSONResponse({"error": "actions are pause, resume and cancel"}, status_code=404)
    try:
        await run_in_threadpool(action, deps(request), campaign_id)
    except NotFoundError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    except IllegalTransitionError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    return JSONResponse({"id": campaign_id, "done": request.path_params["action"]})


def _chunks(spool: IO[bytes]) -> Iterator[bytes]:
    with spool:
        while chunk := spool.read(1 << 16):
            yield chunk


ROUTES = [
    Route("/campaigns", create_campaign, methods=["POST"]),
    Route("/campaigns/{campaign_id:int}", show_campaign),
    Route("/campaigns/{campaign_id:int}/recipients.csv", export),
    Route("/campaigns/{campaign_id:int}/{action:str}", act, methods=["POST"]),
]
