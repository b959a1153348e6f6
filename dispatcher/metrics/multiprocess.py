"""Where a Celery worker's pool processes write their metrics (prometheus-client multiprocess
mode), and setting it up before anything counts.

Each pool process writes its counters to memory-mapped files named by its pid in the worker's
directory; the exporter sums every file there. A pool process that dies (killed, or replaced
after ``max_tasks_per_child``) leaves its files behind, so its counts stay in the sums: a
counter never goes down because a process went away.

The directory is one per worker node (``<metrics_dir>/<node name>``), so two workers on one
host do not wipe each other's files, and it is wiped when its worker starts: counters restart
from zero with the worker, which Prometheus reads as a counter reset.

prometheus-client chooses its value class from ``PROMETHEUS_MULTIPROC_DIR`` when it is first
imported, so ``prepare_worker`` must run before any metric is recorded in the worker's main
process (the pool processes are forked from it and inherit the environment). Metrics are only
recorded through dispatcher.metrics.record, which imports prometheus_client on first use; it is
imported earlier all the same (``celery`` loads Flower's command, which imports it), so the
value class is switched here: every worker metric has labels, so no value exists before its
first ``labels()`` in a pool process.
"""

from __future__ import annotations

import logging
import os
import re
import shutil
import sys
from pathlib import Path

from dispatcher.settings import Settings

log = logging.getLogger(__name__)

ENV = "PROMETHEUS_MULTIPROC_DIR"


def metrics_root(settings: Settings) -> Path:
    return settings.metrics_dir or settings.data_dir / "metrics"


def node_dir(settings: Settings, node: str) -> Path:
    """The directory of one worker node (its ``-n`` name, made a safe file name)."""
    safe = re.sub(r"[^A-Za-z0-9_.@-]", "_", node) or "worker"
    return metrics_root(settings) / safe


def prepare_worker(settings: Settings, node: str) -> Path:
    """Wipe and point prometheus-client at this worker's directory (its main process, before
    the pool starts)."""
    path = node_dir(settings, node)
    if path.exists():
        shutil.rmtree(path)
    path.mkdir(parents=True, exist_ok=True)
    os.environ[ENV] = str(path)
    values = sys.modules.get("prometheus_client.values")
    if values is not None and not _is_multiprocess(values):
        values.ValueClass = values.MultiProcessValue()  # type: ignore[attr-defined]
        # Celery's command line loads Flower's plugin, which imports prometheus_client.
        log.info("metrics: prometheus_client imported before %s was set; switched to it", ENV)
    return path


def _is_multiprocess(values: object) -> bool:
    value_class = getattr(values, "ValueClass", None)
    return getattr(value_class, "__name__", "") == "MmapedValue"


def process_dead(pid: int) -> None:
    """A pool process ended: drop its live-gauge files (counters stay, by design)."""
    path = os.environ.get(ENV)
    if not path:
        return
    try:
        from prometheus_client import multiprocess

        multiprocess.mark_process_dead(pid, path)  # type: ignore[no-untyped-call]
    except Exception:
        log.warning("metrics: could not mark process %s dead", pid, exc_info=True)
