"""Thin tasks: ids in, one service call, a short string out for the logs and Flower.

A task whose work did not succeed raises (workers/outcomes.py says which and why), so Flower
shows it as FAILURE; every result names its campaign and batch. Beat's housekeeping runs
every second or so and would bury the pipeline's tasks: it has a queue of its own (a plan never
waits behind a sweep), sends no task events (Flower never lists it; beat sends no task-sent
events either, workers/app.py), Celery's "received"/"succeeded" lines for it are dropped, and
it logs one summary line only when it did something; ``dispatcher_tasks_total`` counts it.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping

from celery import signals

from dispatcher import runtime
from dispatcher.errors import NotFoundError
from dispatcher.queueing import (
    ARCHIVE_TASK,
    DRAIN_CALLBACKS_TASK,
    HOUSEKEEPING_TASKS,
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
from workers.outcomes import (
    TaskOutcomeError,
    batch_note,
    campaign_state,
    plan_result,
    poll_result,
    submit_result,
)

log = logging.getLogger(__name__)

# Celery's own per-task lines: "received" (the worker) and "succeeded" (the pool process).
CELERY_TASK_LOGGERS = ("celery.worker.strategy", "celery.app.trace")


class QuietHousekeeping(logging.Filter):
    """Drops Celery's routine INFO lines about housekeeping tasks; their failures still show."""

    def filter(self, record: logging.LogRecord) -> bool:
        args = record.args
        routine = isinstance(args, Mapping) and args.get("name") in HOUSEKEEPING_TASKS
        return not (routine and record.levelno <= logging.INFO)


for _name in CELERY_TASK_LOGGERS:
    logging.getLogger(_name).addFilter(QuietHousekeeping())


def _deps() -> Deps:
    return runtime.default_deps()


@signals.worker_process_init.connect
def _fresh_process(**_: object) -> None:
    """Engines, pools and clients are per process: never use the parent's after a fork."""
    runtime.reset_default_deps()


@app.task(name=PLAN_TASK, throws=(TaskOutcomeError,))
def plan_campaign(campaign_id: int) -> str:
    deps = _deps()
    try:
        planned = plan.plan_campaign(deps, campaign_id)
    except NotFoundError:
        planned, state = [], None
    else:
        state = None if planned else campaign_state(deps, campaign_id)
    return plan_result(campaign_id, planned, state)


@app.task(name=SUBMIT_TASK, throws=(TaskOutcomeError,))
def submit_batch(batch_id: int) -> str:
    deps = _deps()
    step = submit.submit_batch(deps, batch_id)
    return submit_result(batch_id, step, batch_note(deps, batch_id))


@app.task(name=POLL_TASK, throws=(TaskOutcomeError,))
def poll_batch(batch_id: int) -> str:
    deps = _deps()
    step = track.poll_batch(deps, batch_id)
    failed = step is track.PollStep.FAILED
    return poll_result(batch_id, step, batch_note(deps, batch_id, failures=failed))


def housekeeping_summary(job: str, counts: Mapping[str, int]) -> str:
    """``counts`` as one line, logged at INFO only when one of them is not zero."""
    line = ", ".join(f"{count} {what}" for what, count in counts.items())
    if any(counts.values()):
        log.info("%s: %s", job, line)
    return line


@app.task(name=SWEEP_TASK, send_events=False)
def sweep() -> str:
    report = maintenance.sweep(_deps())
    return housekeeping_summary(
        "sweep",
        {
            "campaign(s) started": report.campaigns_started,
            "batch(es) published": report.batches_published,
            "poll(s) published": report.polls_published,
        },
    )


@app.task(name=REAP_TASK, send_events=False)
def reap() -> str:
    report = maintenance.reap(_deps())
    return housekeeping_summary(
        "reap",
        {
            "released": len(report.released),
            "unknown": len(report.unknown),
            "failed by the send deadline": len(report.overdue),
            "recorded from evidence": len(report.replayed),
        },
    )


@app.task(name=DRAIN_CALLBACKS_TASK, send_events=False)
def drain_callbacks() -> str:
    report = callbacks.drain_inbox(_deps())
    return housekeeping_summary(
        "callbacks",
        {"recorded": report.recorded, "applied": report.applied, "malformed": report.malformed},
    )


@app.task(name=RECONCILE_TASK, send_events=False)
def reconcile_unknown() -> str:
    report = reconcile.reconcile_due(_deps())
    looked = {s.value: report.count(s) for s in reconcile.Step if s is not reconcile.Step.WAITING}
    return housekeeping_summary(
        "reconcile", looked
    )  # a batch still waiting is logged by the service


@app.task(name=ARCHIVE_TASK, send_events=False)
def archive_expired() -> str:
    archived = retention.archive_expired(_deps())
    if archived:
        log.info("archive: campaign(s) %s", ", ".join(str(a.campaign_id) for a in archived))
    return f"{len(archived)} archived"
