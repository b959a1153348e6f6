"""The state side of the metrics: read from PostgreSQL and Redis at scrape time.

Served once, by the HTTP service's ``/metrics`` (api/metrics.py): campaigns and batches per
state, held and unknown batches per account, the progress of every campaign still moving, the
oldest overdue scheduled campaign (beat down shows up there), queue depths, circuit breakers
and the callback inbox. A source that cannot be read is counted in
``dispatcher_scrape_errors_total{source}`` and its families are left out; the scrape still
answers with the rest.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator
from typing import Any

import redis
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector

from dispatcher.breaker import BreakerState
from dispatcher.metrics import record
from dispatcher.metrics.definitions import STATE_METRICS
from dispatcher.persistence import metrics as queries
from dispatcher.queueing import QUEUES
from dispatcher.runtime import resolve_endpoints
from dispatcher.services.deps import Deps

log = logging.getLogger(__name__)

# kombu's Redis transport keeps a queue's prioritised messages in sibling lists.
PRIORITY_SUFFIXES = ("", "\x06\x163", "\x06\x166", "\x06\x169")
REDIS_TIMEOUT_SECONDS = 2.0


def _family(name: str) -> GaugeMetricFamily:
    _kind, labels, help_text = STATE_METRICS[name]
    return GaugeMetricFamily(name, help_text, labels=list(labels))


def circuit_value(state: BreakerState, now: float) -> float:
    """1 open, 0.5 half-open (a probe is out), 0 closed."""
    if not state.is_open:
        return 0.0
    return 0.5 if state.probe_until > now else 1.0


class StateCollector(Collector):
    def __init__(self, deps_factory: Callable[[], Deps]) -> None:
        self._deps_factory = deps_factory
        self._redis: redis.Redis | None = None

    def describe(self) -> list[Any]:
        return []  # read at scrape time only, never at registration

    def collect(self) -> Iterator[GaugeMetricFamily]:
        try:
            deps = self._deps_factory()
        except Exception:
            log.warning("metrics: no wiring for the state collector", exc_info=True)
            record.scrape_error("postgres")
            return
        yield from self._postgres(deps)
        yield from self._broker(deps)

    # -- PostgreSQL ---------------------------------------------------------------------------

    def _postgres(self, deps: Deps) -> Iterator[GaugeMetricFamily]:
        try:
            with deps.db.transaction() as conn:
                snap = queries.read_state(conn)
        except Exception as exc:
            log.warning(
                "metrics: PostgreSQL unreadable for the state metrics: %s", type(exc).__name__
            )
            record.scrape_error("postgres")
            return
        campaigns = _family("dispatcher_campaigns")
        for state, n in sorted(snap.campaigns.items()):
            campaigns.add_metric([state], n)
        batches = _family("dispatcher_batches")
        for state in queries.LIVE_BATCH_STATES:
            batches.add_metric([state], snap.batches.get(state, 0))
        stuck = _family("dispatcher_stuck_batches")
        for (account, state), n in sorted(snap.stuck.items()):
            stuck.add_metric([account, state], n)
        progress = _family("dispatcher_campaign_recipients")
        for (campaign_id, account), counts in sorted(snap.progress.items()):
            for status, n in sorted(counts.items()):
                progress.add_metric([str(campaign_id), account, status], n)
        overdue = _family("dispatcher_scheduled_overdue_seconds")
        overdue.add_metric([], max(0.0, snap.overdue_seconds))
        inbox = _family("dispatcher_callback_inbox_pending")
        inbox.add_metric([], snap.inbox_pending)
        yield from (campaigns, batches, stuck, progress, overdue, inbox)

    # -- Redis ---------------------------------------------------------------------------------

    def _client(self, deps: Deps) -> redis.Redis:
        if self._redis is None:
            self._redis = redis.Redis.from_url(
                resolve_endpoints(deps.settings).broker_url,
                socket_timeout=REDIS_TIMEOUT_SECONDS,
                socket_connect_timeout=REDIS_TIMEOUT_SECONDS,
            )
        return self._redis

    def _broker(self, deps: Deps) -> Iterator[GaugeMetricFamily]:
        try:
            client = self._client(deps)
            pipe = client.pipeline(transaction=False)
            for queue in QUEUES:
                for suffix in PRIORITY_SUFFIXES:
                    pipe.llen(queue + suffix)
            lengths = pipe.execute()
        except Exception as exc:  # unreachable, or no broker configured
            log.warning(
                "metrics: the broker is unreadable for the state metrics: %s", type(exc).__name__
            )
            record.scrape_error("redis")
            return
        depth = _family("dispatcher_queue_depth")
        step = len(PRIORITY_SUFFIXES)
        for i, queue in enumerate(QUEUES):
            depth.add_metric([queue], sum(int(n) for n in lengths[i * step : (i + 1) * step]))
        circuit = _family("dispatcher_circuit_open")
        now = time.time()
        for account in sorted(deps.settings.accounts):
            circuit.add_metric([account], circuit_value(deps.breaker.state(account), now))
        yield from (depth, circuit)
