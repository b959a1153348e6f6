"""Task names, queues and the producer's side of the broker.

Producers (``enqueue_campaign``) publish by task name, so the library never imports the
worker's modules. Messages carry ids only: no numbers, texts or credentials, because the
broker and Flower show arguments to whoever can read them.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from celery import Celery

PLAN_QUEUE, SUBMIT_QUEUE, POLL_QUEUE = "plan", "submit", "poll"
# Beat's periodic jobs have a queue of their own: a campaign's plan never waits behind a sweep
# (issue 10 measured 2-4 s), nor a report drain behind a backlog of polls. Every worker launch
# together must consume all of QUEUES (tests/unit/test_workers_config.py greps for them).
HOUSEKEEPING_QUEUE = "housekeeping"
QUEUES = (PLAN_QUEUE, SUBMIT_QUEUE, POLL_QUEUE, HOUSEKEEPING_QUEUE)

PLAN_TASK = "dispatcher.plan_campaign"
SUBMIT_TASK = "dispatcher.submit_batch"
POLL_TASK = "dispatcher.poll_batch"
SWEEP_TASK = "dispatcher.sweep"
REAP_TASK = "dispatcher.reap"
DRAIN_CALLBACKS_TASK = "dispatcher.drain_callbacks"
RECONCILE_TASK = "dispatcher.reconcile"
ARCHIVE_TASK = "dispatcher.archive_expired"
# Beat's periodic jobs: no task events, so Flower lists only the campaigns' work (workers/tasks.py).
HOUSEKEEPING_TASKS = frozenset(
    {SWEEP_TASK, REAP_TASK, DRAIN_CALLBACKS_TASK, RECONCILE_TASK, ARCHIVE_TASK}
)

ROUTES = {
    PLAN_TASK: {"queue": PLAN_QUEUE},
    SUBMIT_TASK: {"queue": SUBMIT_QUEUE},
    POLL_TASK: {"queue": POLL_QUEUE},
    **{name: {"queue": HOUSEKEEPING_QUEUE} for name in HOUSEKEEPING_TASKS},
}


def broker_config(broker_url: str, visibility_timeout: int) -> dict[str, Any]:
    """What producers and workers must agree on."""
    return {
        "broker_url": broker_url,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_routes": ROUTES,
        "task_default_queue": PLAN_QUEUE,
        "task_ignore_result": True,
        "result_backend": None,
        "broker_transport_options": {"visibility_timeout": visibility_timeout},
        "broker_connection_retry_on_startup": True,
    }


def producer_app(broker_url: str, visibility_timeout: int) -> Celery:
    app = Celery("dispatcher-producer", set_as_current=False)
    app.conf.update(broker_config(broker_url, visibility_timeout))
    return app


class CeleryPublisher:
    """Publishes wake-up messages; a lost one is re-published by the sweeper."""

    def __init__(self, app: Celery) -> None:
        self.app = app

    def plan(self, campaign_id: int) -> None:
        self.app.send_task(PLAN_TASK, args=[campaign_id])

    def submit(self, batch_ids: Sequence[int]) -> None:
        self._many(SUBMIT_TASK, batch_ids)

    def poll(self, batch_ids: Sequence[int]) -> None:
        self._many(POLL_TASK, batch_ids)

    def _many(self, name: str, ids: Sequence[int]) -> None:
        if not ids:
            return
        with self.app.producer_or_acquire() as producer:
            for one in ids:
                self.app.send_task(name, args=[one], producer=producer)
