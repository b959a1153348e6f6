"""Recording helpers called where outcomes are already known. None of them ever raises.

Metrics must never break a send: every helper swallows its own errors and logs the first one
of each kind (then stays quiet, so a broken metrics directory cannot flood the worker log).
prometheus_client is imported on the first call, not when this module is: a Celery worker sets
``PROMETHEUS_MULTIPROC_DIR`` after importing the services (dispatcher.metrics.multiprocess).
"""

from __future__ import annotations

import logging
import re
import sys
from collections.abc import Callable, Iterable
from functools import wraps
from typing import TYPE_CHECKING, Any, ParamSpec

if TYPE_CHECKING:
    import httpx

    from dispatcher.domain.models import PollResult, SendResult
    from dispatcher.domain.placement import Placement
    from dispatcher.providers.base import Provider
    from dispatcher.providers.http import Exchange

log = logging.getLogger(__name__)

P = ParamSpec("P")
_failed: set[str] = set()

# Provider methods that start a request, and the operation label each gives it. The outermost
# one on the stack names the operation (Envoyer's reconciliation reads reports by polling: it
# is a reconcile request).
ENTRY_POINTS = {
    "execute_send": "send",
    "fetch_reports": "poll",
    "find_submission": "reconcile",
    "cancel": "cancel",
    "balance": "balance",
    "discover_rate_limit": "rate_limit",
    "stop_list_contains": "stop_list",
    "stop_list_add": "stop_list",
    "stop_list_remove": "stop_list",
}
# The entry points that record their own parsed outcome and code (not the HTTP one).
_PARSED = frozenset({"execute_send", "fetch_reports"})
_POLL_WORDS = {"accepted": "ok", "transient": "transient", "permanent": "permanent"}
_WORD = re.compile(r"^[a-z][a-z_-]{0,30}$")


def safe(func: Callable[P, None]) -> Callable[P, None]:
    @wraps(func)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> None:
        try:
            func(*args, **kwargs)
        except Exception:
            _once(func.__name__)

    return wrapper


def _metrics() -> Any:
    from dispatcher.metrics import definitions

    return definitions


# -- provider requests ------------------------------------------------------------------------


def entry_points(adapter: object, depth: int = 24) -> list[str]:
    """The adapter's request-starting methods on the caller's stack, innermost first."""
    found: list[str] = []
    frame = sys._getframe(1)
    for _ in range(depth):
        if frame is None:
            break
        name = frame.f_code.co_name
        if name in ENTRY_POINTS and frame.f_locals.get("self") is adapter:
            found.append(name)
        frame = frame.f_back  # type: ignore[assignment]
    return found


def operation(adapter: object) -> str:
    found = entry_points(adapter)
    return ENTRY_POINTS[found[-1]] if found else "other"


@safe
def provider_exchange(adapter: Provider, answer: Exchange, seconds: float) -> None:
    """One HTTP exchange (providers/base.py ``_exchange``): its time always; its outcome and
    answer code unless a parsing entry point records its own."""
    from dispatcher.metrics.codes import bounded_code

    d = _metrics()
    found = entry_points(adapter)
    op = ENTRY_POINTS[found[-1]] if found else "other"
    account, provider = adapter.account.name, adapter.name
    d.PROVIDER_REQUEST_SECONDS.labels(account, provider, op).observe(seconds)
    if found and found[0] in _PARSED:
        return
    status = answer.response.status_code if answer.response is not None else None
    d.PROVIDER_ANSWERS.labels(account, provider, bounded_code(provider, None, status)).inc()
    if op == "reconcile":  # counted once per reading by reconcile_read
        return
    if answer.response is None:
        outcome = answer.outcome.value if answer.outcome is not None else "unknown"
    else:
        judged = adapter.http_outcome(answer.response.status_code)
        outcome = "ok" if judged is None else judged.value
    d.PROVIDER_REQUESTS.labels(account, provider, op, outcome).inc()


@safe
def provider_send(adapter: Provider, result: SendResult) -> None:
    from dispatcher.metrics.codes import bounded_code

    d = _metrics()
    account, provider = adapter.account.name, adapter.name
    code = bounded_code(provider, result.code, result.http_status)
    if not result.answered and not result.code:
        code = "none"
    d.PROVIDER_ANSWERS.labels(account, provider, code).inc()
    d.PROVIDER_REQUESTS.labels(account, provider, "send", result.outcome.value).inc()


