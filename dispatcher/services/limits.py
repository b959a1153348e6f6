"""Which request-rate limit applies to an account, and taking a slot of it.

The account's ``rate_limit`` setting wins. Else a provider that tells an account's limit
(Envoyer SMS Pro's ``api_request_limit``, "FONCTION SMS RESTANT") is asked once an hour, and
its answer is shared through Redis and kept in PostgreSQL. While it cannot be asked, the limit
it gave last applies, else the documented default: never a limit above the last one learnt,
which may be below the default (the document's 100 an hour is only "par défaut").

Asking is itself a request. It takes a slot of the fallback limit in the account's one log of
requests (ratelimit.py), so it also counts in the learnt window: "à partir de la première
requête" ("Les limites du nombre de requête") starts the window with that question, and an
account of N requests never gets N + 1. One worker asks at a time; the others hand their batch
back for a moment rather than ask too. The question is bounded (``ASK_SECONDS``, no
in-process retry) because it is asked while a batch is claimed: no answer is better than a
late one, the fallback is safe.
"""

from __future__ import annotations

import copy
import logging

import httpx

from dispatcher.errors import ProviderError
from dispatcher.persistence import limits as learnt
from dispatcher.providers.base import Provider
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

LEARNT_FOR_SECONDS = 3600
RETRY_LEARNING_AFTER_SECONDS = 300
ASK_SECONDS = 2.0
# One question at a time per account, across workers: longer than a bounded question lasts.
ASKING = "1 per 5 seconds"
ASKING_WAIT_SECONDS = 1.0  # another worker is asking: its answer comes within ASK_SECONDS


def take_slot(deps: Deps, adapter: Provider, *, discover: bool = True) -> float:
    """0.0 when a request may go now, else the seconds until the account has a free slot.

    ``discover=False`` never asks the provider its limit (enqueue's path, which must not wait
    on a provider): the fallback applies until a worker has learnt it.
    """
    rate = known_rate(deps, adapter)
    if rate is None and discover:
        rate = _learn(deps, adapter)
        if rate is None:
            return ASKING_WAIT_SECONDS
    return deps.limiter.acquire(adapter.account.name, rate or fallback(deps, adapter))


def known_rate(deps: Deps, adapter: Provider) -> str | None:
    """The setting, the provider's default when it tells nothing, else what it said within the
    hour (or the fallback kept after a failed question); None when it should be asked."""
    account = adapter.account
    if account.rate_limit:
        return account.rate_limit
    if not adapter.learns_rate_limit:
        return adapter.default_rate_limit
    return deps.cache.get(_key(adapter))


def fallback(deps: Deps, adapter: Provider) -> str:
    """While the provider cannot be asked: what it said last, else its documented default."""
    with deps.db.transaction() as conn:
        last = learnt.last_learnt(conn, adapter.account.name)
    return last or adapter.default_rate_limit


def bounded(adapter: Provider, seconds: float) -> Provider:
    """The adapter for a question asked on someone's critical path: it gives up after about
    ``seconds`` and never retries in process (a refused connection fails at once)."""
    account = adapter.account
    quick = copy.copy(adapter)
    connect = min(seconds / 2, account.connect_timeout)
    quick.timeout = httpx.Timeout(min(seconds, account.read_timeout), connect=connect, pool=connect)
    quick.retry_seconds = 0
    return quick


def _learn(deps: Deps, adapter: Provider) -> str | None:
    """Ask the provider the account's limit. Returns the limit to take a slot of, or None
    while another worker is asking."""
    name = adapter.account.name
    if deps.limiter.acquire(f"{name}:asking", ASKING) > 0:
        return None
    floor = fallback(deps, adapter)
    if deps.limiter.acquire(name, floor) > 0:
        return floor  # no slot to ask with: the caller waits for one under the fallback
    try:
        discovered = bounded(adapter, ASK_SECONDS).discover_rate_limit()
    except ProviderError as exc:
        log.warning("could not learn %s's request limit, using %s: %s", name, floor, exc)
        deps.cache.set(_key(adapter), floor, RETRY_LEARNING_AFTER_SECONDS)
        return floor
    if discovered is None:
        log.warning("%s's provider gave no request limit, using %s", name, floor)
    else:
        with deps.db.transaction() as conn:
            learnt.remember(conn, name, discovered, at=deps.clock())
        log.info("account %s: request limit %s", name, discovered)
    rate = discovered or floor
    deps.cache.set(_key(adapter), rate, LEARNT_FOR_SECONDS)
    return rate


def _key(adapter: Provider) -> str:
    return f"rate:{adapter.account.name}"
