"""Celery beat's schedule: the sweeper (due campaigns, lost or due batches, due polls), the
reaper, the reconciler of unknown outcomes and retention's archiving (which does nothing
unless ``DISPATCHER_RETENTION_DAYS`` is set). Their intervals come from settings."""

from __future__ import annotations

from typing import Any

from dispatcher.queueing import (
    ARCHIVE_TASK,
    DRAIN_CALLBACKS_TASK,
    REAP_TASK,
    RECONCILE_TASK,
    SWEEP_TASK,
)
from dispatcher.settings import Timings


def beat_schedule(timings: Timings) -> dict[str, dict[str, Any]]:
    return {
        "sweep": {
            "task": SWEEP_TASK,
            "schedule": timings.sweep_interval_seconds,
            "options": {"expires": timings.sweep_interval_seconds * 4},
        },
        "drain-callbacks": {
            "task": DRAIN_CALLBACKS_TASK,
            "schedule": timings.callback_drain_interval_seconds,
            "options": {"expires": timings.callback_drain_interval_seconds * 4},
        },
        "reap": {
            "task": REAP_TASK,
            "schedule": timings.reap_interval_seconds,
            "options": {"expires": timings.reap_interval_seconds * 4},
        },
        "reconcile": {
            "task": RECONCILE_TASK,
            "schedule": timings.reconcile_interval_seconds,
            "options": {"expires": timings.reconcile_interval_seconds * 4},
        },
        "archive": {
            "task": ARCHIVE_TASK,
            "schedule": timings.archive_interval_seconds,
            "options": {"expires": timings.archive_interval_seconds},
        },
    }
