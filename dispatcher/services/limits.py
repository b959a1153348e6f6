"""Which request-rate limit applies to an account, and taking a slot of it.

The account's ``rate_limit`` setting wins; else the limit the provider says the account has
(Envoyer SMS Pro's ``api_request_limit``), learnt once an hour and shared through Redis; else
the provider's documented default. Asking the provider is itself a request, made with a slot
of the default limit.
"""

from __future__ import annotations

import logging

from dispatcher.errors import ProviderError
from dispatcher.providers.base import Provider
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

LEARNT_FOR_SECONDS = 3600
RETRY_LEARNING_AFTER_SECONDS = 300


def rate_for(deps: Deps, adapter: Provider) -> str:
    account = adapter.account
    if account.rate_limit:
        return account.rate_limit
    key = f"rate:{account.name}"
    learnt = deps.cache.get(key)
    if learnt:
        return learnt
    if not adapter.learns_rate_limit:
        return adapter.default_rate_limit
    if deps.limiter.acquire(account.name, adapter.default_rate_limit) > 0:
        return adapter.default_rate_limit  # no slot to ask now: the default is the safe side
    try:
        discovered = adapter.discover_rate_limit()
    except ProviderError as exc:
        log.warning("could not learn %s's request limit: %s", account.name, exc)
        deps.cache.set(key, adapter.default_rate_limit, RETRY_LEARNING_AFTER_SECONDS)
        return adapter.default_rate_limit
    rate = discovered or adapter.default_rate_limit
    deps.cache.set(key, rate, LEARNT_FOR_SECONDS)
    log.info("account %s: request limit %s", account.name, rate)
    return rate


def take_slot(deps: Deps, adapter: Provider) -> float:
    """0.0 when a request may go now, else the seconds until the account has a free slot."""
    return deps.limiter.acquire(adapter.account.name, rate_for(deps, adapter))
