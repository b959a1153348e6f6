"""The worker's metrics, wired through Celery's signals (``install`` in workers/app.py).

    celeryd_init            main process, before the pool: this node's metrics directory,
                            wiped, set as PROMETHEUS_MULTIPROC_DIR (inherited by the pool)
    worker_ready            main process, pool running: the exporter thread when
                            DISPATCHER_METRICS_PORT is set (started after the fork, so no pool
                            process holds its socket's thread)
    task_postrun            pool process: dispatcher_tasks_total{task,result}
    worker_process_shutdown pool process: its live-gauge files dropped (counters stay)

``celeryd_init`` is only sent by ``celery worker``: beat, the API and the CLI import this app
and count nothing here.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from celery import signals

from dispatcher.metrics import multiprocess, record
from dispatcher.settings import Settings

log = logging.getLogger(__name__)

_installed: list[Settings] = []


def install(settings: Settings) -> None:
    if _installed:
        return
    _installed.append(settings)
    signals.celeryd_init.connect(_prepare, weak=False)
    signals.worker_ready.connect(_start_exporter, weak=False)
    signals.task_postrun.connect(_task_done, weak=False)
    signals.worker_process_shutdown.connect(_process_shutdown, weak=False)


def _prepare(sender: Any = None, **_: Any) -> None:
    try:
        path = multiprocess.prepare_worker(_installed[0], str(sender or "worker"))
        log.info("metrics of this worker's pool in %s", path)
    except Exception:
        log.warning("metrics: could not prepare the metrics directory", exc_info=True)


def _start_exporter(**_: Any) -> None:
    settings = _installed[0]
    path = os.environ.get(multiprocess.ENV)
    if settings.metrics_port is None or not path:
        return
    try:
        from dispatcher.metrics.exporter import serve

        serve(Path(path), settings.metrics_host, settings.metrics_port)
    except Exception:  # a port in use must not stop the worker: it only costs its metrics
        log.error(
            "metrics: could not serve on %s:%s",
            settings.metrics_host,
            settings.metrics_port,
            exc_info=True,
        )


def _task_done(sender: Any = None, retval: Any = None, state: str | None = None, **_: Any) -> None:
    name = getattr(sender, "name", None) or "unknown"
    try:
        from workers.outcomes import result_word

        word = result_word(retval)  # "campaign 3 batch 9: unknown (...)" -> "unknown"
    except Exception:
        word = "other"
    if word == "other":  # housekeeping's counts, or an error that is not ours
        word = record.result_word(state, retval)
    record.task_done(str(name), word)


def _process_shutdown(**_: Any) -> None:
    multiprocess.process_dead(os.getpid())