@safe
def provider_poll(adapter: Provider, result: PollResult, response: httpx.Response | None) -> None:
    from dispatcher.metrics.codes import bounded_code

    d = _metrics()
    account, provider = adapter.account.name, adapter.name
    status = response.status_code if response is not None else None
    code = bounded_code(provider, result.code, status)
    d.PROVIDER_ANSWERS.labels(account, provider, code).inc()
    op = operation(adapter)
    if op == "poll":
        # The catalogue's poll vocabulary: ok (reports read), gone, transient, permanent...
        outcome = "gone" if result.gone else _POLL_WORDS.get(result.outcome.value, "unknown")
        d.PROVIDER_REQUESTS.labels(account, provider, op, outcome).inc()


@safe
def reconcile_read(adapter: Provider, placement: Placement) -> None:
    """A reading of the provider's records: found, absent or undecided."""
    d = _metrics()
    outcome = type(placement).__name__.lower()
    d.PROVIDER_REQUESTS.labels(adapter.account.name, adapter.name, "reconcile", outcome).inc()


# -- sending ----------------------------------------------------------------------------------


@safe
def recipients_sent(account: str, result: SendResult, count: int) -> None:
    """Recipients per send outcome: per destination when the provider answered so."""
    d = _metrics()
    if result.rate_limited:
        return  # refused for the request rate: nothing happened to the recipients
    if result.recipients:
        tally: dict[str, int] = {}
        for one in result.recipients:
            tally[one.outcome.value] = tally.get(one.outcome.value, 0) + 1
        for outcome, n in tally.items():
            d.RECIPIENTS.labels(account, outcome).inc(n)
    elif count:
        d.RECIPIENTS.labels(account, result.outcome.value).inc(count)


@safe
def batch_retry(account: str, reason: str) -> None:
    _metrics().BATCH_RETRIES.labels(account, reason).inc()


@safe
def rate_limit_wait(account: str, seconds: float) -> None:
    _metrics().RATE_LIMIT_WAIT.labels(account).observe(max(0.0, seconds))


# -- reports ----------------------------------------------------------------------------------


@safe
def final_reports(account: str, source: str, finals: Iterable[tuple[str, float | None]]) -> None:
    """Recipients that reached a final status: (status, seconds since their batch's acceptance,
    None when unknown). The latency is only observed for reports that came (poll, callback)."""
    d = _metrics()
    tally: dict[str, int] = {}
    for status, latency in finals:
        tally[status] = tally.get(status, 0) + 1
        if latency is not None and source in ("poll", "callback"):
            d.REPORT_LATENCY.labels(account, status).observe(max(0.0, latency))
    for status, n in tally.items():
        d.REPORTS.labels(account, status, source).inc(n)


@safe
def reports(account: str, status: str, source: str, count: int) -> None:
    """``count`` recipients made final without a report (horizon, operator)."""
    if count:
        _metrics().REPORTS.labels(account, status, source).inc(count)


# -- tasks and the HTTP service ---------------------------------------------------------------


def result_word(state: str | None, retval: object) -> str:
    """A task's short result: its Celery state when not plain success, else the service's
    one-word step (``accepted``, ``outside-window``...), else ``ok``."""
    if state and state != "SUCCESS":
        return state.lower()[:32]
    if isinstance(retval, dict):
        for key in ("step", "outcome", "result"):
            value = retval.get(key)
            if isinstance(value, str):
                retval = value
                break
    if isinstance(retval, str) and _WORD.match(retval):
        return retval
    return "ok"


@safe
def task_done(task: str, word: str) -> None:
    _metrics().TASKS.labels(task, word if _WORD.match(word) else "other").inc()


@safe
def callback_received(provider: str) -> None:
    _metrics().CALLBACKS_RECEIVED.labels(provider).inc()


@safe
def http_request(route: str, status: int) -> None:
    _metrics().HTTP_REQUESTS.labels(route, str(status)).inc()


@safe
def scrape_error(source: str) -> None:
    _metrics().SCRAPE_ERRORS.labels(source).inc()


# What a submit step that hands its batch back counts as (dispatcher_batch_retries_total).
RETRY_REASONS = {
    "retry": "transient",
    "rate-limited": "rate_limited",
    "outside-window": "window",
    "paced": "breaker",
}


@safe
def submit_step(account: str, step: str, result: SendResult | None = None, count: int = 0) -> None:
    """A submit that ended: its recipients' outcomes when a request went, and a retry when the
    batch was handed back to wait."""
    if result is not None:
        recipients_sent(account, result, count)
    reason = RETRY_REASONS.get(step)
    if reason is not None:
        batch_retry(account, reason)


def _once(name: str) -> None:
    if name not in _failed:
        _failed.add(name)
        log.warning("metrics: recording %s failed (not again logged)", name, exc_info=True)
