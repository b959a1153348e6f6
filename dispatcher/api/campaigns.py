"""The producer API: enqueue (or estimate) a campaign, read its progress, export it, act on it.

Every route needs a producer token (auth.py). Service calls are synchronous and run in
Starlette's thread pool; the service's errors become status codes here and nowhere else:
422 a campaign refused (each problem listed), 409 an idempotency conflict or a transition not
allowed, 404 an unknown campaign. A body is read up to ``domain.inputs.MAX_BODY_BYTES`` (413
past it) and parsed with a depth check (422), so no body can cost a 500; its fields then pass
the same check as the Python API's (``domain.inputs``, called by ``services.intake``).
"""

from __future__ import annotations

import tempfile
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime
from typing import IO, Any, Literal

from pydantic import BaseModel, Field, ValidationError
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from dispatcher.api.auth import key_name, producer_only
from dispatcher.api.state import deps
from dispatcher.domain.inputs import MAX_BODY_BYTES, loads
from dispatcher.domain.statuses import CampaignKind
from dispatcher.errors import (
    CampaignValidationError,
    ConfigurationError,
    IdempotencyConflictError,
    IllegalTransitionError,
    NotFoundError,
    Problem,
)
from dispatcher.services import campaigns as campaign_service
from dispatcher.services.actor import key_actor
from dispatcher.services.enqueue import CampaignRequest, enqueue, estimate
from dispatcher.services.intake import MAX_LISTED_PROBLEMS

# Each takes ``actor=``: the audit trail names the key that asked (``key:<name>``).
ACTIONS: dict[str, Callable[..., object]] = {
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
    raw = await _json_body(request)
    if isinstance(raw, Response):
        return raw
    try:
        body = CampaignIn.model_validate(raw)
    except ValidationError as exc:
        return _invalid_body(str(exc), _shape_problems(exc))
    key = request.headers.get("idempotency-key") or body.idempotency_key
    try:
        campaign_request = replace(body.request(key), created_by=key_name(request))
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
                "groups": [g.as_dict() for g in exc.groups],
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
        await run_in_threadpool(
            action, deps(request), campaign_id, actor=key_actor(key_name(request))
        )
    except NotFoundError as exc:
        return JSONResponse({"error": str(exc)}, status_code=404)
    except IllegalTransitionError as exc:
        return JSONResponse({"error": str(exc)}, status_code=409)
    return JSONResponse({"id": campaign_id, "done": request.path_params["action"]})


async def _json_body(request: Request) -> Any:
    """The body parsed, or the answer refusing it: 413 past MAX_BODY_BYTES (read no further),
    422 when it is not JSON or nests deeper than MAX_JSON_DEPTH (never a RecursionError)."""
    too_big = JSONResponse({"error": f"body over {MAX_BODY_BYTES} bytes"}, status_code=413)
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_BODY_BYTES:
        return too_big
    data = bytearray()
    async for chunk in request.stream():
        data += chunk
        if len(data) > MAX_BODY_BYTES:
            return too_big
    try:
        return loads(bytes(data), "the body")
    except ValueError as exc:
        return _invalid_body(str(exc), [Problem("body", str(exc))])


def _shape_problems(exc: ValidationError) -> list[Problem]:
    """pydantic's errors as problems: the field, and for a recipient its 1-based row."""
    problems = []
    for error in exc.errors(include_url=False):
        loc = error["loc"]
        field = str(loc[0]) if loc else "body"
        index = loc[1] if field == "recipients" and len(loc) > 1 else None
        row = index + 1 if isinstance(index, int) else None
        problems.append(Problem(field, error["msg"], row))
    return list(dict.fromkeys(problems))


def _invalid_body(detail: str, problems: list[Problem]) -> JSONResponse:
    shown = problems[:MAX_LISTED_PROBLEMS]
    return JSONResponse(
        {"error": "invalid body", "detail": detail, "problems": [str(p) for p in shown],
         "more": len(problems) - len(shown)},
        status_code=422,
    )  # fmt: skip


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
