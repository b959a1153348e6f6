"""The Celery app of the workers and beat: ``celery -A workers.app worker|beat``.

At-least-once delivery without duplicates: late acks, rejected (so redelivered) when a worker
dies, prefetch 1, JSON only, time limits. Duplicates are stopped by the database claim, not
by the broker.
"""

from __future__ import annotations

from celery import Celery

from dispatcher.logs import configure_logging
from dispatcher.queueing import broker_config
from dispatcher.runtime import resolve_endpoints
from dispatcher.settings import get_settings
from workers import log_context, metrics, statements
from workers.beat import beat_schedule

settings = get_settings()
configure_logging(settings.log_level, settings.log_format)

broker_url = resolve_endpoints(settings).broker_url
app = Celery("dispatcher", include=["workers.tasks"])
app.conf.update(
    broker_config(broker_url, settings.visibility_timeout_seconds),
    task_acks_late=True,
    task_reject_on_worker_lost=True,
    worker_prefetch_multiplier=1,
    task_time_limit=settings.timings.task_time_limit_seconds,
    task_soft_time_limit=max(1, settings.timings.task_time_limit_seconds - 30),
    worker_hijack_root_logger=False,
    worker_send_task_events=True,  # for Flower
    # Beat is this app's only publisher (producers use queueing.producer_app) and publishes
    # only housekeeping, which Flower must not list (workers/tasks.py).
    task_send_sent_event=False,
    # A task that raises (workers/outcomes.py) is acknowledged, never redelivered: its outcome
    # is already committed. Celery's default, stated because late acks depend on it.
    task_acks_on_failure_or_timeout=True,
    beat_schedule=beat_schedule(settings.timings),
    enable_utc=True,
)

statements.install(broker_url)  # only when the benchmark asks for it
log_context.install()  # log lines name the task's campaign or batch
metrics.install(settings)  # Prometheus: the pool's metrics directory, exporter, task counts
