"""The default timings keep issue 8's recovery targets (docs/architecture.md, "Timings"): a
dead worker's claim back in work within 10 s, a lost poll within 15 s, sending resumed within
15 s of a Redis wipe; and the claim lease outlasts the one request a claim may wait on."""

from __future__ import annotations

import httpx

from dispatcher.cache import MemoryCache
from dispatcher.providers.registry import REGISTRY
from dispatcher.services import limits
from dispatcher.settings import AccountSettings, Timings

DEFAULTS = Timings()


def test_a_dead_workers_claim_is_handed_back_and_published_within_10_seconds() -> None:
    # The lease runs out, then the next reap hands the batch back and publishes it.
    assert DEFAULTS.claim_lease_seconds + DEFAULTS.reap_interval_seconds <= 10


def test_a_lost_poll_is_published_again_within_15_seconds() -> None:
    # The poll lease runs out, then the next sweep publishes the poll again.
    assert DEFAULTS.poll_lease_seconds + DEFAULTS.sweep_interval_seconds <= 15


def test_a_redis_wipe_is_repaired_by_the_next_sweep_well_within_15_seconds() -> None:
    assert DEFAULTS.sweep_interval_seconds <= 5


def test_the_claim_lease_is_twice_the_slowest_rate_limit_question() -> None:
    """The only request between a claim and ``mark_sending``: Envoyer SMS Pro's limit,
    asked with the bounded adapter of services/limits.py (connect, then read)."""
    account = AccountSettings(
        name="e", provider="envoyer", base_url="https://e.test", username="u", password="p"
    )
    adapter = REGISTRY["envoyer"](account, httpx.Client(), retry_seconds=0)
    quick = limits.bounded(adapter, limits.ASK_SECONDS)
    slowest = (quick.timeout.connect or 0.0) + (quick.timeout.read or 0.0)
    assert slowest > 0
    assert 2 * slowest <= DEFAULTS.claim_lease_seconds


def test_adding_to_the_cache_sets_only_a_key_that_is_absent() -> None:
    cache = MemoryCache()
    assert cache.add("epoch", "a", 60) is True
    assert cache.add("epoch", "b", 60) is False
    assert cache.get("epoch") == "a"


def test_adding_to_the_cache_succeeds_again_once_the_cache_is_wiped() -> None:
    cache = MemoryCache()
    cache.add("epoch", "a", 60)
    cache.values.clear()
    assert cache.add("epoch", "b", 60) is True
