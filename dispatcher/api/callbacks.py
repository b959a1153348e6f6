"""What providers push to us: delivery reports (callbacks) and SMS sent to us (inbound).

    GET|POST /callbacks/{provider}/{account}/{secret}   delivery reports
    GET|POST /inbound/{provider}/{account}/{secret}     replies, STOP

A provider without the capability (``accepts_callbacks``, ``accepts_inbound``) gets 404.
A delivery report is checked by the adapter's parser, recorded in the callback inbox (group
commit, inbox.py) and answered 200 only once committed; workers apply it later. A report the
adapter cannot read is refused with 400, so the provider's own logs show it; one that cannot
be recorded now is answered 503, so the provider calls again. Inbound SMS are few and are
applied at once.
"""

from __future__ import annotations

import hmac
from typing import Literal
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from dispatcher.api.state import deps, inbox
from dispatcher.errors import CallbackError, ConfigurationError, InboxUnavailableError
from dispatcher.metrics import record as metrics
from dispatcher.providers.base import Provider
from dispatcher.services.opt_outs import receive_inbound


async def callback(request: Request) -> Response:
    """Check the report, record it durably, then answer: workers apply it (inbox)."""
    found = await _pushed(request, "callbacks")
    if isinstance(found, Response):
        return found
    account, params, adapter = found
    try:
        adapter.parse_callback(params)
    except CallbackError as exc:
        return PlainTextResponse(f"bad report: {exc}", status_code=400)
    try:
        await inbox(request).record(account, urlencode(params))
    except InboxUnavailableError:
        return PlainTextResponse("cannot record the report now; call again", status_code=503)
    metrics.callback_received(adapter.name)
    return PlainTextResponse("OK")


async def inbound(request: Request) -> Response:
    found = await _pushed(request, "inbound")
    if isinstance(found, Response):
        return found
    account, params, _ = found
    try:
        outcome = await run_in_threadpool(receive_inbound, deps(request), account, params)
    except CallbackError as exc:
        return PlainTextResponse(f"bad message: {exc}", status_code=400)
    return PlainTextResponse(f"OK {outcome.received}")


async def _pushed(
    request: Request, kind: Literal["callbacks", "inbound"]
) -> tuple[str, dict[str, str], Provider] | Response:
    """The account a provider's push is for, its parameters and adapter; or why it is refused.

    Both routes refuse the same way (unknown account, wrong secret, a provider that never
    pushes this ``kind``: 404), so the checks live here once, in that order.

    Providers call back with no signature of their own, so the secret in the URL is the
    proof; it is compared as bytes in constant time (a secret of any characters, ASCII or
    not, is a 403, never an error) and never logged (see dispatcher.logs).
    """
    provider, account = request.path_params["provider"], request.path_params["account"]
    try:
        settings = deps(request).settings.account(account)
    except ConfigurationError:
        return PlainTextResponse("unknown account", status_code=404)
    secret = settings.callback_secret.get_secret_value() if settings.callback_secret else ""
    if (
        settings.provider != provider
        or not secret
        or not hmac.compare_digest(_utf8(request.path_params["secret"]), _utf8(secret))
    ):
        return PlainTextResponse("forbidden", status_code=403)
    params = dict(request.query_params)
    if request.method == "POST":
        params.update({k: str(v) for k, v in (await request.form()).items()})
    adapter = deps(request).adapters(settings.name)
    if kind == "callbacks" and not adapter.accepts_callbacks:
        return PlainTextResponse(f"{adapter.name} pushes no delivery reports", status_code=404)
    if kind == "inbound" and not adapter.accepts_inbound:
        return PlainTextResponse(f"{adapter.name} forwards no SMS to us", status_code=404)
    return settings.name, params, adapter


def _utf8(value: str) -> bytes:
    """Any str as bytes: ``compare_digest`` refuses str holding non-ASCII characters."""
    return value.encode("utf-8", "surrogatepass")


ROUTES = [
    Route("/callbacks/{provider}/{account}/{secret}", callback, methods=["GET", "POST"]),
    Route("/inbound/{provider}/{account}/{secret}", inbound, methods=["GET", "POST"]),
]
