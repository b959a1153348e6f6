"""Thin tasks: ids in, one service call, a short string out for the logs and Flower."""

from __future__ import annotations

import logging

from celery import signals

from dispatcher import runtime
from dispatcher.queueing import (
    ARCHIVE_TASK,
    DRAIN_CALLBACKS_TASK,
    PLAN_TASK,
    POLL_TASK,
    REAP_TASK,
    RECONCILE_TASK,
    SUBMIT_TASK,
    SWEEP_TASK,
)
from dispatcher.services import (
    callbacks,
    maintenance,
    plan,
    reconcile,
    retention,
    submit,
    track,
)
from dispatcher.services.deps import Deps
from workers.app import app

log = logging.getLogger(__name__)


def _deps() -> Deps:
    return runtime.default_deps()


@signals.worker_process_init.connect
def _fresh_process(**_: object) -> None:
    """Engines, pools and clients are per process: never use the parent's after a fork."""
    runtime.reset_default_deps()


@app.task(name=PLAN_TASK)
def plan_campaign(campaign_id: int) -> str:
    return f"{len(plan.plan_campaign(_deps(), campaign_id))} batches"


@app.task(name=SUBMIT_TASK)
def submit_batch(batch_id: int) -> str:
    return submit.submit_batch(_deps(), batch_id).value


@app.task(name=POLL_TASK)
def poll_batch(batch_id: int) -> str:
    return track.poll_batch(_deps(), batch_id).value


@app.task(name=SWEEP_TASK)
def sweep() -> str:
    report = maintenance.sweep(_deps())
    return (
        f"{report.campaigns_started} started, {report.batches_published} published, "
        f"{report.polls_published} polls"
    )


@app.task(name=REAP_TASK)
def reap() -> str:
    report = maintenance.reap(_deps())
    return f"{len(report.released)} released, {len(report.unknown)} unknown"


@app.task(name=DRAIN_CALLBACKS_TASK)
def drain_callbacks() -> str:
    report = callbacks.drain_inbox(_deps())
    return f"{report.recorded} recorded, {report.applied} applied, {report.malformed} malformed"


@app.task(name=RECONCILE_TASK)
def reconcile_unknown() -> str:
    report = reconcile.reconcile_due(_deps())
    return ", ".join(f"{report.count(s)} {s.value}" for s in reconcile.Step)


@app.task(name=ARCHIVE_TASK)
def archive_expired() -> str:
    archived = retention.archive_expired(_deps())
    return f"{len(archived)} archived: {', '.join(str(a.campaign_id) for a in archived)}"
